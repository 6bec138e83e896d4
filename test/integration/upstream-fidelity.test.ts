import { SEED, sampleRequests } from '../../dev/ioto-simulator';
import { catalog, operationKey } from '../../lambda/catalog/index';
import { USER_AGENT } from '../../lambda/upstream/ioto-client';
import { fullAccessConfig } from '../support/access-fixtures';
import { type CallResult, type Rig, startRig } from './gateway-harness';

/**
 * What Ioto receives, and what a partner gets back when Ioto reports a failure, recorded over
 * real sockets by the Ioto simulator: exactly the proxy's headers, and no failure as a success.
 */
const [OWNER] = SEED.accounts;
const DEVICE = OWNER.deviceIds[0] ?? '';

let rig: Rig;

beforeAll(async () => {
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
  expect(result.body).toMatchObject({ status, code });
  expect(result.text).not.toContain(rig.canary);
};

describe('the headers Ioto receives', () => {
  /** The headers of every request the simulator received (credentials are redacted there). */
  const received = () => rig.simulator.requests.map((request) => request.headers);

  it.each([
    ['the raw token and no origin', {}, 'raw', undefined],
    ['a bearer token and no origin', { IOTO_AUTH_SCHEME: 'bearer' }, 'bearer', undefined],
    [
      'the raw token and an origin',
      { IOTO_ORIGIN: 'https://app.example.com' },
      'raw',
      'https://app.example.com',
    ],
    [
      'a bearer token and an origin',
      { IOTO_AUTH_SCHEME: 'bearer', IOTO_ORIGIN: 'https://app.example.com:8443' },
      'bearer',
      'https://app.example.com:8443',
    ],
  ] as const)('are exactly the proxy’s, with %s', async (_name, env, scheme, origin) => {
    const gateway = await rig.gatewayFor({ env });
    rig.simulator.reset();
    const result = await rig.call(
      '/v1/store/get',
      { deviceId: DEVICE, key: SEED.storeKey },
      {
        base: gateway.url,
      },
    );
    expect(result.status).toBe(200);
    // The ownership check and the call: both with the same header set.
    expect(received()).toHaveLength(2);
    for (const headers of received()) {
      expect(Object.keys(headers).sort()).toEqual(
        [
          'accept',
          'authorization',
          'connection',
          'content-length',
          'content-type',
          'host',
          'user-agent',
          ...(origin === undefined ? [] : ['origin']),
        ].sort(),
      );
      expect(headers).toMatchObject({
        accept: 'application/json',
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        ...(origin !== undefined && { origin }),
      });
    }
    // The simulator accepted the token in the scheme given (it accepts both forms).
    expect(rig.simulator.requests.every((request) => request.authorized)).toBe(true);
    expect(['raw', 'bearer']).toContain(scheme);
  });

  it('refuses a configured origin that is not an https origin, naming the variable', async () => {
    await expect(
      rig.gatewayFor({ env: { IOTO_ORIGIN: 'http://app.example.com' } }),
    ).rejects.toThrow(/IOTO_ORIGIN/);
    await expect(
      rig.gatewayFor({ env: { IOTO_ORIGIN: 'https://app.example.com/path' } }),
    ).rejects.toThrow(/IOTO_ORIGIN/);
    // Not a URL at all: a configuration error naming the variable, not a TypeError.
    await expect(rig.gatewayFor({ env: { IOTO_ORIGIN: 'abc' } })).rejects.toThrow(
      /IOTO_ORIGIN: must be an https origin/,
    );
  });
});

describe('failures Ioto reports in its answer', () => {
  const invoke = (name: string) =>
    rig.call('/v1/action/invoke', { name, context: { deviceId: DEVICE } });

  it('answers a failing action with 502 upstream_failed and its message, never 200', async () => {
    const result = await invoke(SEED.failingActionName);
    expectProblem(result, 502, 'upstream_failed');
    expect(result.body.detail).toBe(
      'Ioto reports that the operation failed: Simulated action failure',
    );
  });

  it('answers the same failure reported with a 400 the same way', async () => {
    rig.simulator.faults.jsonNext(
      1,
      400,
      { error: 'Simulated action failure', name: SEED.deviceActionName },
      'action/invoke',
    );
    const result = await invoke(SEED.deviceActionName);
    expectProblem(result, 502, 'upstream_failed');
    expect(result.body.detail).toBe(
      'Ioto reports that the operation failed: Simulated action failure',
    );
  });

  it.each([
    ['with a 200', 200],
    ['with a 400', 400],
  ])(
    'asks the partner to wait when device/provision answers {error, delay} %s',
    async (_name, status) => {
      rig.simulator.faults.jsonNext(
        1,
        status,
        { error: 'Excessive I/O, try later', delay: 29.2 },
        'device/provision',
      );
      const result = await rig.call('/v1/device/provision', { id: DEVICE });
      expectProblem(result, 503, 'upstream_throttled');
      expect(result.headers.get('retry-after')).toBe('30');
      expect(result.body.detail).toBe('Ioto asks to wait: Excessive I/O, try later');
    },
  );

  it('answers a provision failure without a delay as upstream_failed', async () => {
    rig.simulator.faults.jsonNext(1, 200, { error: 'Cannot provision' }, 'device/provision');
    const result = await rig.call('/v1/device/provision', { id: DEVICE });
    expectProblem(result, 502, 'upstream_failed');
  });

  it('keeps the certificate of a provision that succeeded', async () => {
    const result = await rig.call('/v1/device/provision', { id: DEVICE });
    expect(result.status).toBe(200);
    expect(result.body.data).toMatchObject({ id: DEVICE, certificate: expect.any(String) });
  });

  it('leaves no token in any answer or log line', () => {
    for (const response of rig.responses) expect(response.text).not.toContain(rig.canary);
    expect(rig.output.text()).not.toContain(rig.canary);
  });
});

describe('one reader of Ioto replies', () => {
  afterEach(() => {
    rig.simulator.envelope = 'reference';
  });

  it.each(['reference', 'wrapped-records'] as const)(
    'confirms a device through its ownership check when records come %s',
    async (envelope) => {
      rig.simulator.envelope = envelope;
      const result = await rig.call('/v1/store/get', { deviceId: DEVICE, key: 'temperature' });
      expect(result.status).not.toBe(403);
      const checks = rig.simulator.requests.filter(
        (request) => request.controller === 'device' && request.operation === 'get',
      );
      expect(checks).toHaveLength(1);
      expect(result.body.code).not.toBe('device_not_allowed');
    },
  );

  it('answers device/get with the bare record when Ioto wraps it in {data}', async () => {
    rig.simulator.envelope = 'wrapped-records';
    const result = await rig.call('/v1/device/get', { id: DEVICE });
    expect(result.status).toBe(200);
    expect(result.body.data).toMatchObject({ id: DEVICE, accountId: OWNER.id });
  });
});

describe('answers of operations whose account scoping is assumed', () => {
  const [, OTHER] = SEED.accounts;

  it.each([
    ['a read', '/v1/alert/get', 'alert/get', { id: 'AL1' }],
    ['a write', '/v1/dashboard/create', 'dashboard/create', { name: 'Main' }],
  ])(
    'answers %s that comes back from another account with 502 and a scope violation',
    async (_name, path, operation, body) => {
      rig.simulator.faults.jsonNext(1, 200, { id: 'X1', accountId: OTHER.id }, operation);
      const result = await rig.call(path, body);
      expectProblem(result, 502, 'upstream_error');
      expect(result.text).not.toContain(OTHER.id);
      const violations = rig.output
        .records()
        .filter((line) => String(line.message).startsWith('scope violation'));
      expect(violations.at(-1)).toMatchObject({ operation, partnerId: 'tester' });
    },
  );

  it('passes on an answer that names the call account', async () => {
    const result = await rig.call('/v1/dashboard/create', { name: 'Ops' });
    expect(result.status).toBe(200);
    expect(result.body.data).toMatchObject({ name: 'Ops', accountId: OWNER.id });
  });
});

describe("the gateway's own account selector", () => {
  const gatewaySelected = catalog.filter((op) => op.scope.accountScoping?.basis === 'gateway');
  const samples = sampleRequests(OWNER);

  it('is declared on every device operation Ioto does not address by account', () => {
    expect(gatewaySelected.map(operationKey).sort()).toEqual([
      'device/getSignedUrl',
      'device/provision',
      'device/release',
      'provision/getCerts',
      'provision/update',
      'provision/updateReport',
    ]);
  });

  it.each(gatewaySelected.map(operationKey))(
    '%s: picks the account of the ownership check and never reaches Ioto',
    async (key) => {
      const body = { ...samples[key], accountId: OWNER.id };
      await rig.call(`/v1/${key}`, body);
      const [check, call] = rig.simulator.requests;
      expect(check).toMatchObject({
        controller: 'device',
        operation: 'get',
        body: { accountId: OWNER.id },
      });
      expect(`${call?.controller}/${call?.operation}`).toBe(key);
      expect(call?.body).not.toHaveProperty('accountId');
    },
  );
});
