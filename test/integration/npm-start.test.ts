import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildSync } from 'esbuild';

const ROOT = join(__dirname, '..', '..');

/**
 * Runs `npm start` as a user would, on a free port, and waits for its banner. `detached` puts
 * npm at the head of a process group of its own, as a terminal runs a command (so the group
 * can be signalled as Ctrl+C signals it); without it npm shares the test's group.
 */
async function startNpm(
  detached = true,
): Promise<{ child: ChildProcess; banner: string; stderr: () => string }> {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', POWERTOOLS_LOG_LEVEL: 'ERROR' },
    detached,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  let banner = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start did not print its banner: ${banner}`)),
      30_000,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      banner += chunk.toString('utf8');
      if (banner.includes('Press Ctrl+C')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}: ${banner}`));
    });
  });
  return { child, banner, stderr: () => stderr };
}

/** Every process below `pid` (children, grandchildren...), from `ps`. */
async function descendantsOf(pid: number): Promise<{ pid: number; args: string }[]> {
  const { stdout } = await promisify(execFile)('ps', ['-eo', 'pid=,ppid=,args=']);
  const rows = stdout
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] ?? '' }));
  const found: { pid: number; args: string }[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const row of rows.filter((r) => r.ppid === parent)) {
      found.push({ pid: row.pid, args: row.args });
      queue.push(row.pid);
    }
  }
  return found;
}

/** The node process that serves the gateway, below npm (not the `sh -c` that names it too). */
async function gatewayPidOf(npmPid: number): Promise<number> {
  const gateway = (await descendantsOf(npmPid)).find((p) =>
    /^\S*node\s.*local-gateway\.cjs/.test(p.args),
  );
  if (gateway === undefined) throw new Error(`no local-gateway.cjs process below npm ${npmPid}`);
  return gateway.pid;
}

/** Whether a process is gone (a zombie waiting for its parent counts as gone). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Whether nothing listens on a loopback port any more. */
const refuses = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

/**
 * A connection kept alive after one answered request, left open: the gateway must close it
 * itself rather than wait for it.
 */
const idleKeepAlive = (port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      if (chunk.toString('latin1').startsWith('HTTP/1.1 ')) resolve();
    });
    socket.on('error', () => undefined);
    socket.write('GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  });

/** The gateway's and the simulator's ports, from the banner. */
function portsOf(banner: string): { gateway: number; simulator: number } {
  const gateway = /local gateway: http:\/\/127\.0\.0\.1:(\d+)/.exec(banner)?.[1];
  const simulator = /embedded simulator at http:\/\/127\.0\.0\.1:(\d+)/.exec(banner)?.[1];
  if (gateway === undefined || simulator === undefined) throw new Error(`no ports in: ${banner}`);
  return { gateway: Number(gateway), simulator: Number(simulator) };
}

/** How long everything `npm start` started may take to stop after a signal. */
const STOP_WITHIN_MS = 5_000;

/**
 * Waits until both ports refuse connections and every listed process is gone, or fails with
 * what is still there once {@link STOP_WITHIN_MS} have passed since `since`.
 */
async function expectStopped(
  ports: { gateway: number; simulator: number },
  pids: readonly number[],
  since: number,
): Promise<void> {
  for (;;) {
    const state = {
      gatewayRefuses: await refuses(ports.gateway),
      simulatorRefuses: await refuses(ports.simulator),
      alive: pids.filter((pid) => !isGone(pid)),
    };
    const stopped = state.gatewayRefuses && state.simulatorRefuses && state.alive.length === 0;
    if (stopped || Date.now() - since > STOP_WITHIN_MS) {
      expect(state).toEqual({ gatewayRefuses: true, simulatorRefuses: true, alive: [] });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm start', () => {
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child?.pid === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    process.kill(-child.pid, 'SIGTERM');
    await exited;
  });

  let base = '';

  it('prints a curl that returns devices from the embedded simulator', async () => {
    const started = await startNpm();
    child = started.child;
    const url = /curl -s -X POST (\S+)/.exec(started.banner)?.[1];
    const authorization = /-H 'authorization: ([^']+)'/.exec(started.banner)?.[1];
    const body = /-d '([^']+)'/.exec(started.banner)?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/device\/find$/);
    expect(authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(started.banner).toContain("-H 'content-type: application/json'");
    base = new URL(url ?? '').origin;

    const response = await fetch(url ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: authorization ?? '' },
      body,
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { data: { id: string }[]; nextPageToken: unknown };
    expect(answer.data).toHaveLength(5);
    expect(answer.data[0]?.id).toEqual(expect.any(String));
    expect(typeof answer.nextPageToken).toBe('string');
  });

  it('accepts a token printed by `npm run --silent token -- globex`', async () => {
    const { stdout } = await promisify(execFile)(
      'npm',
      ['run', '--silent', 'token', '--', 'globex'],
      {
        cwd: ROOT,
      },
    );
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const response = await fetch(`${base}/v1/store/get`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stdout.trim()}` },
      body: JSON.stringify({ deviceId: 'SIMB000001', key: 'firmware' }),
    });
    expect(response.status).toBe(200);
  });

  it('answers 401 problem+json to a call without a token', async () => {
    const response = await fetch(`${base}/v1/device/find`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ code: 'unauthorized', status: 401 });
  });
});

describe('stopping npm start', () => {
  /** Every process started here, ended by pid whatever a test left behind. */
  const started: ChildProcess[] = [];
  /** Gateway processes: once orphaned they are no longer found below npm. */
  const gateways: number[] = [];

  afterEach(async () => {
    const pids = [...gateways.splice(0)];
    for (const child of started.splice(0)) {
      if (child.pid === undefined) continue;
      pids.push(...(await descendantsOf(child.pid)).map((p) => p.pid));
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    for (const pid of pids) if (!isGone(pid)) process.kill(pid, 'SIGKILL');
  });

  const run = async (detached: boolean) => {
    const { child, banner, stderr } = await startNpm(detached);
    started.push(child);
    const npmPid = child.pid ?? 0;
    const gatewayPid = await gatewayPidOf(npmPid);
    gateways.push(gatewayPid);
    const ports = portsOf(banner);
    // Serving, before the signal, with a client holding an idle connection.
    expect(await refuses(ports.gateway)).toBe(false);
    expect(await refuses(ports.simulator)).toBe(false);
    await idleKeepAlive(ports.gateway);
    return { npmPid, gatewayPid, ports, stderr };
  };

  /** The gateway closed everything itself, not by running out of time. */
  const expectClosedInTime = (stderr: () => string) => {
    expect(stderr()).toMatch(/ioto-bff local gateway: stopping \(/);
    expect(stderr()).not.toContain('not closed within');
  };

  // npm forwards SIGINT and SIGTERM to its child. With the script `npm run build:local && node
  // ...` that child is `sh` (dash), not node. On SIGTERM the shell dies without passing it on;
  // the gateway sees its parent go and stops.
  it('stops everything within 5 s on SIGTERM to the npm process alone', async () => {
    const { npmPid, gatewayPid, ports, stderr } = await run(false);
    const since = Date.now();
    process.kill(npmPid, 'SIGTERM');
    await expectStopped(ports, [npmPid, gatewayPid], since);
    expectClosedInTime(stderr);
  }, 40_000);

  // SIGINT is another matter: the shell catches it and keeps waiting for node, which is never
  // told (nothing node could observe changes: its parent and npm both stay). Only a start
  // script that runs node in the shell's place gets the signal to node:
  //   "start": "npm run --silent build:local && exec node --enable-source-maps .local/local-gateway.cjs"
  // Until package.json says so, this test is skipped.
  const startExecsNode = /&&\s*exec\s+node\b/.test(
    (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } })
      .scripts.start,
  );
  (startExecsNode ? it : it.skip)(
    'stops everything within 5 s on SIGINT to the npm process alone (needs `exec node` in the start script)',
    async () => {
      const { npmPid, gatewayPid, ports, stderr } = await run(false);
      const since = Date.now();
      process.kill(npmPid, 'SIGINT');
      await expectStopped(ports, [npmPid, gatewayPid], since);
      expectClosedInTime(stderr);
    },
    40_000,
  );

  it.each(['SIGINT', 'SIGTERM'] as const)(
    "stops everything within 5 s on %s to npm's process group, as a terminal sends Ctrl+C",
    async (signal) => {
      const { npmPid, gatewayPid, ports, stderr } = await run(true);
      const since = Date.now();
      process.kill(-npmPid, signal);
      await expectStopped(ports, [npmPid, gatewayPid], since);
      expectClosedInTime(stderr);
    },
    40_000,
  );

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)(
    'stops everything within 5 s on %s to the gateway process alone, and npm ends too',
    async (signal) => {
      const { npmPid, gatewayPid, ports, stderr } = await run(true);
      const since = Date.now();
      process.kill(gatewayPid, signal);
      await expectStopped(ports, [gatewayPid, npmPid], since);
      expectClosedInTime(stderr);
    },
    40_000,
  );
});

describe('the stop of the local gateway process', () => {
  let dir: string;
  let script: string;

  /** A process that stops as the gateway does, with a close that never ends. */
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ioto-bff-stop-'));
    const entry = join(dir, 'hanging-close.ts');
    writeFileSync(
      entry,
      [
        `import { stopOnRequest } from ${JSON.stringify(join(ROOT, 'dev/local-gateway/main'))};`,
        'const stopper = stopOnRequest({ followParent: false, deadlineMs: 1_000 });',
        'stopper.setCleanup(() => new Promise<void>(() => undefined));',
        'setInterval(() => undefined, 60_000);',
        "process.stdout.write('ready\\n');",
      ].join('\n'),
    );
    script = join(dir, 'hanging-close.cjs');
    buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: script,
      logLevel: 'silent',
    });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const start = async () => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
    });
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.once('exit', (code) => resolve({ code, at: Date.now() })),
    );
    return { child, exited, stderr: () => stderr };
  };

  it('exits after its deadline when closing hangs', async () => {
    const { child, exited, stderr } = await start();
    const since = Date.now();
    child.kill('SIGTERM');
    const { code, at } = await exited;
    expect(code).toBe(0);
    expect(at - since).toBeGreaterThanOrEqual(900);
    expect(at - since).toBeLessThan(STOP_WITHIN_MS);
    expect(stderr()).toContain('stopping (SIGTERM)');
    expect(stderr()).toContain('not closed within 1000 ms');
  });

  it('exits at once on a second signal', async () => {
    const { child, exited } = await start();
    const since = Date.now();
    child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill('SIGINT');
    const { code, at } = await exited;
    expect(code).toBe(1);
    expect(at - since).toBeLessThan(900);
  });
});
