import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IotoSimulator, SEED, type SimulatorOptions } from '../../dev/ioto-simulator';
import {
  formatResult,
  PROBE_CHECKS,
  type ProbeOptions,
  type ProbeReport,
  runProbe,
} from '../../dev/probe/probe';
import { runProbeCommand } from '../../dev/probe/probe-command';
import { catalog } from '../../lambda/catalog/index';
import { encodeUpstreamQuery } from '../../lambda/paging/upstream-query';

/**
 * `npm run probe` over real HTTP against the simulator on 127.0.0.1:0: every check passes on
 * the default simulator, only reads are sent, each simulator switch that answers an open question
 * of docs/ioto-api.md §10 the other way makes its own lines FAIL, and the token appears in no
 * output line.
 */

const ROOT = join(__dirname, '..', '..');
/** A token no line may ever show. */
const CANARY = `canary${randomBytes(16).toString('hex')}`;

/** The Ioto reads, from the catalog itself: operations named find or get that change nothing. */
const READS: ReadonlySet<string> = new Set(
  catalog
    .filter((op) => (op.operation === 'find' || op.operation === 'get') && !op.mutates)
    .map((op) => `${op.controller}/${op.operation}`),
);

interface ProbeRun {
  readonly report: ProbeReport;
  readonly simulator: IotoSimulator;
  readonly lines: string[];
  status(check: string): string | undefined;
  detail(check: string): string;
  failing(): string[];
}

const simulators: IotoSimulator[] = [];
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'ioto-probe-'));
});

afterAll(async () => {
  await Promise.all(simulators.map((simulator) => simulator.close()));
  rmSync(scratch, { recursive: true, force: true });
});

async function startSimulator(options: SimulatorOptions = {}): Promise<IotoSimulator> {
  const simulator = await IotoSimulator.start({ token: CANARY, ...options });
  simulators.push(simulator);
  return simulator;
}

/** Runs the probe against a simulator of its own, prepared by `prepare`. */
async function probe(
  options: SimulatorOptions = {},
  probeOptions: Partial<ProbeOptions> = {},
  prepare: (simulator: IotoSimulator) => void = () => undefined,
): Promise<ProbeRun> {
  const simulator = await startSimulator(options);
  prepare(simulator);
  const report = await runProbe({
    endpoint: new URL(simulator.endpoint),
    token: CANARY,
    authScheme: 'raw',
    ...probeOptions,
  });
  const byCheck = new Map(report.results.map((result) => [result.check, result]));
  return {
    report,
    simulator,
    lines: report.results.map(formatResult),
    status: (check) => byCheck.get(check)?.status,
    detail: (check) => byCheck.get(check)?.detail ?? '',
    failing: () => report.results.filter((r) => r.status === 'FAIL').map((r) => r.check),
  };
}

/** Every request the probe sent was a read of the catalog, over the path and method of one. */
function expectOnlyReads(run: ProbeRun): void {
  const { requests } = run.simulator;
  expect(requests.length).toBe(run.report.calls);
  expect(requests.length).toBeGreaterThan(0);
  for (const request of requests) {
    const key = `${request.controller}/${request.operation}`;
    expect([request.method, request.path, READS.has(key)]).toEqual(['POST', `/tok/${key}`, true]);
  }
}

describe('on the default simulator', () => {
  let run: ProbeRun;

  beforeAll(async () => {
    run = await probe();
  });

  it('reports every check once, and every check passes', () => {
    expect(run.report.results.map((r) => r.check)).toEqual(PROBE_CHECKS);
    expect(run.report.results.filter((r) => r.status !== 'PASS')).toEqual([]);
    expect(run.report.failed).toBe(false);
  });

  it('sends only find and get operations of the catalog', () => {
    expectOnlyReads(run);
    // It did read what the checks need: lists of several controllers, a device, an error.
    const called = new Set(run.simulator.requests.map((r) => `${r.controller}/${r.operation}`));
    expect([...called].sort()).toEqual([
      'account/find',
      'account/get',
      'alert/find',
      'dashboard/find',
      'device/find',
      'device/get',
      'generic/find',
      'user/find',
    ]);
  });

  it('walks pages with cursors written exactly as the proxy writes them', () => {
    const walked = run.simulator.requests.filter(
      (r) => r.query.next !== undefined || r.query.prev !== undefined,
    );
    expect(walked.map((r) => (r.query.next === undefined ? 'prev' : 'next'))).toEqual([
      'next',
      'next',
      'prev',
      'prev',
    ]);
    for (const request of walked) {
      expect(`?${request.rawQuery}`).toBe(encodeUpstreamQuery(request.query));
      expect(request.rawQuery).toMatch(/^limit=2&(next|prev)=%7B%22pk%22/);
    }
  });

  it('compares two accounts for the accountId lines', () => {
    const accounts = new Set(
      run.simulator.requests
        .filter((r) => r.controller === 'alert')
        .map((r) => (r.body as { accountId?: unknown }).accountId),
    );
    expect(accounts).toEqual(new Set([SEED.accounts[0].id, SEED.accounts[1].id]));
    expect(run.detail('accountId alert/find')).toContain('each item naming the account asked for');
  });
});

describe('against a cloud that answers the open questions another way', () => {
  it('fails the round trip when cursors are opaque strings taken back in the body', async () => {
    const run = await probe({ cursors: 'opaque-strings' });
    expect(run.failing()).toEqual(['paging round trip']);
    expect(run.detail('paging round trip')).toMatch(
      /refused its own next cursor .*: 400 text\/plain "Invalid cursor"\. Sent in the JSON body instead, the same cursor was accepted/,
    );
    expect(run.status('paging cursor')).toBe('PASS');
    expect(run.detail('paging cursor')).toContain('an opaque string');
    expect(run.report.failed).toBe(true);
    expectOnlyReads(run);
  });

  it('fails every paged envelope and the paging when lists come bare', async () => {
    const run = await probe({ envelope: 'bare-lists' });
    expect(run.failing()).toEqual([
      'envelope account/find',
      'envelope device/find',
      'envelope alert/find',
      'envelope user/find',
      'envelope generic/find',
      'paging cursor',
      'paging round trip',
    ]);
    expect(run.detail('envelope device/find')).toContain(
      'a bare array where a {data, next, prev} page was due',
    );
    // Unpaged answers keep the shape the proxy assumes.
    expect(run.status('envelope dashboard/find')).toBe('PASS');
    expect(run.status('envelope device/get')).toBe('PASS');
    expectOnlyReads(run);
  });

  it('reports records wrapped in {data}, which the normalizer and the ownership check take', async () => {
    const run = await probe({ envelope: 'wrapped-records' });
    expect(run.detail('envelope account/get')).toContain(
      'wrapped as {data: {...}} rather than bare',
    );
    expect(run.detail('envelope device/get')).toContain(
      'wrapped as {data: {...}} rather than bare',
    );
    expect(run.detail('envelope device/get')).toContain("the proxy's ownership check accepts it");
    expect(run.detail('envelope dashboard/find')).toContain('wrapped as {data: [...]}');
    expect(run.failing()).toEqual([]);
  });

  it('fails device/get when its record would not pass the ownership check', async () => {
    // The probe's first device/get is the one of a real device: answer it without accountId.
    const run = await probe({}, {}, (simulator) =>
      simulator.faults.jsonNext(1, 200, { id: SEED.deviceId }, 'device/get'),
    );
    expect(run.failing()).toEqual(['envelope device/get']);
    expect(run.detail('envelope device/get')).toContain("the proxy's ownership check refuses it");
  });

  it('fails the auth line when the configured scheme is refused, and goes on with the other', async () => {
    const run = await probe({ authScheme: 'raw' }, { authScheme: 'bearer' });
    expect(run.failing()).toEqual(['auth scheme']);
    expect(run.detail('auth scheme')).toContain(
      'IOTO_AUTH_SCHEME=bearer is refused but raw is accepted: set IOTO_AUTH_SCHEME=raw',
    );
    expect(run.status('paging round trip')).toBe('PASS');
  });

  it('passes the auth line for bearer when the cloud takes only bearer', async () => {
    const run = await probe({ authScheme: 'bearer' }, { authScheme: 'bearer' });
    expect(run.failing()).toEqual([]);
    expect(run.detail('auth scheme')).toContain('raw is not');
  });

  it('tells that an Origin is needed when only calls with IOTO_ORIGIN are answered', async () => {
    const origin = 'https://app.example.com';
    const run = await probe({ requiredOrigin: origin }, { origin });
    expect(run.failing()).toEqual([]);
    expect(run.detail('origin')).toMatch(/^needed: without an Origin header the cloud refuses/);
    expect(run.simulator.requests.filter((r) => r.headers.origin !== origin)).toHaveLength(1);
  });

  it('cannot tell about Origin when every call without one is refused', async () => {
    const run = await probe({ requiredOrigin: 'https://app.example.com' });
    expect(run.failing()).toEqual(['auth scheme']);
    expect(run.status('origin')).toBe('UNKNOWN');
    expect(run.detail('origin')).toContain('set IOTO_ORIGIN');
    // Nothing else is tried once no call is accepted.
    expect(run.report.calls).toBe(2);
    expect(run.lines.filter((line) => line.startsWith('UNKNOWN'))).toHaveLength(
      PROBE_CHECKS.length - 1,
    );
  });

  it('fails the error line when a missing record is a 404', async () => {
    const run = await probe({}, {}, (simulator) => {
      // The real device's get passes; the made-up one gets the fault.
      simulator.faults.jsonNext(
        1,
        200,
        { id: SEED.deviceId, accountId: SEED.ownerAccountId },
        'device/get',
      );
      simulator.faults.jsonNext(1, 404, { error: 'Not found' }, 'device/get');
    });
    expect(run.failing()).toEqual(['error: unknown device']);
    expect(run.detail('error: unknown device')).toContain('would answer 502 upstream_error');
  });
});

describe('the accountId lines', () => {
  it('fail when two accounts get items of one account', async () => {
    const item = { id: 'AL-ONE', accountId: SEED.accounts[0].id };
    const run = await probe({}, {}, (simulator) =>
      simulator.faults.jsonNext(2, 200, { data: [item], paged: true }, 'alert/find'),
    );
    expect(run.failing()).toEqual(['accountId alert/find']);
    expect(run.detail('accountId alert/find')).toContain(
      '1 item(s) name another account than the accountId asked for',
    );
  });

  it('cannot tell with one account in sight', async () => {
    const run = await probe({}, {}, (simulator) =>
      simulator.faults.jsonNext(1, 200, { data: [], paged: true }, 'account/find'),
    );
    expect(run.failing()).toEqual([]);
    for (const check of PROBE_CHECKS.filter((c) => c.startsWith('accountId '))) {
      expect([check, run.status(check), run.detail(check)]).toEqual([
        check,
        'UNKNOWN',
        expect.stringContaining('only 1 account(s) visible'),
      ]);
    }
  });
});

describe('the token', () => {
  it('appears in no line, not even when Ioto quotes it back', async () => {
    const run = await probe({ authScheme: 'raw' }, { authScheme: 'bearer' }, (simulator) => {
      simulator.faults.failNext(1, 403, `Authentication failed for ${CANARY}`);
      simulator.faults.jsonNext(1, 400, { error: `Cannot find ${CANARY}` }, 'device/get');
    });
    expect(run.report.failed).toBe(true);
    expect(run.lines.length).toBe(PROBE_CHECKS.length);
    for (const line of run.lines) expect(line).not.toContain(CANARY);
  });
});

describe('the command', () => {
  /** The environment without any Ioto or limit setting of the machine running the tests. */
  const cleanEnv = (extra: Record<string, string>): Record<string, string> => ({
    ...(Object.fromEntries(
      Object.entries(process.env).filter(
        ([name, value]) =>
          value !== undefined && !name.startsWith('IOTO_') && !name.startsWith('UPSTREAM_'),
      ),
    ) as Record<string, string>),
    ...extra,
  });

  const command = async (env: Record<string, string>) => {
    const lines: string[] = [];
    const code = await runProbeCommand(env, (line) => lines.push(line));
    return { code, lines };
  };

  it('probes the embedded simulator without IOTO_ENDPOINT, says so, and exits 0', async () => {
    const { code, lines } = await command({});
    expect(code).toBe(0);
    expect(lines[1]).toContain('this probes the embedded Ioto simulator, not a real cloud');
    const results = lines.filter((line) => /^(PASS|FAIL|UNKNOWN) /.test(line));
    expect(results).toHaveLength(PROBE_CHECKS.length);
    expect(results.filter((line) => line.startsWith('FAIL'))).toEqual([]);
  });

  it('exits 1 on a FAIL against IOTO_ENDPOINT, with the token read from IOTO_TOKEN_FILE', async () => {
    const simulator = await startSimulator({ authScheme: 'raw' });
    const tokenFile = join(scratch, 'token');
    writeFileSync(tokenFile, `${JSON.stringify({ token: CANARY })}\n`);
    const { code, lines } = await command({
      IOTO_ENDPOINT: simulator.endpoint,
      IOTO_TOKEN_FILE: tokenFile,
      IOTO_AUTH_SCHEME: 'bearer',
    });
    expect(code).toBe(1);
    expect(lines.some((line) => line.startsWith('FAIL    auth scheme: '))).toBe(true);
    expect(lines.join('\n')).not.toContain(CANARY);
    expect(lines.join('\n')).not.toContain('embedded');
  });

  it.each([
    [{ IOTO_ENDPOINT: 'http://ioto.example.com' }, 'IOTO_ENDPOINT'],
    [{ IOTO_ENDPOINT: 'https://ioto.example.com' }, 'IOTO_TOKEN_FILE'],
    [{ IOTO_AUTH_SCHEME: 'basic' }, 'IOTO_AUTH_SCHEME'],
    [{ IOTO_ORIGIN: 'https://app.example.com/path' }, 'IOTO_ORIGIN'],
  ])('exits 2 without calling anyone on a bad setting (%j)', async (env, variable) => {
    const { code, lines } = await command(env);
    expect(code).toBe(2);
    expect(lines).toEqual([expect.stringContaining(variable)]);
  });

  it('runs as npm run probe (exit 0), and its bundle exits 1 on a FAIL', async () => {
    const run = promisify(execFile);
    const npm = await run('npm', ['run', '--silent', 'probe'], {
      cwd: ROOT,
      env: cleanEnv({}),
      timeout: 60_000,
    });
    expect(npm.stdout.split('\n').filter((line) => line.startsWith('PASS '))).toHaveLength(
      PROBE_CHECKS.length,
    );

    const simulator = await startSimulator({ authScheme: 'raw' });
    const failed = await run(process.execPath, [join(ROOT, '.local', 'probe.cjs')], {
      cwd: ROOT,
      env: cleanEnv({
        IOTO_ENDPOINT: simulator.endpoint,
        IOTO_TOKEN: CANARY,
        IOTO_AUTH_SCHEME: 'bearer',
      }),
      timeout: 60_000,
    }).then(
      () => ({ code: 0, output: '' }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code,
        output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
      }),
    );
    expect(failed.code).toBe(1);
    expect(failed.output).toContain('FAIL    auth scheme: ');
    expect(failed.output).not.toContain(CANARY);
  }, 90_000);
});

describe('the simulator switches the probe relies on', () => {
  const post = async (
    simulator: IotoSimulator,
    path: string,
    body: unknown,
    query = '',
  ): Promise<{ status: number; json: unknown; text: string }> => {
    const response = await fetch(`${simulator.endpoint}/tok/${path}${query}`, {
      method: 'POST',
      headers: { authorization: CANARY, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text };
  };
  const owner = SEED.ownerAccountId;

  it('wraps a device/get record as {data} with envelope wrapped-records', async () => {
    const simulator = await startSimulator({ envelope: 'wrapped-records' });
    const answer = await post(simulator, 'device/get', { id: SEED.deviceId, accountId: owner });
    expect(answer.json).toEqual({
      data: expect.objectContaining({ id: SEED.deviceId, accountId: owner }),
    });
    // Pages keep their envelope.
    const page = await post(simulator, 'device/find', { accountId: owner }, '?limit=1');
    expect(page.json).toEqual(expect.objectContaining({ data: [expect.anything()], paged: true }));
  });

  it('answers a page as a bare array with envelope bare-lists', async () => {
    const simulator = await startSimulator({ envelope: 'bare-lists' });
    const answer = await post(simulator, 'device/find', { accountId: owner }, '?limit=2');
    expect(Array.isArray(answer.json)).toBe(true);
    expect((answer.json as unknown[]).length).toBe(2);
  });

  it('takes opaque cursors back in the body only, and refuses them on the query string', async () => {
    const simulator = await startSimulator({ cursors: 'opaque-strings' });
    const first = await post(simulator, 'device/find', { accountId: owner }, '?limit=2');
    const next = (first.json as { next?: unknown }).next;
    expect(typeof next).toBe('string');
    const inQuery = await post(
      simulator,
      'device/find',
      { accountId: owner },
      encodeUpstreamQuery({ limit: 2, next: next as string }),
    );
    expect([inQuery.status, inQuery.text]).toEqual([400, 'Invalid cursor']);
    const inBody = await post(simulator, 'device/find', { accountId: owner, next }, '?limit=2');
    expect(inBody.status).toBe(200);
    expect((inBody.json as { data: { id: string }[] }).data.map((d) => d.id)).toEqual(
      SEED.accounts[0].deviceIds.slice(2, 4),
    );
  });

  it('keeps the switches across reset() and refuses unknown values', async () => {
    const simulator = await startSimulator({ envelope: 'bare-lists' });
    simulator.reset();
    expect(simulator.envelope).toBe('bare-lists');
    simulator.envelope = 'reference';
    expect(simulator.envelope).toBe('reference');
    expect(() => {
      simulator.cursors = 'base64' as never;
    }).toThrow(RangeError);
    await expect(IotoSimulator.start({ envelope: 'wrapped' as never })).rejects.toThrow(
      /envelope must be one of/,
    );
  });
});
