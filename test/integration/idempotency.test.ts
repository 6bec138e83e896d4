import { SEED } from '../../dev/ioto-simulator';
import { LOCAL_ISSUER } from '../../dev/local-issuer';
import { catalog, operationKey } from '../../lambda/catalog/index';
import { parseAccessConfig } from '../../lambda/config/access';
import { ASSUMED_SCOPE_OPERATIONS, TEST_SCOPE } from '../support/access-fixtures';
import { type CallResult, type Rig, startRig } from './gateway-harness';

/**
 * Writes with an `Idempotency-Key` through the local gateway, over real HTTP, against the
 * recording simulator: what reaches Ioto is counted on the simulator's own record.
 */
const [A, B] = SEED.accounts;
const DEVICE_A = A.deviceIds[0] ?? '';
const DEVICE_B = B.deviceIds[0] ?? '';

const partner = (id: string, account: string, extra: Record<string, unknown> = {}) => ({
  id,
  operations: catalog.map(operationKey),
  acceptAssumedScope: ASSUMED_SCOPE_OPERATIONS,
  accounts: [account],
  actions: [...SEED.actionNames],
  identity: { issuer: LOCAL_ISSUER, clientId: `${id}-client` },
  ...extra,
});

const access = parseAccessConfig({
  scope: TEST_SCOPE,
  issuers: [{ issuer: LOCAL_ISSUER }],
  partners: [
    partner('alpha', A.id),
    partner('bravo', B.id),
    partner('strict', A.id, { requireIdempotencyKey: true }),
  ],
});

let rig: Rig;

beforeAll(async () => {
  rig = await startRig(access, 'alpha');
});

afterAll(async () => {
  await rig?.close();
});

beforeEach(() => {
  rig.simulator.reset();
});

let keys = 0;
/** A key no other test uses. */
const freshKey = () => {
  keys += 1;
  return `test-key-${Date.now()}-${keys}`;
};

const setItem = (key: string | undefined, value: number, as = 'alpha', device = DEVICE_A) =>
  rig.call(
    '/v1/store/set',
    { deviceId: device, key: 'setpoint', value },
    { as, ...(key !== undefined && { headers: { 'Idempotency-Key': key } }) },
  );

/** The writes that reached Ioto (the ownership checks are device/get, not counted). */
const writes = () =>
  rig.simulator.requests.filter((r) => r.controller === 'generic' && r.operation === 'update');

const audits = () =>
  rig.output.records().filter((line) => line.message === 'audit') as Record<string, unknown>[];

const expectProblem = (result: CallResult, status: number, code: string) => {
  expect(result.status).toBe(status);
  expect(result.headers.get('content-type')).toBe('application/problem+json');
  expect(result.body.code).toBe(code);
};

describe('a write with an Idempotency-Key', () => {
  it('replays the stored answer to the same key and body, without calling Ioto again', async () => {
    const key = freshKey();
    const first = await setItem(key, 21);
    const second = await setItem(key, 21);
    expect(first.status).toBe(200);
    expect(second.status).toBe(first.status);
    expect(second.text).toBe(first.text);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(writes()).toHaveLength(1);
    expect(audits().slice(-2)).toEqual([
      expect.objectContaining({ outcome: 'forwarded', idempotencyKey: key, partnerId: 'alpha' }),
      expect.objectContaining({ outcome: 'replayed', idempotencyKey: key, partnerId: 'alpha' }),
    ]);
  });

  it('answers 422 idempotency_key_reused to the same key with another body', async () => {
    const key = freshKey();
    expect((await setItem(key, 21)).status).toBe(200);
    expectProblem(await setItem(key, 22), 422, 'idempotency_key_reused');
    expect(writes()).toHaveLength(1);
  });

  it('answers 422 to the same key on another operation', async () => {
    const key = freshKey();
    expect((await setItem(key, 21)).status).toBe(200);
    const other = await rig.call(
      '/v1/generic/update',
      { _type: 'Store', deviceId: DEVICE_A, key: 'setpoint', value: 21 },
      { headers: { 'Idempotency-Key': key } },
    );
    expectProblem(other, 422, 'idempotency_key_reused');
  });

  it('forwards exactly once when two requests with the same key race', async () => {
    const key = freshKey();
    rig.simulator.faults.delayOperation('generic/update', 300);
    const [one, two] = await Promise.all([setItem(key, 21), setItem(key, 21)]);
    rig.simulator.faults.delayOperation('generic/update', 0);
    const statuses = [one.status, two.status].sort();
    expect(statuses).toEqual([200, 409]);
    const busy = one.status === 409 ? one : two;
    expectProblem(busy, 409, 'idempotency_in_progress');
    expect(busy.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(writes()).toHaveLength(1);
    // Once the first has finished, the same request is replayed.
    const later = await setItem(key, 21);
    expect(later.headers.get('idempotent-replayed')).toBe('true');
    expect(writes()).toHaveLength(1);
  });

  it.each([500, 503])(
    'does not remember a call Ioto failed with %s: the retry with the same key forwards',
    async (status) => {
      // generic/create is not safe to retry, so the proxy itself does not repeat it.
      const key = freshKey();
      const create = () =>
        rig.call(
          '/v1/generic/create',
          { _type: 'Event', deviceId: DEVICE_A, note: 'door open' },
          { headers: { 'Idempotency-Key': key } },
        );
      const creates = () => rig.simulator.requests.filter((r) => r.operation === 'create');
      rig.simulator.faults.jsonNext(1, status, { error: 'Simulated failure' }, 'generic/create');
      expectProblem(await create(), 502, 'upstream_error');
      const retry = await create();
      expect(retry.status).toBe(200);
      expect(retry.headers.get('idempotent-replayed')).toBeNull();
      expect(creates()).toHaveLength(2);
    },
  );

  it('does not remember a call that timed out: the retry forwards', async () => {
    const gateway = await rig.gatewayFor({ env: { UPSTREAM_TIMEOUT_MS: '200' } });
    const key = freshKey();
    rig.simulator.faults.delayOperation('generic/update', 600);
    const slow = await rig.call(
      '/v1/store/set',
      { deviceId: DEVICE_A, key: 'setpoint', value: 21 },
      { base: gateway.url, headers: { 'Idempotency-Key': key } },
    );
    expectProblem(slow, 504, 'upstream_timeout');
    rig.simulator.faults.delayOperation('generic/update', 0);
    const retry = await rig.call(
      '/v1/store/set',
      { deviceId: DEVICE_A, key: 'setpoint', value: 21 },
      { base: gateway.url, headers: { 'Idempotency-Key': key } },
    );
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
  });

  it('keeps the keys of two partners apart', async () => {
    const key = freshKey();
    expect((await setItem(key, 21, 'alpha', DEVICE_A)).status).toBe(200);
    const other = await setItem(key, 21, 'bravo', DEVICE_B);
    expect(other.status).toBe(200);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(writes()).toHaveLength(2);
  });

  it.each([
    ['an empty key', ''],
    ['a key with a space', 'two words'],
    ['a key of 256 characters', 'k'.repeat(256)],
    ['a key with a non-ASCII letter', 'clé-1'],
  ])('refuses %s with 400 validation_failed, before calling Ioto', async (_name, key) => {
    const result = await setItem(key, 21);
    expectProblem(result, 400, 'validation_failed');
    expect(result.body.errors).toEqual([
      expect.objectContaining({ path: 'header idempotency-key' }),
    ]);
    expect(rig.simulator.requests).toHaveLength(0);
  });

  it('accepts a key of 255 characters of the allowed alphabet', async () => {
    const key = `${'a'.repeat(250)}.:_-9`;
    expect((await setItem(key, 21)).status).toBe(200);
  });
});

describe('a partner that must send keys', () => {
  it('is refused a write without a key: 400 idempotency_key_required, nothing forwarded', async () => {
    const result = await setItem(undefined, 21, 'strict');
    expectProblem(result, 400, 'idempotency_key_required');
    expect(rig.simulator.requests).toHaveLength(0);
    expect(audits().at(-1)).toMatchObject({
      partnerId: 'strict',
      outcome: 'refused',
      code: 'idempotency_key_required',
    });
  });

  it('may still read without one', async () => {
    const result = await rig.call('/v1/device/find', {}, { as: 'strict' });
    expect(result.status).toBe(200);
  });
});

describe('a read with an Idempotency-Key', () => {
  it('ignores the header: every read reaches Ioto and none is replayed', async () => {
    const key = freshKey();
    const headers = { 'Idempotency-Key': key };
    const first = await rig.call('/v1/device/get', { id: DEVICE_A }, { headers });
    const second = await rig.call('/v1/device/get', { id: DEVICE_A }, { headers });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(rig.simulator.requests.filter((r) => r.operation === 'get')).toHaveLength(2);
  });
});

it('leaves no token and no body in any audit line', () => {
  const text = JSON.stringify(audits());
  expect(text).not.toContain(rig.canary);
  for (const token of rig.tokens) expect(text).not.toContain(token);
  expect(text).not.toContain('setpoint');
});
