import { Logger } from '@aws-lambda-powertools/logger';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SEED, sampleRequests } from '../../dev/ioto-simulator';
import { NEUTRAL_REJECTION_DETAIL } from '../../lambda/auth/scoped-partner-policy';
import { catalog, operationKey } from '../../lambda/catalog/index';
import { fullAccessConfig } from '../support/access-fixtures';
import { type CallResult, type Rig, startRig, TEST_ENV } from './gateway-harness';

const [OWNER] = SEED.accounts;
const DEVICE = SEED.deviceId;

const SAMPLE_BODIES = sampleRequests(OWNER);

let rig: Rig;

beforeAll(async () => {
  // The contract suite runs as `tester`, granted every operation on the first account.
  rig = await startRig(fullAccessConfig(OWNER.id), 'tester');
});

afterAll(async () => {
  await rig?.close();
});

beforeEach(() => {
  rig.simulator.reset();
});

const expectProblem = (result: CallResult, status: number, code: string) => {
  expect(result.status).toBe(status);
  expect(result.headers.get('content-type')).toBe('application/problem+json');
  expect(result.body).toEqual(
    expect.objectContaining({
      type: `urn:ioto-bff:problem:${code}`,
      title: expect.any(String),
      status,
      detail: expect.any(String),
      code,
      requestId: result.headers.get('x-request-id'),
    }),
  );
  expect(result.text).not.toMatch(/\bat .+\.(?:ts|js):\d+/);
};

describe('every catalog operation through the local gateway', () => {
  it('has a sample request for exactly the catalog operations', () => {
    expect(Object.keys(SAMPLE_BODIES).sort()).toEqual(catalog.map(operationKey).sort());
  });

  it.each(catalog.map((op) => [operationKey(op), op] as const))(
    '%s answers 200',
    async (key, op) => {
      const result = await rig.call(`/v1/${key}`, SAMPLE_BODIES[key]);
      expect(result.status).toBe(200);
      expect(result.headers.get('content-type')).toBe('application/json');
      expect(result.headers.get('x-request-id')).toEqual(expect.any(String));
      const data = result.body.data;
      if (op.response === 'list') expect(Array.isArray(data)).toBe(true);
      if (op.response === 'record') expect(data).toEqual(expect.any(Object));
      if (op.response === 'string') expect(data).toEqual(expect.stringMatching(/^https:\/\//));
      if (op.response === 'none') expect(data).toBeNull();
      if (op.paged) {
        expect(result.body).toHaveProperty('nextPageToken');
        expect(result.body).toHaveProperty('prevPageToken');
      } else {
        expect(Object.keys(result.body)).toEqual(['data']);
      }
      const upstream = op.upstream ?? op;
      const paths = rig.simulator.requests.map((r) => r.path);
      expect(paths.at(-1)).toBe(`/tok/${upstream.controller}/${upstream.operation}`);
      // Anything before it is a device-ownership check with the partner's own account.
      for (const preflight of rig.simulator.requests.slice(0, -1)) {
        expect(preflight).toMatchObject({ path: '/tok/device/get', body: { accountId: OWNER.id } });
      }
    },
  );

  it('store/set upserts through generic/update?exists and store/get reads it back', async () => {
    const set = await rig.call('/v1/store/set', { deviceId: DEVICE, key: 'mode', value: 'eco' });
    expect(set.body.data).toMatchObject({ key: 'mode', value: 'eco', type: 'string' });
    expect(rig.simulator.requests.at(-1)).toMatchObject({
      path: '/tok/generic/update',
      rawQuery: 'exists',
      body: { _type: 'Store', deviceId: DEVICE, key: 'mode', value: 'eco', type: 'string' },
    });
    const get = await rig.call('/v1/store/get', { deviceId: DEVICE, key: 'mode' });
    expect(get.body.data).toMatchObject({ key: 'mode', value: 'eco' });
  });

  // docs/ioto-api.md §3.9: agent src/mqtt.c writes numbers as text over database sync
  // (ioSetNum(), `value: '%g'`) and booleans as 1 or 0 over MQTT (ioSetBool(), `"value":%lf`).
  it.each<[string, Record<string, unknown>]>([
    ["ioSetNum()'s decimal text typed number", { key: 'counter', value: '12', type: 'number' }],
    ["ioSetBool()'s 1 typed boolean", { key: 'online', value: 1, type: 'boolean' }],
  ])('store/set forwards the agent format %s unchanged', async (_name, item) => {
    const set = await rig.call('/v1/store/set', { deviceId: DEVICE, ...item });
    expect(set.status).toBe(200);
    expect(rig.simulator.requests.at(-1)).toMatchObject({
      path: '/tok/generic/update',
      rawQuery: 'exists',
      body: { _type: 'Store', deviceId: DEVICE, ...item },
    });
    const get = await rig.call('/v1/store/get', { deviceId: DEVICE, key: item.key });
    expect(get.body.data).toMatchObject(item);
  });
});

describe('paging', () => {
  const find = (extra: Record<string, unknown>) =>
    rig.call('/v1/device/find', { accountId: OWNER.id, limit: 10, ...extra });
  const ids = (result: CallResult) => (result.body.data as { id: string }[]).map((d) => d.id);

  it('walks every page of device/find forwards and back with no duplicate and no gap', async () => {
    const forward: string[][] = [];
    let page = await find({});
    forward.push(ids(page));
    for (let i = 0; i < 20 && page.body.nextPageToken !== null; i += 1) {
      page = await find({ pageToken: page.body.nextPageToken });
      expect(page.status).toBe(200);
      forward.push(ids(page));
    }
    expect(page.body.nextPageToken).toBeNull();
    expect(forward.flat()).toEqual(OWNER.deviceIds);
    expect(forward).toHaveLength(Math.ceil(OWNER.deviceIds.length / 10));

    const backward: string[][] = [ids(page)];
    for (let i = 0; i < 20 && page.body.prevPageToken !== null; i += 1) {
      page = await find({ pageToken: page.body.prevPageToken });
      expect(page.status).toBe(200);
      backward.push(ids(page));
    }
    expect(page.body.prevPageToken).toBeNull();
    expect(backward.reverse()).toEqual(forward);
  });

  it('lets the page size change between pages', async () => {
    const first = await find({});
    const next = await find({ limit: 3, pageToken: first.body.nextPageToken });
    expect(ids(next)).toEqual(OWNER.deviceIds.slice(10, 13));
  });

  it.each([
    ['garbage', () => 'not-a-token'],
    ['a tampered token', (t: string) => `${t.slice(0, -2)}${t.endsWith('AA') ? 'BB' : 'AA'}`],
  ])('refuses %s with invalid_page_token before calling Ioto', async (_name, mangle) => {
    const first = await find({});
    const calls = rig.simulator.requests.length;
    const result = await find({ pageToken: mangle(String(first.body.nextPageToken)) });
    expectProblem(result, 400, 'invalid_page_token');
    expect(rig.simulator.requests).toHaveLength(calls);
  });

  it('refuses a token replayed with changed filters', async () => {
    const first = await find({});
    const result = await find({
      productId: SEED.products[1].id,
      pageToken: first.body.nextPageToken,
    });
    expectProblem(result, 400, 'invalid_page_token');
  });

  it('refuses a token replayed on another operation', async () => {
    const first = await find({});
    const result = await rig.call('/v1/generic/find', {
      _type: 'Store',
      pageToken: first.body.nextPageToken,
    });
    expectProblem(result, 400, 'invalid_page_token');
  });
});

describe('errors', () => {
  const post = (path: string, body: string | Uint8Array, type = 'application/json') =>
    rig.send(rig.gateway.url, path, {
      method: 'POST',
      headers: { 'content-type': type, authorization: `Bearer ${rig.tokenFor('tester')}` },
      body,
    });

  it('answers malformed_json', async () => {
    expectProblem(await post('/v1/device/find', '{"accountId":'), 400, 'malformed_json');
  });

  it('answers validation_failed with the field errors', async () => {
    const result = await rig.call('/v1/metric/fetch', { limit: 500, colour: 'red' });
    expectProblem(result, 400, 'validation_failed');
    expect(result.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: '/deviceId' }),
        expect.objectContaining({ path: '/items' }),
        expect.objectContaining({ path: '/limit' }),
        { path: '/colour', message: 'Unknown field' },
      ]),
    );
  });

  it.each(['/v1/device/remove', '/v1/nothing/here', '/v2/device/find', '/'])(
    'answers not_found for %s',
    async (path) => {
      expectProblem(await rig.call(path, {}), 404, 'not_found');
    },
  );

  it('answers method_not_allowed with Allow: POST', async () => {
    const result = await rig.send(rig.gateway.url, '/v1/device/find', { method: 'GET' });
    expectProblem(result, 405, 'method_not_allowed');
    expect(result.headers.get('allow')).toBe('POST');
  });

  it('answers payload_too_large', async () => {
    const big = JSON.stringify({
      _type: 'Event',
      note: 'x'.repeat(Number(TEST_ENV.MAX_BODY_BYTES)),
    });
    expectProblem(await post('/v1/generic/create', big), 413, 'payload_too_large');
  });

  it('answers unsupported_media_type', async () => {
    expectProblem(
      await post('/v1/alert/find', 'accountId=1', 'application/x-www-form-urlencoded'),
      415,
      'unsupported_media_type',
    );
  });

  it("answers upstream_rejected with Ioto's plain message on a cloud-level operation", async () => {
    const result = await rig.call('/v1/action/get', {
      cloudId: SEED.cloudId,
      type: 'email',
      id: 'AX-NO-SUCH-ACTION',
    });
    expectProblem(result, 400, 'upstream_rejected');
    expect(result.body.detail).toBe('Ioto rejected the request: Cannot find action');
  });

  it('answers upstream_rejected neutrally on a tenant-scoped operation', async () => {
    const result = await rig.call('/v1/device/get', { id: 'SIMZ999999', accountId: OWNER.id });
    expectProblem(result, 400, 'upstream_rejected');
    expect(result.body.detail).toBe(NEUTRAL_REJECTION_DETAIL);
    expect(rig.simulator.requests).toHaveLength(1);
  });

  it.each([
    ['a 5xx twice', (r: Rig) => r.simulator.faults.failNext(2, 500)],
    ['a reset connection twice', (r: Rig) => r.simulator.faults.resetNext(2)],
    ['malformed JSON', (r: Rig) => r.simulator.faults.malformedNext(1)],
    ['an oversized reply', (r: Rig) => r.simulator.faults.oversizeNext(1, 2_000_000)],
  ])('answers upstream_error after %s', async (_name, arm) => {
    arm(rig);
    expectProblem(await rig.call('/v1/alert/find', {}), 502, 'upstream_error');
  });

  it.each([
    ['a 503', (r: Rig) => r.simulator.faults.failNext(1, 503)],
    ['a reset connection', (r: Rig) => r.simulator.faults.resetNext(1)],
  ])('retries a safe operation once after %s and succeeds', async (_name, arm) => {
    arm(rig);
    const result = await rig.call('/v1/alert/find', {});
    expect(result.status).toBe(200);
    expect(rig.simulator.requests).toHaveLength(2);
  });

  it('does not retry an operation that is not safe to retry', async () => {
    rig.simulator.faults.failNext(1, 500);
    expectProblem(
      await rig.call('/v1/dashboard/create', SAMPLE_BODIES['dashboard/create']),
      502,
      'upstream_error',
    );
    expect(rig.simulator.requests).toHaveLength(1);
  });

  it('answers upstream_timeout when Ioto is slower than the deadline', async () => {
    rig.simulator.faults.delayMs = Number(TEST_ENV.UPSTREAM_TIMEOUT_MS) + 500;
    try {
      expectProblem(await rig.call('/v1/alert/find', {}), 504, 'upstream_timeout');
    } finally {
      rig.simulator.faults.clear();
    }
  });

  it('answers upstream_auth_failed when Ioto refuses the token even after a refresh', async () => {
    const current = rig.simulator.token;
    rig.simulator.rotateToken(`${rig.canary}-nobody-knows-this-one`);
    try {
      expectProblem(await rig.call('/v1/alert/find', {}), 502, 'upstream_auth_failed');
    } finally {
      rig.simulator.rotateToken(current);
    }
  });

  it('answers token_unavailable when the token cannot be read', async () => {
    const gateway = await rig.gatewayFor({
      tokenSource: async () => {
        throw new Error('ResourceNotFoundException');
      },
    });
    expectProblem(
      await rig.call('/v1/alert/find', {}, { base: gateway.url }),
      503,
      'token_unavailable',
    );
  });

  it('answers internal, with no detail about the failure, when the proxy has a bug', async () => {
    // A dependency that fails in an unplanned way: the logger throws once, after the Ioto call,
    // when the audit line of the answered call is written.
    class BrokenLogger extends Logger {
      #broken = true;
      override info(message: string, ...rest: unknown[]): void {
        if (message === 'audit' && this.#broken) {
          this.#broken = false;
          throw new TypeError("Cannot read properties of undefined (reading 'secret')");
        }
        super.info(message, ...(rest as []));
      }
    }
    const gateway = await rig.gatewayFor({ logger: new BrokenLogger({ serviceName: 'ioto-bff' }) });
    const result = await rig.call('/v1/alert/find', {}, { base: gateway.url });
    expectProblem(result, 500, 'internal');
    expect(result.text).not.toContain('secret');
  });
});

describe('token rotation', () => {
  it('rotates the Ioto token mid-run with no failed call and one secret read', async () => {
    const reads = () => rig.secrets.commandCalls(GetSecretValueCommand).length;
    const before = await Promise.all([1, 2, 3].map(() => rig.call('/v1/alert/find', {})));
    expect(before.map((r) => r.status)).toEqual([200, 200, 200]);
    const readsBefore = reads();
    rig.rotate();
    const after = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        rig.call('/v1/device/get', { id: OWNER.deviceIds[i], accountId: OWNER.id }),
      ),
    );
    expect(after.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(reads()).toBe(readsBefore + 1);
  });
});

describe('malformed bodies never cause a 500 and never reach Ioto', () => {
  const BODIES: readonly [string, string][] = [
    ['truncated JSON', '{"a":'],
    ['an array', '[1,2,3]'],
    ['a string', '"text"'],
    ['a number', '42'],
    ['null', 'null'],
    ['true', 'true'],
    ['an unknown field only', '{"zz_unknown":1}'],
    ['a prototype key', '{"__proto__":{"isAdmin":true}}'],
    ['a constructor key', '{"constructor":{"prototype":{"x":1}}}'],
    ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`],
    [
      'deep nesting in a free attribute',
      `{"_type":"Event","x":${'['.repeat(30000)}${']'.repeat(30000)}}`,
    ],
    ['a NUL byte', '{"id":"\u0000"}'],
    ['a lone surrogate', '{"id":"\\ud800"}'],
    ['numbers as strings everywhere', '{"id":1,"accountId":2,"limit":"10"}'],
  ];
  const cases = catalog.flatMap((op) =>
    BODIES.map(([name, body]) => [operationKey(op), name, body] as const),
  );

  it.each(cases)('%s with %s answers 400 or 403', async (key, _name, body) => {
    const result = await rig.send(rig.gateway.url, `/v1/${key}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${rig.tokenFor('tester')}`,
      },
      body,
    });
    expect([400, 403]).toContain(result.status);
    // An accountId of the wrong type is refused by the account scope before validation.
    expect(['malformed_json', 'validation_failed', 'account_not_allowed']).toContain(
      result.body.code,
    );
    expect(rig.simulator.requests).toHaveLength(0);
  });
});

describe('the canary token', () => {
  it('never appears in a response body or header, nor in any log line', () => {
    expect(rig.responses.length).toBeGreaterThan(catalog.length * 10);
    for (const response of rig.responses) {
      expect(response.text).not.toContain(rig.canary);
      for (const [name, value] of response.headers) {
        expect(`${name}: ${value}`).not.toContain(rig.canary);
      }
    }
    expect(rig.output.records().length).toBeGreaterThan(0);
    expect(rig.output.text()).not.toContain(rig.canary);
  });

  it('and no partner access token appears in a log line either', () => {
    expect(rig.tokens.length).toBeGreaterThan(0);
    const logged = rig.output.text();
    for (const token of rig.tokens) expect(logged).not.toContain(token.split('.')[2]);
  });
});
