import {
  IotoSimulator,
  MALFORMED_BODY,
  type PagedReply,
  type PageKey,
  SEED,
  SIMULATED_OPERATIONS,
} from '../../dev/ioto-simulator';
import { encodeUpstreamQuery, type UpstreamQuery } from '../../lambda/paging/upstream-query';

const TOKEN = 'simulator-test-token-0123456789abcdef';
const OWNER = SEED.accounts[0];
const SECOND = SEED.accounts[1];
const THIRD = SEED.accounts[2];

/** The element at `index`, failing the test loudly when the seed has none. */
function nth(ids: readonly string[], index: number): string {
  const id = ids[index];
  if (id === undefined) throw new Error(`seed has no element ${index}`);
  return id;
}

const DEVICE = SEED.deviceId;
const SECOND_DEVICE = nth(SECOND.deviceIds, 0);

let sim: IotoSimulator;
const consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
  jest.spyOn(console, method),
);

beforeAll(async () => {
  sim = await IotoSimulator.start({ token: TOKEN });
});

afterAll(async () => {
  await sim.close();
  for (const spy of consoleSpies) spy.mockRestore();
});

beforeEach(() => {
  sim.reset();
});

interface CallOptions {
  readonly query?: UpstreamQuery;
  /** Replaces the encoded query (without `?`). */
  readonly rawQuery?: string;
  /** The Authorization header; `null` sends none. Defaults to the current token. */
  readonly auth?: string | null;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as is instead of `JSON.stringify(body)`. */
  readonly rawBody?: string;
  /** Defaults to `/tok/`. */
  readonly prefix?: string;
  readonly target?: IotoSimulator;
}

interface Answer {
  readonly status: number;
  readonly type: string | null;
  readonly length: string | null;
  readonly text: string;
}

async function call(operation: string, body?: unknown, options: CallOptions = {}): Promise<Answer> {
  const target = options.target ?? sim;
  const query =
    options.rawQuery !== undefined
      ? `?${options.rawQuery}`
      : encodeUpstreamQuery(options.query ?? {});
  const auth = options.auth === undefined ? target.token : options.auth;
  const method = options.method ?? 'POST';
  const payload = options.rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
  const response = await fetch(
    `${target.endpoint}${options.prefix ?? '/tok/'}${operation}${query}`,
    {
      method,
      headers: {
        'content-type': 'application/json',
        ...(auth !== null && { authorization: auth }),
        ...options.headers,
      },
      ...(method !== 'GET' && payload !== undefined && { body: payload }),
      signal: AbortSignal.timeout(10_000),
      // As the proxy calls: a redirect is an answer, never followed.
      redirect: 'manual',
    },
  );
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    length: response.headers.get('content-length'),
    text: await response.text(),
  };
}

/** Calls an operation that must answer 200 JSON and returns the parsed value. */
async function ok<T = Record<string, unknown>>(
  operation: string,
  body?: unknown,
  options: CallOptions = {},
): Promise<T> {
  const answer = await call(operation, body, options);
  expect({ status: answer.status, text: answer.status === 200 ? '' : answer.text }).toEqual({
    status: 200,
    text: '',
  });
  expect(answer.type).toBe('application/json');
  return JSON.parse(answer.text) as T;
}

type DevicePage = PagedReply & { data: { id: string; accountId: string }[] };

const devicePage = (query: UpstreamQuery): Promise<DevicePage> =>
  ok<DevicePage>('device/find', { accountId: OWNER.id }, { query });

const ids = (reply: { data: { id: string }[] }): string[] => reply.data.map((item) => item.id);

describe('IotoSimulator lifecycle', () => {
  it('listens on 127.0.0.1 with a random 48-character hex token by default', async () => {
    const other = await IotoSimulator.start();
    try {
      expect(other.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(other.token).toMatch(/^[0-9a-f]{48}$/);
      expect(other.token).not.toBe(sim.token);
      expect((await call('account/get', {}, { target: other })).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('closes kept-alive sockets promptly and can be closed twice', async () => {
    const other = await IotoSimulator.start();
    await call('account/get', {}, { target: other });
    const started = Date.now();
    await other.close();
    await other.close();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('ends a delayed response at once when closed', async () => {
    const other = await IotoSimulator.start();
    other.faults.delayMs = 30_000;
    const pending = call('account/get', {}, { target: other }).then(
      () => 'answered',
      () => 'failed',
    );
    for (let i = 0; i < 100 && other.requests.length === 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const started = Date.now();
    await other.close();
    expect(await pending).toBe('failed');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('token check (docs/ioto-api.md §2.2)', () => {
  afterEach(() => {
    sim.rotateToken(TOKEN);
  });

  it.each([
    ['the bare token', TOKEN],
    ['bearer <token>', `bearer ${TOKEN}`],
    ['Bearer <token>', `Bearer ${TOKEN}`],
    ['BEARER with extra spaces', `BEARER   ${TOKEN}`],
  ])('accepts %s', async (_name, header) => {
    expect((await call('account/get', {}, { auth: header })).status).toBe(200);
    expect(sim.requests.at(-1)?.authorized).toBe(true);
  });

  it.each([
    ['no Authorization header', null],
    ['a wrong token', 'not-the-token'],
    ['bearer with a wrong token', 'bearer not-the-token'],
    ['another scheme', `Basic ${TOKEN}`],
    ['a prefix of the token', TOKEN.slice(0, -1)],
  ])('answers 403 text/plain for %s without echoing the token', async (_name, header) => {
    const answer = await call('account/get', {}, { auth: header });
    expect(answer).toMatchObject({
      status: 403,
      type: 'text/plain',
      text: 'Authentication failed',
    });
    expect(sim.requests.at(-1)?.authorized).toBe(false);
  });

  it('checks the token before the method and the path', async () => {
    const answer = await call('nothing/here', undefined, { auth: null, method: 'GET' });
    expect(answer).toMatchObject({ status: 403, text: 'Authentication failed' });
  });

  it('rejects the old token after rotation and accepts the new one', async () => {
    const old = sim.token;
    expect(sim.rotateToken('rotated-token-1')).toBe('rotated-token-1');
    expect(sim.token).toBe('rotated-token-1');
    expect((await call('account/get', {}, { auth: old })).status).toBe(403);
    expect((await call('account/get', {}, { auth: 'rotated-token-1' })).status).toBe(200);
    const random = sim.rotateToken();
    expect(random).toMatch(/^[0-9a-f]{48}$/);
    expect((await call('account/get', {}, { auth: 'rotated-token-1' })).status).toBe(403);
    expect((await call('account/get', {}, { auth: `bearer ${random}` })).status).toBe(200);
  });

  it('keeps the token on reset', () => {
    sim.rotateToken('kept-token');
    sim.reset();
    expect(sim.token).toBe('kept-token');
  });

  it.each([[''], ['has space'], ['line\nbreak']])('refuses the token %j', (token) => {
    expect(() => sim.rotateToken(token)).toThrow(RangeError);
  });
});

describe('HTTP layer', () => {
  const megabyte = 1024 * 1024;

  it.each([
    ['a GET', 'account/get', { method: 'GET' }, 405, 'Method not allowed'],
    ['an unknown operation', 'device/remove', {}, 404, 'Not found'],
    ['an unindexed controller', 'file/get', {}, 404, 'Not found'],
    ['an MQTT-only operation', 'store/get', {}, 404, 'Not found'],
    ['an inherited property name', 'constructor/constructor', {}, 404, 'Not found'],
    ['a path without /tok', 'device/find', { prefix: '/' }, 404, 'Not found'],
    ['invalid JSON', 'account/get', { rawBody: '{"id":' }, 400, 'Invalid JSON body'],
    [
      'a JSON array body',
      'account/get',
      { rawBody: '[]' },
      400,
      'Request body must be a JSON object',
    ],
    [
      'a non-JSON content type',
      'account/get',
      { rawBody: 'id=1', headers: { 'content-type': 'text/plain' } },
      400,
      'Content-Type must be application/json',
    ],
    [
      'a body over 1 MiB',
      'account/get',
      { rawBody: JSON.stringify({ pad: 'x'.repeat(megabyte) }) },
      400,
      'Request body too large',
    ],
    ['an undecodable query', 'account/get', { rawQuery: 'limit=%E0%A4%A' }, 400, 'Invalid query'],
  ] as const)(
    'answers %s with a text/plain error',
    async (_name, operation, options, status, message) => {
      const answer = await call(operation, {}, options);
      expect(answer).toEqual({
        status,
        type: 'text/plain',
        length: String(Buffer.byteLength(message)),
        text: message,
      });
    },
  );

  it('treats an empty body as an empty object (device/getCreds has none)', async () => {
    const creds = await ok('device/getCreds', undefined, { headers: { 'content-type': '' } });
    expect(creds).toHaveProperty('accessKeyId');
  });

  it('accepts a JSON content type with parameters', async () => {
    const headers = { 'content-type': 'Application/JSON; charset=utf-8' };
    expect(await ok('account/get', {}, { headers })).toMatchObject({ id: OWNER.id });
  });
});

describe('request recording', () => {
  it('records every request in order, decoded, with the credentials redacted', async () => {
    const next = { pk: `account#${OWNER.id}`, sk: `device#${DEVICE}` };
    await call(
      'device/find',
      { accountId: OWNER.id },
      { query: { limit: 5, next }, headers: { 'X-Trace-Id': 't-1' } },
    );
    await call('generic/update', { _type: 'Store' }, { query: { exists: null }, auth: 'wrong' });
    await call('account/get', undefined, { rawBody: 'not json' });

    expect(sim.requests).toHaveLength(3);
    const [first, second, third] = sim.requests;
    expect(first).toMatchObject({
      method: 'POST',
      path: '/tok/device/find',
      controller: 'device',
      operation: 'find',
      query: { limit: 5, next },
      rawQuery: encodeUpstreamQuery({ limit: 5, next }).slice(1),
      body: { accountId: OWNER.id },
      authorized: true,
    });
    expect(first?.headers).toMatchObject({
      authorization: '[redacted]',
      'content-type': 'application/json',
      'x-trace-id': 't-1',
    });
    expect(second).toMatchObject({
      query: { exists: null },
      rawQuery: 'exists',
      authorized: false,
    });
    expect(second?.headers.authorization).toBe('[redacted]');
    expect(third?.body).toBe('not json');
    expect(JSON.stringify(sim.requests)).not.toContain(TOKEN);
  });

  it('clears the recording on reset', async () => {
    await call('account/get', {});
    sim.reset();
    expect(sim.requests).toEqual([]);
  });
});

describe('faults', () => {
  it.each([
    [500, undefined, 'Internal server error'],
    [502, 'upstream is down', 'upstream is down'],
    [503, undefined, 'Service unavailable'],
  ] as const)('failNext answers %i text/plain, then recovers', async (status, body, text) => {
    sim.faults.failNext(1, status, body);
    expect(await call('account/get', {})).toMatchObject({ status, type: 'text/plain', text });
    expect((await call('account/get', {})).status).toBe(200);
  });

  it('failNext(2) fails exactly two requests', async () => {
    sim.faults.failNext(2);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await call('account/get', {})).status);
    expect(statuses).toEqual([500, 500, 200]);
  });

  it('resetNext destroys the socket without a response', async () => {
    sim.faults.resetNext(1);
    await expect(call('account/get', {})).rejects.toThrow();
    expect((await call('account/get', {})).status).toBe(200);
  });

  it('malformedNext answers 200 JSON with a truncated body', async () => {
    sim.faults.malformedNext(1);
    const answer = await call('account/get', {});
    expect(answer).toMatchObject({ status: 200, type: 'application/json', text: MALFORMED_BODY });
    expect(() => JSON.parse(answer.text)).toThrow(SyntaxError);
  });

  it.each([[2_000_000], [64 * 1024 + 7], [11], [5], [1]])(
    'oversizeNext answers a valid JSON body of exactly %i bytes',
    async (bytes) => {
      sim.faults.oversizeNext(1, bytes);
      const answer = await call('account/get', {});
      expect(answer).toMatchObject({
        status: 200,
        type: 'application/json',
        length: String(bytes),
      });
      expect(Buffer.byteLength(answer.text)).toBe(bytes);
      expect(() => JSON.parse(answer.text)).not.toThrow();
    },
  );

  it('delayMs delays every response, errors included', async () => {
    sim.faults.delayMs = 150;
    for (const auth of [TOKEN, 'wrong']) {
      const started = Date.now();
      await call('account/get', {}, { auth });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    }
  });

  it('applies queued faults in order, one per request', async () => {
    sim.faults.failNext(1, 503);
    sim.faults.malformedNext(1);
    sim.faults.resetNext(1);
    sim.faults.oversizeNext(1, 20);
    expect((await call('account/get', {})).status).toBe(503);
    expect((await call('account/get', {})).text).toBe(MALFORMED_BODY);
    await expect(call('account/get', {})).rejects.toThrow();
    expect((await call('account/get', {})).length).toBe('20');
    expect((await call('account/get', {})).status).toBe(200);
  });

  it('counts faults only on /tok/ paths, before the token check', async () => {
    sim.faults.failNext(1);
    expect((await call('health', {}, { prefix: '/' })).status).toBe(404);
    expect((await call('account/get', {}, { auth: 'wrong' })).status).toBe(500);
    expect((await call('account/get', {})).status).toBe(200);
  });

  it('clear() and reset() drop queued faults and the delay', async () => {
    sim.faults.failNext(1);
    sim.faults.delayMs = 5_000;
    sim.faults.clear();
    expect(sim.faults.delayMs).toBe(0);
    expect((await call('account/get', {})).status).toBe(200);
    sim.faults.resetNext(1);
    sim.reset();
    expect((await call('account/get', {})).status).toBe(200);
  });

  it('answers a queued redirect without following it', async () => {
    sim.faults.redirectNext(1, 'https://elsewhere.example/');
    const response = await call('account/get', {});
    expect(response.status).toBe(302);
    expect(sim.requests).toHaveLength(1);
    expect((await call('account/get', {})).status).toBe(200);
  });

  it('delays only the operation given, on top of the delay of all', async () => {
    sim.faults.delayOperation('account/get', 150);
    const slow = Date.now();
    await call('account/get', {});
    const slowMs = Date.now() - slow;
    const fast = Date.now();
    await call('alert/find', {});
    expect(slowMs).toBeGreaterThanOrEqual(140);
    expect(Date.now() - fast).toBeLessThan(slowMs);
  });

  it.each([
    ['a negative count', () => sim.faults.failNext(-1)],
    ['a fractional count', () => sim.faults.resetNext(1.5)],
    ['an unsupported status', () => sim.faults.failNext(1, 200 as 500)],
    ['a negative operation delay', () => sim.faults.delayOperation('device/get', -1)],
    ['negative bytes', () => sim.faults.oversizeNext(1, -1)],
    [
      'a negative delay',
      () => {
        sim.faults.delayMs = -5;
      },
    ],
  ])('refuses %s', (_name, inject) => {
    expect(inject).toThrow(RangeError);
  });
});

describe('paging (ref §2.5, §6)', () => {
  it('walks the 57 devices forwards and back with limit 10 over the same boundaries', async () => {
    const forward: DevicePage[] = [];
    let next: PageKey | undefined;
    for (let i = 0; i < 20; i += 1) {
      const reply = await devicePage({ limit: 10, ...(next !== undefined && { next }) });
      forward.push(reply);
      if (reply.next === undefined) break;
      next = reply.next;
    }
    expect(forward.map((reply) => reply.data.length)).toEqual([10, 10, 10, 10, 10, 7]);
    expect(forward.flatMap(ids)).toEqual(OWNER.deviceIds);
    expect(new Set(forward.flatMap(ids)).size).toBe(57);
    expect(forward[0]?.prev).toBeUndefined();
    expect(forward.at(-1)?.next).toBeUndefined();
    expect(forward[0]?.next).toEqual({
      pk: `account#${OWNER.id}`,
      sk: `device#${nth(OWNER.deviceIds, 9)}`,
    });
    for (const reply of forward) expect(reply.paged).toBe(true);

    const backward: DevicePage[] = [];
    let prev = forward.at(-1)?.prev;
    for (let i = 0; i < 20 && prev !== undefined; i += 1) {
      const reply = await devicePage({ limit: 10, prev });
      backward.unshift(reply);
      prev = reply.prev;
    }
    expect(backward.map(ids)).toEqual(forward.slice(0, -1).map(ids));
    // Same boundaries: every page reached backwards carries the cursors it had forwards.
    expect(backward.map(({ next: n, prev: p }) => ({ n, p }))).toEqual(
      forward.slice(0, -1).map(({ next: n, prev: p }) => ({ n, p })),
    );
  });

  it('defaults to 25 items and caps the limit at 100', async () => {
    const first = await devicePage({});
    expect(first.data).toHaveLength(25);
    expect(first.next).toBeDefined();
    const all = await devicePage({ limit: 500 });
    expect(all.data).toHaveLength(57);
    expect(all).not.toHaveProperty('next');
    expect(all).not.toHaveProperty('prev');
  });

  it('answers 400 Missing accountId for device/find without accountId (ref §3.5)', async () => {
    expect(await call('device/find', {})).toMatchObject({ status: 400, text: 'Missing accountId' });
  });

  it('answers 400 Unknown account for an unknown accountId', async () => {
    const answer = await call('device/find', { accountId: 'NO-SUCH-ACCOUNT' });
    expect(answer).toMatchObject({ status: 400, type: 'text/plain', text: 'Unknown account' });
  });

  it.each([
    ['a string cursor', { next: 'garbage' }],
    [
      'a key of another account',
      { next: { pk: `account#${SECOND.id}`, sk: `device#${SECOND_DEVICE}` } },
    ],
    ['a key of another list', { prev: { pk: `account#${OWNER.id}`, sk: 'user#X' } }],
    [
      'a key with extra fields',
      { next: { pk: `account#${OWNER.id}`, sk: `device#${DEVICE}`, x: 1 } },
    ],
    [
      'both next and prev',
      {
        next: { pk: `account#${OWNER.id}`, sk: `device#${DEVICE}` },
        prev: { pk: `account#${OWNER.id}`, sk: `device#${DEVICE}` },
      },
    ],
  ] as const)('answers 400 Invalid cursor for %s', async (_name, query) => {
    const answer = await call('device/find', { accountId: OWNER.id }, { query });
    expect(answer).toMatchObject({ status: 400, type: 'text/plain', text: 'Invalid cursor' });
  });

  it('answers 400 Invalid cursor for a cursor that is broken JSON', async () => {
    const answer = await call(
      'device/find',
      { accountId: OWNER.id },
      { rawQuery: 'next=%7Bbroken' },
    );
    expect(answer).toMatchObject({ status: 400, text: 'Invalid cursor' });
  });

  it.each([['0'], ['-3'], ['abc'], ['2.5'], ['']])(
    'answers 400 Invalid limit for limit=%j',
    async (limit) => {
      const answer = await call(
        'device/find',
        { accountId: OWNER.id },
        { rawQuery: `limit=${limit}` },
      );
      expect(answer).toMatchObject({ status: 400, text: 'Invalid limit' });
    },
  );

  it('continues after the cursor item was removed', async () => {
    const first = await devicePage({ limit: 10 });
    await ok('device/release', { id: nth(OWNER.deviceIds, 9) });
    const second = await devicePage({ limit: 10, ...(first.next && { next: first.next }) });
    expect(ids(second)).toEqual(OWNER.deviceIds.slice(10, 20));
  });
});

type Check = (value: unknown, answer: Answer) => void;

const paged =
  (length: number, more = false): Check =>
  (value) => {
    expect(value).toMatchObject({ paged: true });
    const reply = value as PagedReply;
    expect(reply.data).toHaveLength(length);
    expect(reply.next !== undefined).toBe(more);
    expect(reply).not.toHaveProperty('prev');
  };

const record =
  (fields: Record<string, unknown>, keys: readonly string[] = []): Check =>
  (value) => {
    expect(value).toMatchObject(fields);
    for (const key of keys) expect(value).toHaveProperty(key);
    expect(value).not.toHaveProperty('data');
  };

const emptyBody: Check = (_value, answer) => {
  expect(answer).toMatchObject({ text: '', length: '0' });
};

const ACCOUNT_KEYS = ['activity', 'closed', 'cloudId', 'created', 'email', 'id', 'name'];
const DEVICE_KEYS = [
  'accessed',
  'accountId',
  'created',
  'id',
  'product',
  'productId',
  'test',
  'version',
];
const ALERT_KEYS = [
  'accountId',
  'cloudId',
  'context',
  'count',
  'id',
  'message',
  'name',
  'seq',
  'severity',
  'subject',
  'resolved',
  'timestamp',
];
const DASHBOARD_KEYS = [
  'accountId',
  'css',
  'fixed',
  'framed',
  'id',
  'layout',
  'live',
  'name',
  'range',
  'refresh',
  'toolbar',
  'type',
  'widgetCss',
  'widgets',
];
const USER_KEYS = ['accountId', 'activity', 'cloudId', 'email', 'first', 'id', 'last', 'role'];
const CERT_KEYS = ['accountId', 'certificate', 'endpoint', 'id', 'key', 'port', 'thing'];
const STORE_KEYS = [
  'accountId',
  'created',
  'deviceId',
  'key',
  'role',
  'value',
  'type',
  'updated',
  '_source',
];

/** One 200 call of each of the 42 HTTP operations (ref §0). */
const OPERATION_CASES: readonly [string, Record<string, unknown>, Check][] = [
  ['account/close', { id: THIRD.id }, emptyBody],
  ['account/get', {}, record({ id: OWNER.id, email: OWNER.email }, ACCOUNT_KEYS)],
  ['account/find', {}, paged(3)],
  [
    'account/updateIdentity',
    { id: SECOND.id, name: 'Renamed' },
    record({ id: SECOND.id, name: 'Renamed' }, ACCOUNT_KEYS),
  ],
  ['action/find', { cloudId: SEED.cloudId }, paged(3)],
  [
    'action/get',
    { cloudId: SEED.cloudId, type: 'email', id: SEED.actionId },
    record({ name: SEED.actionName, cloudId: SEED.cloudId }),
  ],
  [
    'action/invoke',
    { name: SEED.actionName, context: { deviceId: DEVICE } },
    (value) => expect(value).toEqual({ name: SEED.actionName, context: { deviceId: DEVICE } }),
  ],
  ['alert/find', {}, paged(3)],
  [
    'alert/get',
    { id: SEED.alertId },
    record({ id: SEED.alertId, accountId: OWNER.id }, ALERT_KEYS),
  ],
  ['alert/remove', { id: SEED.alertId }, emptyBody],
  [
    'alert/update',
    { id: SEED.alertId, resolved: true },
    record({ id: SEED.alertId, resolved: true }, ALERT_KEYS),
  ],
  [
    'dashboard/create',
    { name: 'Ops' },
    record({ name: 'Ops', layout: 'grid', widgets: [], accountId: OWNER.id }, DASHBOARD_KEYS),
  ],
  [
    'dashboard/find',
    {},
    (value) => {
      expect(Array.isArray(value)).toBe(true);
      expect(value).toHaveLength(2);
    },
  ],
  [
    'dashboard/get',
    { id: SEED.dashboardId },
    record({ id: SEED.dashboardId, name: SEED.dashboardName }, DASHBOARD_KEYS),
  ],
  ['dashboard/remove', { id: SEED.dashboardId }, emptyBody],
  [
    'dashboard/update',
    { id: SEED.dashboardId, refresh: 30 },
    record({ id: SEED.dashboardId, refresh: 30 }, DASHBOARD_KEYS),
  ],
  [
    'device/claim',
    { id: SEED.unclaimedId },
    record({ id: SEED.unclaimedId, accountId: OWNER.id }, DEVICE_KEYS),
  ],
  ['device/find', { accountId: OWNER.id }, paged(25, true)],
  ['device/get', { id: DEVICE }, record({ id: DEVICE, accountId: OWNER.id }, DEVICE_KEYS)],
  [
    'device/getCreds',
    {},
    record({ region: 'us-east-1' }, ['accessKeyId', 'secretAccessKey', 'sessionToken', 'expires']),
  ],
  [
    'device/getSignedUrl',
    { id: DEVICE, command: 'put', filename: 'photo.jpg', mimeType: 'image/jpeg', size: 10 },
    (value) => {
      expect(typeof value).toBe('string');
      expect(value).toMatch(/^https:\/\/sim\.s3\.example\/.+photo\.jpg\?command=put/);
    },
  ],
  [
    'device/provision',
    { id: DEVICE },
    record({ id: DEVICE, accountId: OWNER.id, port: 8883 }, CERT_KEYS),
  ],
  ['device/release', { id: DEVICE }, record({ id: DEVICE }, DEVICE_KEYS)],
  [
    'generic/create',
    { _type: 'Event', deviceId: DEVICE, name: 'custom' },
    record({ _type: 'Event', accountId: OWNER.id, name: 'custom' }, ['id', 'created', 'updated']),
  ],
  ['generic/find', { _type: 'Store', deviceId: DEVICE }, paged(3)],
  [
    'generic/get',
    { _type: 'Store', deviceId: DEVICE, key: SEED.storeKey },
    record({ _type: 'Store', key: SEED.storeKey, type: 'number' }, STORE_KEYS),
  ],
  ['generic/remove', { _type: 'Event', id: SEED.eventId }, emptyBody],
  [
    'generic/update',
    { _type: 'Store', deviceId: DEVICE, key: 'online', value: false },
    record({ key: 'online', value: false, type: 'boolean' }, STORE_KEYS),
  ],
  [
    'metric/fetch',
    {
      deviceId: DEVICE,
      items: [
        {
          namespace: SEED.metricNamespace,
          metric: SEED.metricName,
          statistic: 'avg',
          period: 3600,
        },
      ],
    },
    (value, answer) => {
      paged(1)(value, answer);
      const [result] = (value as PagedReply).data as Record<string, unknown>[];
      expect(result).toMatchObject({
        namespace: SEED.metricNamespace,
        metric: SEED.metricName,
        period: 3600,
      });
      const points = (result?.points ?? []) as unknown[];
      expect(points).toHaveLength(12);
      expect(points[0]).toEqual({
        value: expect.any(Number),
        timestamp: expect.any(Number),
        count: expect.any(Number),
      });
    },
  ],
  ['metric/getDeviceSchema', { cloudId: SEED.cloudId }, record({}, ['models'])],
  [
    'metric/getMetricList',
    { cloudId: SEED.cloudId, namespace: SEED.metricNamespace },
    (value) =>
      expect(value).toEqual({
        namespaces: [SEED.metricNamespace],
        metrics: [...SEED.metricNames],
        dimensions: [],
      }),
  ],
  ['provision/getCerts', { id: DEVICE }, record({ id: DEVICE }, CERT_KEYS)],
  [
    'provision/update',
    { id: DEVICE, product: SEED.products[0].id, version: '1.0.0' },
    record({ version: SEED.latestVersion, update: SEED.updateId }, ['checksum', 'url']),
  ],
  ['provision/updateReport', { id: DEVICE, update: SEED.updateId, success: true }, emptyBody],
  [
    'user/create',
    { email: 'new@acme.example', role: 'user' },
    record({ email: 'new@acme.example', role: 'user', accountId: OWNER.id }, USER_KEYS),
  ],
  ['user/find', {}, paged(3)],
  [
    'user/get',
    { id: SEED.userId },
    record({ id: SEED.userId, email: SEED.userEmail, role: 'owner' }, USER_KEYS),
  ],
  ['user/getRoles', {}, record({ user: 1, admin: 2, owner: 3 })],
  [
    'user/login',
    {},
    record({ account: { id: OWNER.id }, user: { id: SEED.userId } }, [
      'manager',
      'roles',
      'schema',
    ]),
  ],
  ['user/remove', { id: nth(OWNER.userIds, 2) }, emptyBody],
  [
    'user/update',
    { id: SEED.userId, first: 'Olive' },
    record({ id: SEED.userId, first: 'Olive' }, USER_KEYS),
  ],
  [
    'user/updateRole',
    { id: nth(OWNER.userIds, 2), role: 'admin' },
    record({ role: 'admin' }, USER_KEYS),
  ],
];

describe('operations (ref §0, §3)', () => {
  it('covers exactly the 42 simulated HTTP operations', () => {
    expect(OPERATION_CASES).toHaveLength(42);
    expect(OPERATION_CASES.map(([operation]) => operation).sort()).toEqual(
      [...SIMULATED_OPERATIONS].sort(),
    );
  });

  it.each(OPERATION_CASES)(
    '%s answers 200 with the documented shape',
    async (operation, body, check) => {
      const answer = await call(operation, body);
      expect({ status: answer.status, text: answer.status === 200 ? '' : answer.text }).toEqual({
        status: 200,
        text: '',
      });
      expect(answer.type).toBe('application/json');
      check(answer.text === '' ? undefined : JSON.parse(answer.text), answer);
    },
  );

  it('answers {error, name, context} for an action configured to fail', async () => {
    const reply = await ok('action/invoke', { id: SEED.failingActionId, context: { n: 1 } });
    expect(reply).toEqual({
      error: expect.any(String),
      name: SEED.failingActionName,
      context: { n: 1 },
    });
  });

  it('answers a fake PEM certificate and no real secret', async () => {
    const reply = await ok<{ certificate: string; key: string }>('device/provision', {
      id: DEVICE,
    });
    expect(reply.certificate).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(Buffer.from(reply.key.split('\n')[1] ?? '', 'base64').toString()).toContain(
      'Ioto simulator',
    );
  });

  it.each([
    ['device/get', {}, 'Missing required property "id"'],
    ['device/get', { id: 'NOSUCHDEV' }, 'Cannot find device'],
    ['device/get', { id: SECOND_DEVICE }, 'Cannot find device'],
    ['device/claim', { id: DEVICE }, 'Device already claimed'],
    ['generic/find', {}, 'Missing required property "_type"'],
    ['generic/find', { _type: 'Store', deviceId: SECOND_DEVICE }, 'Cannot find device'],
    ['generic/get', { _type: 'Store', deviceId: DEVICE, key: 'nope' }, 'Cannot find item'],
    [
      'generic/update',
      { _type: 'Store', deviceId: DEVICE, key: 'new-key', value: 1 },
      'Cannot find item',
    ],
    ['alert/get', { id: 'NOSUCHALERT' }, 'Cannot find alert'],
    ['action/find', {}, 'Missing required property "cloudId"'],
    ['action/invoke', { name: 'no-such-action' }, 'Cannot find action'],
    ['user/create', { email: 'x@acme.example' }, 'Missing required property "role"'],
    ['user/create', { email: SEED.userEmail, role: 'user' }, 'User already exists'],
    ['account/get', { id: 'NOSUCHACCOUNT' }, 'Unknown account'],
    ['alert/find', { accountId: 'NOSUCHACCOUNT' }, 'Unknown account'],
    [
      'metric/fetch',
      { deviceId: DEVICE, items: [{ namespace: 'Other' }] },
      'Invalid property "namespace"',
    ],
  ])('%s %j answers 400 %s', async (operation, body, message) => {
    expect(await call(operation, body)).toEqual({
      status: 400,
      type: 'text/plain',
      length: String(Buffer.byteLength(message)),
      text: message,
    });
  });
});

describe('state changes', () => {
  it('claims a device into an account and releases it back to the unclaimed pool', async () => {
    const find = () => ok<DevicePage>('device/find', { accountId: SECOND.id });
    await ok('device/claim', { id: SEED.unclaimedId, accountId: SECOND.id });
    expect(ids(await find())).toContain(SEED.unclaimedId);
    await ok('device/release', { id: SEED.unclaimedId, accountId: SECOND.id });
    expect(ids(await find())).toEqual(SECOND.deviceIds);
    await ok('device/claim', { id: SEED.unclaimedId, accountId: THIRD.id });
    expect(await ok('device/get', { id: SEED.unclaimedId, accountId: THIRD.id })).toMatchObject({
      accountId: THIRD.id,
    });
  });

  it('creates, upserts, updates and removes Store items', async () => {
    const item = { _type: 'Store', deviceId: DEVICE, key: 'mode' };
    await ok('generic/update', { ...item, value: 'eco' }, { query: { exists: null } });
    expect(await ok('generic/get', item)).toMatchObject({ value: 'eco', type: 'string' });
    await ok('generic/update', { ...item, value: 3 });
    expect(await ok('generic/get', item)).toMatchObject({ value: 3, type: 'number' });
    expect((await call('generic/update', item, { query: { exists: false } })).text).toBe(
      'Item already exists',
    );
    expect((await call('generic/create', item)).text).toBe('Item already exists');
    expect((await call('generic/remove', item)).text).toBe('');
    expect((await call('generic/get', item)).text).toBe('Cannot find item');
    expect((await call('generic/remove', item)).text).toBe('Cannot find item');
  });

  it('filters generic find by every given attribute', async () => {
    const reply = await ok<PagedReply>('generic/find', { _type: 'Event', name: 'boot' });
    expect(reply.data.length).toBeGreaterThan(0);
    for (const event of reply.data)
      expect(event).toMatchObject({ _type: 'Event', name: 'boot', accountId: OWNER.id });
    const store = await ok<PagedReply>(
      'generic/find',
      { _type: 'Store', key: 'online' },
      { query: { limit: 100 } },
    );
    expect(store.data).toHaveLength(57);
  });

  it('lists created dashboards and users, and forgets removed ones', async () => {
    await ok('dashboard/create', { name: 'Extra' });
    expect(await ok<unknown[]>('dashboard/find', {})).toHaveLength(3);
    await ok('user/create', { email: 'extra@acme.example', role: 'admin' });
    expect((await ok<PagedReply>('user/find', {})).data).toHaveLength(4);
    await call('user/remove', { email: 'extra@acme.example' });
    expect((await ok<PagedReply>('user/find', {})).data).toHaveLength(3);
  });

  it('closes an account so that it is unknown afterwards', async () => {
    await call('account/close', { id: THIRD.id });
    expect((await call('account/get', { id: THIRD.id })).text).toBe('Unknown account');
    expect((await call('device/find', { accountId: THIRD.id })).text).toBe('Unknown account');
    expect((await ok<PagedReply>('account/find', {})).data).toHaveLength(2);
  });

  it('restores the seed on reset', async () => {
    await ok('device/release', { id: DEVICE });
    sim.reset();
    expect(await ok('device/get', { id: DEVICE })).toMatchObject({ id: DEVICE });
  });
});

describe('quiet', () => {
  it('never writes to the console', () => {
    for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled();
  });
});
