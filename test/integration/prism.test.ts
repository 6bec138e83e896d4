import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SEED, sampleRequests } from '../../dev/ioto-simulator';
import { LOCAL_ISSUER } from '../../dev/local-issuer';
import { catalog, operationKey } from '../../lambda/catalog/index';
import { parseAccessConfig } from '../../lambda/config/access';
import { buildOpenApiDocument } from '../../lambda/docs/openapi-document';
import { fullAccessConfig, TEST_SCOPE } from '../support/access-fixtures';
import { type CallResult, type Rig, startRig, TEST_ENV } from './gateway-harness';

/**
 * Does every real answer match the published description? Stoplight Prism, as a validating
 * proxy in front of the local gateway over the simulator, checks each request and each answer
 * against the document and reports what does not match in the `sl-violations` header. Every
 * catalog operation is called once with a valid body, then every error path the local gateway
 * can produce.
 */

const ROOT = join(__dirname, '..', '..');
/** Prism needs Node 24.18 or newer: the project's own Node 24 (README, "Quick start"). */
const NODE_24 = join(ROOT, 'node_modules', '.bin', 'node');
const PRISM_CLI = join(ROOT, 'node_modules', '@stoplight', 'prism-cli', 'dist', 'index.js');
/** How long Prism may take to load the document before the suite gives up (not an assertion). */
const PRISM_START_LIMIT_MS = 60_000;

const [OWNER, OTHER] = SEED.accounts;
const DEVICE = SEED.deviceId;
const SAMPLE_BODIES = sampleRequests(OWNER);

/** One entry of Prism's `sl-violations` header. */
interface Violation {
  readonly location: readonly string[];
  readonly severity: string;
  readonly code?: string | number;
  readonly message: string;
}

let rig: Rig;
let prism: ChildProcess | undefined;
let prismUrl: string;
let workDir: string;
let prismOutput = '';

/** Starts Prism on a free loopback port and resolves with its URL once it listens. */
function startPrism(document: string, upstream: string): Promise<string> {
  for (const [file, what] of [
    [NODE_24, "the project's Node 24 (the `node` devDependency)"],
    [PRISM_CLI, '@stoplight/prism-cli'],
  ] as const) {
    if (!existsSync(file)) throw new Error(`${what} is missing at ${file}: run npm ci`);
  }
  const child = spawn(
    NODE_24,
    [PRISM_CLI, 'proxy', document, upstream, '--errors=false', '-h', '127.0.0.1', '-p', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prism = child;
  return new Promise((resolve, reject) => {
    const giveUp = setTimeout(() => {
      reject(new Error(`Prism did not start within ${PRISM_START_LIMIT_MS} ms:\n${prismOutput}`));
    }, PRISM_START_LIMIT_MS);
    const collect = (chunk: Buffer) => {
      prismOutput += chunk.toString('utf8');
      const listening = /Prism is listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(prismOutput);
      if (listening?.[1] !== undefined) {
        clearTimeout(giveUp);
        resolve(listening[1]);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', (error) => {
      clearTimeout(giveUp);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(giveUp);
      reject(new Error(`Prism exited with ${code} before listening:\n${prismOutput}`));
    });
  });
}

beforeAll(async () => {
  // `tester` is granted every operation on the first account; `limited` only device/get;
  // `strict` only store/set, always with an Idempotency-Key.
  const full = fullAccessConfig(OWNER.id);
  const access = parseAccessConfig({
    ...full,
    partners: [
      ...full.partners,
      {
        id: 'limited',
        operations: ['device/get'],
        accounts: [OWNER.id],
        identity: { issuer: LOCAL_ISSUER, clientId: 'limited-client' },
      },
      {
        id: 'strict',
        operations: ['store/set'],
        accounts: [OWNER.id],
        requireIdempotencyKey: true,
        identity: { issuer: LOCAL_ISSUER, clientId: 'strict-client' },
      },
    ],
  });
  rig = await startRig(access, 'tester');
  workDir = await mkdtemp(join(tmpdir(), 'ioto-bff-prism-'));
  const file = join(workDir, 'openapi.json');
  const document = buildOpenApiDocument({
    defaultLimit: 25,
    maxLimit: Number(TEST_ENV.PAGE_LIMIT_MAX),
    version: '0.0.0-test',
    servers: [{ url: rig.gateway.url, description: 'The local gateway under test' }],
    scope: TEST_SCOPE,
  });
  await writeFile(file, JSON.stringify(document));
  prismUrl = await startPrism(file, rig.gateway.url);
}, PRISM_START_LIMIT_MS + 10_000);

afterAll(async () => {
  const child = prism;
  if (child?.pid !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid, 'SIGTERM');
    await exited;
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
  await rig?.close();
});

beforeEach(() => {
  rig.simulator.reset();
});

/** Prism's verdict on one exchange, split by where it found a mismatch. */
const violationsOf = (result: CallResult) => {
  const header = result.headers.get('sl-violations');
  const all = header === null ? [] : (JSON.parse(header) as Violation[]);
  return {
    request: all.filter((v) => v.location[0] === 'request'),
    response: all.filter((v) => v.location[0] !== 'request'),
  };
};

/**
 * POSTs `body` (JSON text unless `raw`) through Prism as `as` (with an `Idempotency-Key` when
 * `key` is given), or with exactly `headers` instead.
 */
const post = (
  path: string,
  body: unknown,
  options: { as?: string; key?: string; headers?: Record<string, string>; raw?: boolean } = {},
) =>
  rig.send(prismUrl, path, {
    method: 'POST',
    headers: options.headers ?? {
      'content-type': 'application/json',
      authorization: `Bearer ${rig.tokenFor(options.as ?? 'tester')}`,
      ...(options.key !== undefined && { 'idempotency-key': options.key }),
    },
    body: options.raw ? String(body) : JSON.stringify(body),
  });

const expectProblem = (result: CallResult, status: number, code: string) => {
  expect([result.status, result.body.code]).toEqual([status, code]);
};

describe('every catalog operation through Prism', () => {
  it.each(catalog.map((op) => [operationKey(op)] as const))(
    '%s answers 200 as described, with no violation',
    async (key) => {
      const result = await post(`/v1/${key}`, SAMPLE_BODIES[key]);
      expect(result.status).toBe(200);
      expect(result.headers.get('sl-violations')).toBeNull();
    },
  );

  it('answers the partner view of device/find: no accountId, only a limit', async () => {
    const result = await post('/v1/device/find', { limit: 5 });
    expect(result.status).toBe(200);
    expect(result.headers.get('sl-violations')).toBeNull();
  });

  it('takes an empty body where the operation needs no field', async () => {
    const result = await rig.send(prismUrl, '/v1/device/getCreds', {
      method: 'POST',
      headers: { authorization: `Bearer ${rig.tokenFor('tester')}` },
    });
    expect(result.status).toBe(200);
    expect(result.headers.get('sl-violations')).toBeNull();
  });
});

/**
 * Error paths whose request is valid by the description: Prism must find nothing at all, the
 * answer included.
 */
const validRequestErrors: readonly [string, number, string, () => Promise<CallResult>][] = [
  [
    // Prism never answers a body it cannot parse (5.16: the request hangs), and forwards the
    // bodies it parsed re-serialized, so a repeated key never arrives. An unpaired surrogate
    // survives both and is malformed for the gateway (RFC 7493 §2.1).
    'JSON with an unpaired surrogate',
    400,
    'malformed_json',
    () => post('/v1/device/find', '{"id":"\\ud800"}', { raw: true }),
  ],
  [
    'a page token that does not open',
    400,
    'invalid_page_token',
    () => post('/v1/device/find', { pageToken: 'not-a-page-token' }),
  ],
  [
    "Ioto's refusal",
    400,
    'upstream_rejected',
    () => post('/v1/alert/get', { id: 'NO-SUCH-ALERT' }),
  ],
  [
    'a token that is not valid',
    401,
    'unauthorized',
    () =>
      post(
        '/v1/device/find',
        {},
        {
          headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.jwt' },
        },
      ),
  ],
  [
    'an operation the partner is not granted',
    403,
    'operation_not_allowed',
    () => post('/v1/device/find', {}, { as: 'limited' }),
  ],
  [
    "another tenant's account",
    403,
    'account_not_allowed',
    () => post('/v1/device/find', { accountId: OTHER.id }),
  ],
  [
    "another tenant's device",
    403,
    'device_not_allowed',
    () => post('/v1/store/get', { deviceId: OTHER.deviceIds[0], key: SEED.storeKey }),
  ],
  [
    'an action the partner is not granted',
    403,
    'action_not_allowed',
    () => post('/v1/action/invoke', { name: 'no-such-action', context: { deviceId: DEVICE } }),
  ],
  [
    'a body over the limit',
    413,
    'payload_too_large',
    () =>
      post('/v1/generic/create', {
        _type: 'Event',
        note: 'x'.repeat(Number(TEST_ENV.MAX_BODY_BYTES)),
      }),
  ],
  [
    'a write without the Idempotency-Key the partner must send',
    400,
    'idempotency_key_required',
    () => post('/v1/store/set', { deviceId: DEVICE, key: 'mode', value: 'eco' }, { as: 'strict' }),
  ],
  [
    'an Idempotency-Key sent again with another body',
    422,
    'idempotency_key_reused',
    async () => {
      await post(
        '/v1/store/set',
        { deviceId: DEVICE, key: 'mode', value: 'eco' },
        { key: 'k-422' },
      );
      return post(
        '/v1/store/set',
        { deviceId: DEVICE, key: 'mode', value: 'off' },
        { key: 'k-422' },
      );
    },
  ],
  [
    'Ioto failing twice on a read',
    502,
    'upstream_error',
    () => {
      rig.simulator.faults.failNext(2, 500);
      return post('/v1/device/get', { id: DEVICE });
    },
  ],
  [
    'Ioto reporting that an action failed',
    502,
    'upstream_failed',
    () => {
      rig.simulator.faults.jsonNext(1, 200, { error: 'The action failed' }, 'action/invoke');
      return post('/v1/action/invoke', SAMPLE_BODIES['action/invoke']);
    },
  ],
  [
    "Ioto's 429",
    503,
    'upstream_throttled',
    () => {
      rig.simulator.faults.failNext(1, 429);
      return post('/v1/device/get', { id: DEVICE });
    },
  ],
  [
    'Ioto asking to wait',
    503,
    'upstream_throttled',
    () => {
      rig.simulator.faults.jsonNext(1, 200, { error: 'Blocked', delay: 30 }, 'device/provision');
      return post('/v1/device/provision', { id: DEVICE });
    },
  ],
  [
    'Ioto answering after the deadline',
    504,
    'upstream_timeout',
    () => {
      rig.simulator.faults.delayOperation('device/get', Number(TEST_ENV.UPSTREAM_TIMEOUT_MS) * 3);
      return post('/v1/device/get', { id: DEVICE });
    },
  ],
];

describe('error answers through Prism', () => {
  it.each(validRequestErrors)(
    '%s is answered %i %s as described, with no violation',
    async (_name, status, code, send) => {
      const result = await send();
      expectProblem(result, status, code);
      expect(violationsOf(result)).toEqual({ request: [], response: [] });
    },
  );

  it('replays a write repeated with its Idempotency-Key, as described', async () => {
    const body = { deviceId: DEVICE, key: 'mode', value: 'eco' };
    const first = await post('/v1/store/set', body, { key: 'k-replay' });
    const again = await post('/v1/store/set', body, { key: 'k-replay' });
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    for (const result of [first, again]) expect(result.headers.get('sl-violations')).toBeNull();
  });

  it('answers 409 to a repeat while the first write runs, as described', async () => {
    const body = { deviceId: DEVICE, key: 'mode', value: 'eco' };
    rig.simulator.faults.delayOperation('generic/update', Number(TEST_ENV.UPSTREAM_TIMEOUT_MS) / 2);
    const first = post('/v1/store/set', body, { key: 'k-409' });
    // The write reaches Ioto only after the gateway recorded the key as in progress.
    const arrived = () => rig.simulator.requests.some((r) => r.path === '/tok/generic/update');
    for (let i = 0; i < 500 && !arrived(); i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(arrived()).toBe(true);
    const second = await post('/v1/store/set', body, { key: 'k-409' });
    expectProblem(second, 409, 'idempotency_in_progress');
    expect(second.headers.get('retry-after')).toEqual(expect.stringMatching(/^\d+$/));
    expect(second.headers.get('sl-violations')).toBeNull();
    expect((await first).status).toBe(200);
  });

  it('carries Retry-After on a 503 of Ioto throttling, as described', async () => {
    rig.simulator.faults.failNext(1, 429);
    const result = await post('/v1/device/get', { id: DEVICE });
    expect(result.headers.get('retry-after')).toBe('1');
    expect(result.headers.get('sl-violations')).toBeNull();
  });

  /**
   * Error paths whose request breaks the description on purpose: Prism reports exactly that
   * about the request, and nothing about the answer, which must match its status.
   */
  it.each<[string, number, string, () => Promise<CallResult>, RegExp]>([
    [
      'a body that breaks the schema',
      400,
      'validation_failed',
      () => post('/v1/device/find', { limit: 0 }),
      /limit/,
    ],
    [
      'no access token',
      401,
      'unauthorized',
      () => post('/v1/device/find', {}, { headers: { 'content-type': 'application/json' } }),
      /security/i,
    ],
    [
      'a body that is not JSON',
      415,
      'unsupported_media_type',
      () =>
        post('/v1/device/find', 'hello', {
          raw: true,
          headers: {
            'content-type': 'text/plain',
            authorization: `Bearer ${rig.tokenFor('tester')}`,
          },
        }),
      /content type/i,
    ],
  ])('%s is answered %i %s as described', async (_name, status, code, send, expected) => {
    const result = await send();
    expectProblem(result, status, code);
    const violations = violationsOf(result);
    expect(violations.response).toEqual([]);
    expect(violations.request.length).toBeGreaterThan(0);
    for (const violation of violations.request) expect(violation.message).toMatch(expected);
  });

  /**
   * Routes outside the description: Prism cannot match them to an operation, says so, and so
   * cannot check the answer; the answer is checked here against what every operation declares.
   */
  it.each<[string, number, string, () => Promise<CallResult>]>([
    ['an unknown route', 404, 'not_found', () => post('/v1/device/nope', {})],
    [
      'another method than POST',
      405,
      'method_not_allowed',
      () => rig.send(prismUrl, '/v1/device/find', { method: 'GET' }),
    ],
  ])('%s is answered %i %s as every operation declares', async (_name, status, code, send) => {
    const result = await send();
    expectProblem(result, status, code);
    expect(result.headers.get('content-type')).toBe('application/problem+json');
    expect(result.headers.get('x-request-id')).toEqual(expect.any(String));
    if (status === 405) expect(result.headers.get('allow')).toBe('POST');
    expect(violationsOf(result)).toEqual({
      request: [expect.objectContaining({ message: 'Selected route not found' })],
      response: [],
    });
  });

  it('never shows the Ioto token', () => {
    for (const response of rig.responses) expect(response.text).not.toContain(rig.canary);
  });
});
