import fc from 'fast-check';
import { SEED, sampleRequests } from '../../dev/ioto-simulator';
import type { RecordedRequest } from '../../dev/ioto-simulator/server';
import { LOCAL_ISSUER } from '../../dev/local-issuer';
import { catalog, operationKey } from '../../lambda/catalog/index';
import type { BodyPath, OperationDefinition } from '../../lambda/catalog/types';
import { parseAccessConfig } from '../../lambda/config/access';
import { ASSUMED_SCOPE_OPERATIONS, TEST_SCOPE } from '../support/access-fixtures';
import { type CallResult, expectEveryRefusalAudited, type Rig, startRig } from './gateway-harness';

/**
 * Tenant isolation, generated from the catalog's scope declarations: for every operation and
 * every place its body can name a device or an account (top-level fields, fields inside arrays,
 * keys anywhere inside free-form JSON), `mallory`, granted every operation and every action on
 * account B, sends account A's device or account there: as a string, in an array, nested two
 * levels down, and through duplicate keys. Each attempt is refused, and the recording Ioto
 * simulator (a real HTTP server on loopback) receives nothing that carries the foreign value,
 * except device ownership checks made with mallory's own account. The same place with
 * mallory's own value is let through to Ioto.
 */
const [A, B] = SEED.accounts;
const FOREIGN = { device: A.deviceIds[0] ?? '', account: A.id } as const;
const OWN = { device: B.deviceIds[1] ?? '', account: B.id } as const;

const access = parseAccessConfig({
  scope: TEST_SCOPE,
  issuers: [{ issuer: LOCAL_ISSUER }],
  partners: [
    {
      id: 'mallory',
      operations: catalog.map(operationKey),
      acceptAssumedScope: ASSUMED_SCOPE_OPERATIONS,
      accounts: [B.id],
      actions: [...SEED.actionNames],
      identity: { issuer: LOCAL_ISSUER, clientId: 'mallory-client' },
    },
    {
      id: 'acme',
      operations: ['device/find'],
      accounts: [A.id],
      identity: { issuer: LOCAL_ISSUER, clientId: 'acme-client' },
    },
  ],
});

type Kind = 'device' | 'account';

/** One place a body can name a device or an account: a key in the object at `container`. */
interface Place {
  readonly op: OperationDefinition;
  readonly container: BodyPath;
  readonly key: string;
  readonly kind: Kind;
  /** Declared by name in the scope (the account selector, a device field), not a free key. */
  readonly declared: boolean;
  /** The account selector: the policy refuses any other value before validation. */
  readonly selector: boolean;
}

/** Free-form regions hold one element at least, so a key can be put in each. */
const BASE_OVERRIDES: Record<string, Record<string, unknown>> = {
  'dashboard/create': { widgets: [{ type: 'graph', dimensions: {} }], css: [{}], widgetCss: [{}] },
  'dashboard/update': { widgets: [{ type: 'graph', dimensions: {} }], css: [{}], widgetCss: [{}] },
  'user/update': { preferences: {} },
};

const baseBody = (op: OperationDefinition): Record<string, unknown> => {
  const key = operationKey(op);
  const sample = sampleRequests(B)[key] ?? {};
  return structuredClone({ ...sample, ...BASE_OVERRIDES[key] });
};

/** Every place of every operation whose devices are checked before the call. */
const places: Place[] = catalog.flatMap((op) => {
  const { scope } = op;
  const regions = scope.freeForm ?? [];
  const declared = (path: BodyPath, kind: Kind, selector: boolean): Place => ({
    op,
    container: path.slice(0, -1),
    key: path.at(-1) ?? '',
    kind,
    declared: true,
    selector,
  });
  // device/claim, device/get and device/find send their device to Ioto by design (the call is
  // confined to the partner's account): they are covered by their own tests below.
  const lookedUp = (scope.deviceOwnership ?? 'lookup') === 'lookup';
  return [
    ...(scope.account ? [declared(scope.account, 'account', true)] : []),
    ...(lookedUp ? (scope.devices ?? []).map((path) => declared(path, 'device', false)) : []),
    ...regions.flatMap((region) =>
      (['deviceId', 'Device', 'accountId'] as const).map(
        (key): Place => ({
          op,
          container: region,
          key,
          kind: key === 'accountId' ? 'account' : 'device',
          declared: false,
          selector: false,
        }),
      ),
    ),
  ];
});

/** The object at `container` in `body`, created as needed (arrays: their first element). */
function containerIn(body: Record<string, unknown>, container: BodyPath): Record<string, unknown> {
  let node: unknown = body;
  container.forEach((segment, index) => {
    // A key below an array region (widgets, css) goes into its first element.
    if (Array.isArray(node) && segment !== '[]') {
      if (typeof node[0] !== 'object' || node[0] === null) node[0] = {};
      node = node[0];
    }
    const holder = node as Record<string | number, unknown>;
    const slot = segment === '[]' ? 0 : segment;
    if (typeof holder[slot] !== 'object' || holder[slot] === null) {
      holder[slot] = container[index + 1] === '[]' ? [] : {};
    }
    node = holder[slot];
  });
  if (!Array.isArray(node)) return node as Record<string, unknown>;
  if (typeof node[0] !== 'object' || node[0] === null) node[0] = {};
  return node[0] as Record<string, unknown>;
}

const withValue = (place: Place, value: unknown, extra: BodyPath = []) => {
  const body = baseBody(place.op);
  containerIn(body, [...place.container, ...extra])[place.key] = value;
  return body;
};

/** The raw JSON text of a body where the place's key appears twice, `first` then `second`. */
const withDuplicate = (place: Place, first: string, second: string): string => {
  const marker = '__DUPLICATE_MARKER__';
  const text = JSON.stringify(withValue(place, marker));
  const key = JSON.stringify(place.key);
  return text.replace(
    `${key}:"${marker}"`,
    `${key}:${JSON.stringify(first)},${key}:${JSON.stringify(second)}`,
  );
};

let rig: Rig;

beforeAll(async () => {
  rig = await startRig(access, 'mallory');
});

afterAll(async () => {
  await rig?.close();
});

beforeEach(() => {
  rig.simulator.reset();
});

const raw = (key: string, body: string) =>
  rig.send(rig.gateway.url, `/v1/${key}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${rig.tokenFor('mallory')}`,
    },
    body,
  });

/** An ownership check: device/get of that device, confined to mallory's own account. */
const isOwnershipCheck = (request: RecordedRequest, device: string) =>
  request.path === '/tok/device/get' &&
  JSON.stringify(request.body) === JSON.stringify({ id: device, accountId: OWN.account });

/** Nothing Ioto received carries the foreign value, except ownership checks of a device. */
const expectNothingForeignReachedIoto = (kind: Kind) => {
  const value = FOREIGN[kind];
  const carriers = rig.simulator.requests.filter((request) =>
    JSON.stringify({ body: request.body, query: request.rawQuery }).includes(value),
  );
  const leaks = carriers.filter(
    (request) => kind === 'account' || !isOwnershipCheck(request, value),
  );
  expect(leaks).toEqual([]);
};

const expectRefused = (result: CallResult, status: number, code: string) => {
  expect({ status: result.status, code: result.body.code }).toEqual({ status, code });
  expect(result.text).not.toContain(FOREIGN.account);
  expect(result.text).not.toContain(FOREIGN.device);
};

const refusalOf = (kind: Kind) =>
  kind === 'device' ? 'device_not_allowed' : 'account_not_allowed';

const name = (place: Place) =>
  `${operationKey(place.op)} ${[...place.container, place.key].join('.')}`;

/** One case per place: a declared field inside a free-form region is listed once, declared. */
const cases = places
  .filter((place, index) => places.findIndex((other) => name(other) === name(place)) === index)
  .map((place) => [name(place), place] as const);

describe('isolation through every declared place', () => {
  it('covers every operation that names an account or a device', () => {
    const covered = new Set(places.map((place) => operationKey(place.op)));
    const scoped = catalog
      .filter((op) => op.scope.account !== undefined || (op.scope.devices?.length ?? 0) > 0)
      .map(operationKey)
      .filter((key) => !['device/claim', 'device/get', 'device/find'].includes(key));
    expect(scoped.filter((key) => !covered.has(key))).toEqual([]);
    expect(
      places.filter((place) => !place.declared && place.key === 'Device').length,
    ).toBeGreaterThan(5);
  });

  it.each(cases)("%s: refuses another tenant's value as a string", async (_name, place) => {
    const result = await rig.call(
      `/v1/${operationKey(place.op)}`,
      withValue(place, FOREIGN[place.kind]),
    );
    expectRefused(result, 403, refusalOf(place.kind));
    expectNothingForeignReachedIoto(place.kind);
  });

  it.each(cases)("%s: refuses another tenant's value in an array", async (_name, place) => {
    const body = withValue(place, [OWN[place.kind], FOREIGN[place.kind]]);
    const result = await rig.call(`/v1/${operationKey(place.op)}`, body);
    // A field the schema types as a string fails validation first; anywhere JSON may stand
    // (and at the account selector, checked before validation) the policy refuses it.
    const { limit: _limit, ...fields } = body;
    const typed = !place.selector && !place.op.request.safeParse(fields).success;
    if (typed) expectRefused(result, 400, 'validation_failed');
    else expectRefused(result, 403, refusalOf(place.kind));
    expectNothingForeignReachedIoto(place.kind);
  });

  it.each(cases.filter(([, place]) => !place.declared))(
    "%s: refuses another tenant's value nested two levels down",
    async (_name, place) => {
      const body = withValue(place, FOREIGN[place.kind], ['outer', 'inner']);
      const result = await rig.call(`/v1/${operationKey(place.op)}`, body);
      expectRefused(result, 403, refusalOf(place.kind));
      expectNothingForeignReachedIoto(place.kind);
    },
  );

  it.each(cases)(
    "%s: refuses another tenant's value behind a duplicate key, first or last",
    async (_name, place) => {
      for (const [first, second] of [
        [OWN[place.kind], FOREIGN[place.kind]],
        [FOREIGN[place.kind], OWN[place.kind]],
      ] as const) {
        const text = withDuplicate(place, first, second);
        expect(text).toContain(FOREIGN[place.kind]);
        expectRefused(await raw(operationKey(place.op), text), 400, 'malformed_json');
      }
      expect(rig.simulator.requests).toEqual([]);
    },
  );

  // An `accountId` at the top of a body whose operation takes none is refused, whoever's it is.
  const ownAdmitted = cases.filter(
    ([, place]) =>
      !(place.key === 'accountId' && place.container.length === 0 && !place.op.scope.account),
  );

  it.each(ownAdmitted)('%s: lets the own value through to Ioto', async (_name, place) => {
    const key = operationKey(place.op);
    const result = await rig.call(`/v1/${key}`, withValue(place, OWN[place.kind]));
    // Admitted: Ioto answered the call itself (some simulated items do not match the extra
    // attribute, which Ioto answers with its neutral refusal).
    expect([200, 400]).toContain(result.status);
    if (result.status === 400) expect(result.body.code).toBe('upstream_rejected');
    const target = place.op.upstream ?? place.op;
    const forwarded = rig.simulator.requests.filter(
      (request) => request.path === `/tok/${target.controller}/${target.operation}`,
    );
    const gatewaySelector =
      place.op.scope.accountScoping?.basis === 'gateway' &&
      place.container.length === 0 &&
      place.key === place.op.scope.account?.[0];
    if (gatewaySelector) {
      // The gateway's own selector: it went into the ownership check, not into the call.
      const check = rig.simulator.requests.find((r) => r.path === '/tok/device/get');
      expect(check?.body).toMatchObject({ accountId: OWN.account });
      expect(forwarded.at(-1)?.body).not.toHaveProperty(place.key);
    } else {
      expect(JSON.stringify(forwarded.at(-1)?.body)).toContain(OWN[place.kind]);
    }
  });
});

describe('devices Ioto itself confines to the account', () => {
  it('answers a claim of a foreign device and of a missing one byte for byte alike', async () => {
    const foreign = await rig.call('/v1/device/claim', { id: FOREIGN.device });
    const missing = await rig.call('/v1/device/claim', { id: 'SIMZ999999' });
    const withoutRequestId = (result: CallResult) =>
      result.text.replace(/"requestId":"[^"]*"/, '"requestId":""');
    expect(foreign.status).toBe(400);
    expect(withoutRequestId(foreign)).toBe(withoutRequestId(missing));
    expect(foreign.headers.get('content-type')).toBe(missing.headers.get('content-type'));
    // Ioto itself told the two apart: the difference stops at the proxy.
    expect(rig.simulator.requests.map((request) => request.body)).toEqual([
      { id: FOREIGN.device, accountId: OWN.account },
      { id: 'SIMZ999999', accountId: OWN.account },
    ]);
  });

  it('answers device/get of a foreign device and of a missing one byte for byte alike', async () => {
    const foreign = await rig.call('/v1/device/get', { id: FOREIGN.device });
    const missing = await rig.call('/v1/device/get', { id: 'SIMZ999999' });
    const strip = (result: CallResult) => ({ ...result.body, requestId: '' });
    expect(foreign.status).toBe(400);
    expect(strip(foreign)).toEqual(strip(missing));
  });

  it('lists nothing for a foreign device id on device/find, asking Ioto in the own account', async () => {
    const result = await rig.call('/v1/device/find', { id: FOREIGN.device });
    expect(result.status).toBe(200);
    expect(result.body.data).toEqual([]);
    expect(rig.simulator.requests.map((request) => request.body)).toEqual([
      { id: FOREIGN.device, accountId: OWN.account },
    ]);
  });
});

describe('oversized and deeply nested free-form JSON', () => {
  const invoke = (context: unknown) =>
    rig.call('/v1/action/invoke', { name: SEED.deviceActionName, context });

  it('refuses a context of more than 1,000 keys with validation_failed, asking Ioto nothing', async () => {
    const wide = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i]));
    const result = await invoke(wide);
    expectRefused(result, 400, 'validation_failed');
    expect(result.body.errors).toEqual([
      { path: '/context', message: 'Holds more than 1000 keys' },
    ]);
    expect(rig.simulator.requests).toEqual([]);
  });

  it('refuses a context nested 10,000 levels deep with validation_failed', async () => {
    const depth = 10_000;
    const text = `{"name":"${SEED.deviceActionName}","context":${'{"d":'.repeat(depth)}{"deviceId":"${FOREIGN.device}"}${'}'.repeat(depth)}}`;
    const result = await raw('action/invoke', text);
    expectRefused(result, 400, 'validation_failed');
    expect(rig.simulator.requests).toEqual([]);
  });

  it('accepts a context of 1,000 keys, the account the gateway sets included', async () => {
    const wide = Object.fromEntries(Array.from({ length: 999 }, (_, i) => [`k${i}`, i]));
    expect((await invoke(wide)).status).toBe(200);
  });
});

describe('ownership checks', () => {
  it('checks each distinct device once per request, however often the body names it', async () => {
    const dimensions = { Device: OWN.device };
    const result = await rig.call('/v1/metric/fetch', {
      deviceId: OWN.device,
      items: [0, 1, 2].map(() => ({
        namespace: SEED.metricNamespace,
        statistic: 'avg',
        dimensions,
      })),
    });
    expect(result.status).toBe(200);
    expect(rig.simulator.requests.map((request) => request.path)).toEqual([
      '/tok/device/get',
      '/tok/metric/fetch',
    ]);
  });
});

describe('signed URLs', () => {
  it('refuses a signed URL without a device, asking Ioto nothing', async () => {
    const result = await rig.call('/v1/device/getSignedUrl', { command: 'get', filename: 'x' });
    expectRefused(result, 400, 'validation_failed');
    expect(result.body.errors).toEqual([{ path: '/id', message: expect.any(String) }]);
    expect(rig.simulator.requests).toEqual([]);
  });

  it.each([
    `../${FOREIGN.device}/secret.bin`,
    `/${FOREIGN.account}/${FOREIGN.device}/secret.bin`,
    `\\${FOREIGN.device}\\secret.bin`,
    `%2e%2e%2f${FOREIGN.device}%2fsecret.bin`,
    `%252e%252e/${FOREIGN.device}/secret.bin`,
    `logs/..%5c..%5c${FOREIGN.device}`,
    'log\u0000.txt',
  ])('refuses the file name %j, asking Ioto nothing', async (filename) => {
    const result = await rig.call('/v1/device/getSignedUrl', {
      id: OWN.device,
      command: 'get',
      filename,
    });
    expect({ status: result.status, code: result.body.code }).toEqual({
      status: 400,
      code: 'validation_failed',
    });
    expect(result.body.errors).toEqual([{ path: '/filename', message: expect.any(String) }]);
    expect(rig.simulator.requests).toEqual([]);
  });

  it("signs a URL for a file of the partner's own device", async () => {
    const result = await rig.call('/v1/device/getSignedUrl', {
      id: OWN.device,
      command: 'put',
      filename: 'logs/2026-11-26.txt',
    });
    expect(result.status).toBe(200);
    expect(result.body.data).toContain(`/${OWN.account}/${OWN.device}/`);
  });
});

describe('free-form JSON hiding another tenant, generated (fast-check, seeded)', () => {
  /** Naming keys in the letter cases a hostile partner might try. */
  const deviceKey = fc.constantFrom(
    'deviceId',
    'Device',
    'device',
    'DEVICEID',
    'deviceIds',
    'Devices',
  );
  const accountKey = fc.constantFrom('accountId', 'ACCOUNTID', 'AccountId', 'accountIds');
  const NAMING = /^(deviceids?|devices?|accountids?)$/i;
  /** Innocent keys: never a naming key, never one the schemas reserve. */
  const innocentKey = fc
    .string({ minLength: 1, maxLength: 10 })
    .filter((key) => !NAMING.test(key) && !['__proto__', 'constructor', 'prototype'].includes(key));
  /** Innocent JSON: small, and holding neither tenant's ids (random text cannot spell them). */
  const innocentJson = fc.jsonValue({ maxDepth: 2 }).filter((value) => {
    const text = JSON.stringify(value) ?? '';
    return !NAMING.test(text) && !/device|account/i.test(text);
  });
  const innocentObject = fc.dictionary(innocentKey, innocentJson, { maxKeys: 6 });

  /** A hidden value: a key naming the foreign device or account, as a string or in an array. */
  const hidden = fc.oneof(
    fc.record({ kind: fc.constant<Kind>('device'), key: deviceKey, inArray: fc.boolean() }),
    fc.record({ kind: fc.constant<Kind>('account'), key: accountKey, inArray: fc.boolean() }),
  );
  /** The way down to it: object keys and array positions, up to ten levels. */
  const route = fc.array(fc.oneof(innocentKey, fc.constant(0)), { maxLength: 10 });

  /** `base` with `{[key]: value}` put at the end of `path` (numbers: wrap in an array). */
  const hide = (
    base: Record<string, unknown>,
    path: readonly (string | number)[],
    key: string,
    value: unknown,
  ): Record<string, unknown> => {
    let leaf: unknown = { [key]: value };
    for (const step of [...path].reverse())
      leaf = typeof step === 'number' ? [leaf] : { [step]: leaf };
    return { ...base, hiding: leaf };
  };

  const secretValue = (kind: Kind, inArray: boolean) =>
    inArray ? [OWN[kind], FOREIGN[kind]] : FOREIGN[kind];

  it('never lets an action context carry another tenant to Ioto', async () => {
    await fc.assert(
      fc.asyncProperty(innocentObject, route, hidden, async (base, path, secret) => {
        rig.simulator.reset();
        const clean = await rig.call('/v1/action/invoke', {
          name: SEED.deviceActionName,
          context: { ...base, deviceId: OWN.device },
        });
        expect(clean.status).toBe(200);
        rig.simulator.reset();
        const context = hide(base, path, secret.key, secretValue(secret.kind, secret.inArray));
        const result = await rig.call('/v1/action/invoke', {
          name: SEED.deviceActionName,
          context: { ...context, deviceId: OWN.device },
        });
        expectRefused(result, 403, refusalOf(secret.kind));
        expectNothingForeignReachedIoto(secret.kind);
        expect(
          rig.simulator.requests.filter((request) => request.path === '/tok/action/invoke'),
        ).toEqual([]);
      }),
      { seed: 20261126, numRuns: 60, endOnFailure: true },
    );
  });

  const regions = places.filter((place) => !place.declared && place.key === 'deviceId');

  it('never lets any free-form region carry another tenant to Ioto', async () => {
    expect(regions.length).toBeGreaterThan(10);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...regions),
        innocentObject,
        route,
        hidden,
        async (place, base, path, secret) => {
          rig.simulator.reset();
          const body = baseBody(place.op);
          Object.assign(
            containerIn(body, place.container),
            hide(base, path, secret.key, secretValue(secret.kind, secret.inArray)),
          );
          const key = operationKey(place.op);
          expectRefused(await rig.call(`/v1/${key}`, body), 403, refusalOf(secret.kind));
          expectNothingForeignReachedIoto(secret.kind);
          const target = place.op.upstream ?? place.op;
          expect(
            rig.simulator.requests.filter(
              (request) => request.path === `/tok/${target.controller}/${target.operation}`,
            ),
          ).toEqual([]);
        },
      ),
      { seed: 20261126, numRuns: 80, endOnFailure: true },
    );
  });
});

it('writes an audit line, with the partner and the code, for every refusal it provoked', () => {
  expect(expectEveryRefusalAudited(rig)).toBeGreaterThan(0);
});
