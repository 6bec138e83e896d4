import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SEED } from '../../dev/ioto-simulator';
import { loadOrCreateIssuerKey, signJwt } from '../../dev/local-issuer';
import { NEUTRAL_REJECTION_DETAIL } from '../../lambda/auth/scoped-partner-policy';
import { devAccessConfig, globexClaims, nowSeconds } from '../support/access-fixtures';
import { type CallResult, expectEveryRefusalAudited, type Rig, startRig } from './gateway-harness';

/**
 * Broken object-level authorization attempts (OWASP API1:2023) by the development partners:
 * `globex` (read-write on account B) and `acme` (read-only on account A). Every attempt must be
 * refused with its problem code, and Ioto must never see a request for anyone else's account:
 * the only calls it may receive are device-ownership checks made with the caller's own account.
 */
const [A, B] = SEED.accounts;
const A_DEVICE = A.deviceIds[0] ?? '';
const B_DEVICE = B.deviceIds[0] ?? '';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig(devAccessConfig(), 'globex');
});

afterAll(async () => {
  await rig?.close();
});

beforeEach(() => {
  rig.simulator.reset();
});

const raw = (path: string, body: string, as = 'globex') =>
  rig.send(rig.gateway.url, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${rig.tokenFor(as)}` },
    body,
  });

/** Ioto saw nothing but ownership checks confined to the caller's account. */
const expectIotoUntouched = (ownAccount: string) => {
  for (const request of rig.simulator.requests) {
    expect(request).toMatchObject({ path: '/tok/device/get', body: { accountId: ownAccount } });
  }
};

const expectRefused = (result: CallResult, status: number, code: string) => {
  expect(result.status).toBe(status);
  expect(result.headers.get('content-type')).toBe('application/problem+json');
  expect(result.body).toMatchObject({ status, code, requestId: expect.any(String) });
  // Nothing about the other account leaks through the refusal.
  expect(result.text).not.toContain(A.id);
  expect(result.text).not.toContain(A_DEVICE);
  expect(result.text).not.toContain(A.name);
};

describe("another partner's account in the body", () => {
  it.each([
    ['as a string', { accountId: A.id }],
    ['as an array', { accountId: [A.id] }],
    ['as an array holding its own account', { accountId: [B.id] }],
    ['as an object', { accountId: { id: A.id } }],
    ['as a number', { accountId: 1 }],
    ['as null', { accountId: null }],
    ['in lower case', { accountId: A.id.toLowerCase() }],
    ['its own account in lower case', { accountId: B.id.toLowerCase() }],
    ['with surrounding space', { accountId: ` ${B.id} ` }],
    ['with a trailing newline', { accountId: `${B.id}\n` }],
    ['as an empty string', { accountId: '' }],
  ])('is refused %s', async (_name, body) => {
    expectRefused(await rig.call('/v1/device/find', body), 403, 'account_not_allowed');
    expect(rig.simulator.requests).toHaveLength(0);
  });

  it.each([
    ['account/get', { id: A.id }],
    ['alert/find', { accountId: A.id }],
    ['generic/find', { _type: 'Store', accountId: A.id }],
    ['store/get', { deviceId: B_DEVICE, key: 'firmware', accountId: A.id }],
    ['dashboard/create', { name: 'x', accountId: A.id }],
  ])('is refused on %s', async (key, body) => {
    // globex is not granted account/get at all: function level answers first.
    const expected = key === 'account/get' ? 'operation_not_allowed' : 'account_not_allowed';
    expectRefused(await rig.call(`/v1/${key}`, body), 403, expected);
    expect(rig.simulator.requests).toHaveLength(0);
  });

  it('is refused on an operation that takes no account', async () => {
    const result = await rig.call('/v1/device/release', { id: B_DEVICE, accountId: A.id });
    expectRefused(result, 403, 'account_not_allowed');
    expect(rig.simulator.requests).toHaveLength(0);
  });

  it.each([
    ['the foreign key last', `{"accountId":"${B.id}","accountId":"${A.id}"}`],
    ['the foreign key first', `{"accountId":"${A.id}","accountId":"${B.id}"}`],
    ['an escaped duplicate', `{"\\u0061ccountId":"${A.id}","accountId":"${B.id}"}`],
  ])('is refused through duplicate JSON keys, %s', async (_name, body) => {
    expectRefused(await raw('/v1/device/find', body), 400, 'malformed_json');
    expect(rig.simulator.requests).toHaveLength(0);
  });

  it('is refused when written with a unicode escape', async () => {
    expectRefused(
      await raw('/v1/device/find', `{"\\u0061ccountId":"${A.id}"}`),
      403,
      'account_not_allowed',
    );
  });
});

describe('prototype payloads', () => {
  it.each([
    ['__proto__ on a strict operation', '/v1/device/find', `{"__proto__":{"accountId":"${A.id}"}}`],
    [
      'constructor on a strict operation',
      '/v1/device/find',
      `{"constructor":{"prototype":{"accountId":"${A.id}"}}}`,
    ],
    [
      '__proto__ on a free-attribute operation',
      '/v1/generic/find',
      `{"_type":"Store","__proto__":{"accountId":"${A.id}"}}`,
    ],
    [
      'constructor on a free-attribute operation',
      '/v1/generic/create',
      `{"_type":"Event","constructor":{"prototype":{"isAdmin":true}}}`,
    ],
    [
      'prototype on a free-attribute operation',
      '/v1/generic/update',
      `{"_type":"Event","prototype":{"accountId":"${A.id}"}}`,
    ],
  ])('refuses %s', async (_name, path, body) => {
    expectRefused(await raw(path, body), 400, 'validation_failed');
    expect(rig.simulator.requests).toHaveLength(0);
    expect(({} as Record<string, unknown>).accountId).toBeUndefined();
  });
});

describe("another account's device", () => {
  it.each([
    ['device/release', { id: A_DEVICE }],
    ['device/claim', { id: A_DEVICE }],
    ['generic/get', { _type: 'Store', deviceId: A_DEVICE, key: 'firmware' }],
    ['generic/find', { _type: 'Store', deviceId: A_DEVICE }],
    ['generic/create', { _type: 'Event', deviceId: A_DEVICE, name: 'x' }],
    ['generic/update', { _type: 'Store', deviceId: A_DEVICE, key: 'firmware', value: 'x' }],
    ['generic/remove', { _type: 'Store', deviceId: A_DEVICE, key: 'firmware' }],
    ['store/get', { deviceId: A_DEVICE, key: 'firmware' }],
    ['store/set', { deviceId: A_DEVICE, key: 'mode', value: 'eco' }],
    [
      'metric/fetch',
      { deviceId: A_DEVICE, items: [{ namespace: SEED.metricNamespace, statistic: 'avg' }] },
    ],
  ])(
    'is refused on %s with device_not_allowed, checked with the own account only',
    async (key, body) => {
      const result = await rig.call(`/v1/${key}`, body);
      // A claim of a device someone holds is Ioto's to refuse (answered neutrally, as for a
      // missing device); everything else is ours.
      if (key === 'device/claim') {
        expectRefused(result, 400, 'upstream_rejected');
        expect(result.body.detail).toBe(NEUTRAL_REJECTION_DETAIL);
      } else expectRefused(result, 403, 'device_not_allowed');
      if (key !== 'device/claim') expectIotoUntouched(B.id);
    },
  );

  it('is not found on device/get, which Ioto answers within the own account only', async () => {
    const result = await rig.call('/v1/device/get', { id: A_DEVICE });
    expectRefused(result, 400, 'upstream_rejected');
    expectIotoUntouched(B.id);
    // A foreign device and a missing one look the same: no enumeration across accounts.
    const missing = await rig.call('/v1/device/get', { id: 'SIMZ999999' });
    expect(missing.body.detail).toBe(result.body.detail);
  });

  it('is refused by a device allow-list before Ioto is asked', async () => {
    const limited = devAccessConfig();
    const partners = limited.partners.map((p) =>
      p.id === 'globex' ? { ...p, devices: { prefixes: ['SIMB00000'] } } : p,
    );
    const narrow = await startRig({ ...limited, partners }, 'globex');
    try {
      const result = await narrow.call('/v1/store/get', {
        deviceId: 'SIMB000010',
        key: 'firmware',
      });
      expect(result.body).toMatchObject({ code: 'device_not_allowed' });
      expect(narrow.simulator.requests).toHaveLength(0);
      const allowed = await narrow.call('/v1/store/get', {
        deviceId: 'SIMB000001',
        key: 'firmware',
      });
      expect(allowed.status).toBe(200);
      const listed = await narrow.call('/v1/device/find', {});
      expect((listed.body.data as { id: string }[]).map((d) => d.id)).toEqual(
        B.deviceIds.filter((id) => id.startsWith('SIMB00000')),
      );
    } finally {
      await narrow.close();
    }
  });
});

describe('automated actions (the shipped development configuration)', () => {
  it("refuses globex's granted action on acme's device, named in the context", async () => {
    const result = await rig.call('/v1/action/invoke', {
      name: 'reboot-device',
      context: { deviceId: A_DEVICE },
    });
    expectRefused(result, 403, 'device_not_allowed');
    expectIotoUntouched(B.id);
    expect(rig.simulator.requests).toHaveLength(1);
  });

  it('runs the granted action on its own device, in its own account', async () => {
    const result = await rig.call('/v1/action/invoke', {
      name: 'reboot-device',
      context: { deviceId: B_DEVICE },
    });
    expect(result.status).toBe(200);
    expect(rig.simulator.requests.map((r) => [r.path, r.body])).toEqual([
      ['/tok/device/get', { id: B_DEVICE, accountId: B.id }],
      [
        '/tok/action/invoke',
        { name: 'reboot-device', context: { deviceId: B_DEVICE, accountId: B.id } },
      ],
    ]);
  });

  it.each([
    ['an action it is not granted', { name: SEED.actionName }],
    ['a granted name in another case', { name: 'Reboot-Device' }],
    ['an action by id', { id: SEED.actionId }],
    ['an action by id beside a granted name', { id: SEED.failingActionId, name: 'reboot-device' }],
  ])('refuses %s with action_not_allowed, asking Ioto nothing', async (_name, body) => {
    expectRefused(await rig.call('/v1/action/invoke', body), 403, 'action_not_allowed');
    expect(rig.simulator.requests).toHaveLength(0);
  });

  it("refuses acme's account in the action context", async () => {
    const result = await rig.call('/v1/action/invoke', {
      name: 'reboot-device',
      context: { accountId: A.id, deviceId: B_DEVICE },
    });
    expectRefused(result, 403, 'account_not_allowed');
    expect(rig.simulator.requests).toHaveLength(0);
  });
});

describe('nested device fields (the shipped development configuration)', () => {
  it("refuses acme's device in a metric dimension beside globex's own device", async () => {
    const result = await rig.call('/v1/metric/fetch', {
      deviceId: B_DEVICE,
      items: [
        { namespace: SEED.metricNamespace, statistic: 'avg', dimensions: { Device: B_DEVICE } },
        { namespace: SEED.metricNamespace, statistic: 'avg', dimensions: { Device: A_DEVICE } },
      ],
    });
    expectRefused(result, 403, 'device_not_allowed');
    expectIotoUntouched(B.id);
  });

  it("refuses acme's device in a dashboard widget", async () => {
    const result = await rig.call('/v1/dashboard/create', {
      name: 'Fleet',
      widgets: [{ type: 'graph', metric: 'temperature', dimensions: { Device: A_DEVICE } }],
    });
    expectRefused(result, 403, 'device_not_allowed');
    expectIotoUntouched(B.id);
  });
});

describe('page tokens', () => {
  it('refuses a token replayed by another partner', async () => {
    const page = await rig.call('/v1/device/find', { limit: 2 }, { as: 'acme' });
    expect(page.status).toBe(200);
    rig.simulator.reset();
    const replay = await rig.call('/v1/device/find', {
      limit: 2,
      pageToken: page.body.nextPageToken,
    });
    expectRefused(replay, 400, 'invalid_page_token');
    expect(rig.simulator.requests).toHaveLength(0);
  });

  it('refuses a token replayed with changed filters', async () => {
    const page = await rig.call('/v1/generic/find', { _type: 'Store', limit: 2 });
    expect(page.status).toBe(200);
    rig.simulator.reset();
    const replay = await rig.call('/v1/generic/find', {
      _type: 'Event',
      limit: 2,
      pageToken: page.body.nextPageToken,
    });
    expectRefused(replay, 400, 'invalid_page_token');
    expect(rig.simulator.requests).toHaveLength(0);
  });
});

describe('access tokens', () => {
  const now = nowSeconds;
  const claims = globexClaims;
  const alg = (name: string) =>
    Buffer.from(JSON.stringify({ alg: name, typ: 'JWT' })).toString('base64url');
  const payload = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it.each([
    ['no token', async () => undefined],
    ['an expired token', async () => signJwt(rig.gateway.issuerKey, claims({ exp: now() - 60 }))],
    [
      'a token not yet valid',
      async () => signJwt(rig.gateway.issuerKey, claims({ nbf: now() + 600 })),
    ],
    [
      'a token signed with another key',
      async () => {
        const other = await loadOrCreateIssuerKey(
          join(tmpdir(), `ioto-bff-other-key-${randomBytes(6).toString('hex')}.json`),
        );
        return signJwt({ ...other, kid: rig.gateway.issuerKey.kid }, claims());
      },
    ],
    ['an alg none token', async () => `${alg('none')}.${payload(claims())}.`],
    [
      'a token from another issuer',
      async () => signJwt(rig.gateway.issuerKey, claims({ iss: 'https://evil.example' })),
    ],
    [
      'a token for another scope',
      async () => signJwt(rig.gateway.issuerKey, claims({ scope: 'billing/read' })),
    ],
    [
      'an ID token',
      async () =>
        signJwt(
          rig.gateway.issuerKey,
          claims({ token_use: 'id', scope: undefined, aud: 'globex' }),
          'JWT',
        ),
    ],
  ])('refuses %s with 401 before anything runs', async (_name, token) => {
    const jwt = await token();
    const result = await rig.send(rig.gateway.url, '/v1/device/find', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(jwt !== undefined && { authorization: `Bearer ${jwt}` }),
      },
      body: '{}',
    });
    expectRefused(result, 401, 'unauthorized');
    expect(result.headers.get('www-authenticate')).toBe('Bearer');
    expect(rig.simulator.requests).toHaveLength(0);
  });
});

it('writes an audit line, with the partner and the code, for every refusal it provoked', () => {
  expect(expectEveryRefusalAudited(rig)).toBeGreaterThan(0);
});
