import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');

/** Runs `npm start` as a user would, on a free port, and waits for its banner. */
async function startNpm(): Promise<{ child: ChildProcess; banner: string }> {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', POWERTOOLS_LOG_LEVEL: 'ERROR' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
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
  return { child, banner };
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
