import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonObject } from '../../lambda/catalog/fields';
import {
  catalog,
  findOperation,
  operationKey,
  withdrawnOperations,
} from '../../lambda/catalog/index';
import type { OperationDefinition, ResponseKind, Sensitivity } from '../../lambda/catalog/types';
import { strictObject, toJSONSchema } from '../../lambda/config/zod';

/** Every Ioto operation the catalog lists: the offered ones and the withdrawn ones. */
const EVERY_OPERATION = [...catalog, ...withdrawnOperations];

const opOf = (key: string): OperationDefinition => {
  const op = EVERY_OPERATION.find((candidate) => operationKey(candidate) === key);
  if (op === undefined) throw new Error(`${key} is not in the catalog`);
  return op;
};

const parse = (key: string, body: unknown) => opOf(key).request.safeParse(body);

/** The top-level field of every issue of a failed parse (unknown keys name themselves). */
const issueFields = (key: string, body: unknown): PropertyKey[] => {
  const result = parse(key, body);
  if (result.success) throw new Error(`${key} accepted ${JSON.stringify(body)}`);
  return result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' && issue.path.length === 0
      ? issue.keys
      : [issue.path[0] ?? ''],
  );
};

/** The 42 HTTP operations of the ten indexed controllers (docs/ioto-api.md §0), literally. */
const HTTP_OPERATIONS = [
  'account/close',
  'account/find',
  'account/get',
  'account/updateIdentity',
  'action/find',
  'action/get',
  'action/invoke',
  'alert/find',
  'alert/get',
  'alert/remove',
  'alert/update',
  'dashboard/create',
  'dashboard/find',
  'dashboard/get',
  'dashboard/remove',
  'dashboard/update',
  'device/claim',
  'device/find',
  'device/get',
  'device/getCreds',
  'device/getSignedUrl',
  'device/provision',
  'device/release',
  'generic/create',
  'generic/find',
  'generic/get',
  'generic/remove',
  'generic/update',
  'metric/fetch',
  'metric/getDeviceSchema',
  'metric/getMetricList',
  'provision/getCerts',
  'provision/update',
  'provision/updateReport',
  'user/create',
  'user/find',
  'user/get',
  'user/getRoles',
  'user/login',
  'user/remove',
  'user/update',
  'user/updateRole',
] as const;

/** Store is MQTT-only upstream; these two are offered by translation to Generic (§3.9). */
const TRANSLATED_OPERATIONS = ['store/get', 'store/set'] as const;

const GENERIC_OPERATIONS = HTTP_OPERATIONS.filter((key) => key.startsWith('generic/'));

/** Operations that accept free attributes (`*` in the reference); every other one is strict. */
const FREE_ATTRIBUTE_OPERATIONS = new Set<string>([...GENERIC_OPERATIONS, 'provision/update']);

/** The smallest body each operation accepts. */
const MINIMAL_BODIES: Record<string, Record<string, unknown>> = {
  'account/close': {},
  'account/find': {},
  'account/get': {},
  'account/updateIdentity': {},
  'action/find': { cloudId: 'C1' },
  'action/get': { cloudId: 'C1', type: 'email' },
  'action/invoke': { name: 'myAction' },
  'alert/find': {},
  'alert/get': { id: 'AL1' },
  'alert/remove': { id: 'AL1' },
  'alert/update': { id: 'AL1' },
  'dashboard/create': { name: 'Main' },
  'dashboard/find': {},
  'dashboard/get': {},
  'dashboard/remove': { id: 'DB1' },
  'dashboard/update': { id: 'D1' },
  'device/claim': { id: 'DEV0123456' },
  'device/find': { accountId: 'A1' },
  'device/get': { id: 'DEV0123456' },
  'device/getCreds': {},
  'device/getSignedUrl': { id: 'DEV0123456' },
  'device/provision': { id: 'DEV0123456' },
  'device/release': { id: 'DEV0123456' },
  'generic/create': { _type: 'Store' },
  'generic/find': { _type: 'Device' },
  'generic/get': { _type: 'Device' },
  'generic/remove': { _type: 'Store' },
  'generic/update': { _type: 'Store' },
  // `statistic` is Req with default avg in the reference (§3.7): Ioto's default applies.
  'metric/fetch': { deviceId: 'DEV0123456', items: [{ namespace: 'Embedthis/Device' }] },
  'metric/getDeviceSchema': {},
  'metric/getMetricList': { cloudId: 'C1' },
  'provision/getCerts': { id: 'DEV0123456' },
  'provision/update': { id: 'TEST000001', product: 'PRODUCT-TOKEN', version: '2.1.3' },
  'provision/updateReport': { id: 'TEST000001', update: 'U1', success: true },
  'store/get': { deviceId: 'DEV0123456', key: 'temp' },
  'store/set': { deviceId: 'DEV0123456', key: 'temp', value: 21.5 },
  'user/create': { email: 'ada@example.com', role: 'user' },
  'user/find': {},
  'user/get': {},
  'user/getRoles': {},
  'user/login': {},
  'user/remove': {},
  'user/update': {},
  'user/updateRole': { id: 'U1', role: 'user' },
};

const ALL_KEYS = Object.keys(MINIMAL_BODIES);
const STRICT_KEYS = ALL_KEYS.filter((key) => !FREE_ATTRIBUTE_OPERATIONS.has(key));

describe('the catalog', () => {
  it('offers 43 operations and withdraws user/login, with the reason', () => {
    expect(catalog).toHaveLength(43);
    expect(withdrawnOperations.map(operationKey)).toEqual(['user/login']);
    expect(withdrawnOperations[0]?.withdrawn).toMatch(/cloud owner/);
    expect(findOperation('user', 'login')).toBeUndefined();
    expect(catalog.every((op) => op.withdrawn === undefined)).toBe(true);
  });

  it('has one entry per controller/operation key', () => {
    const keys = catalog.map(operationKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('lists exactly the 42 HTTP operations and the two translated Store operations', () => {
    expect(EVERY_OPERATION.map(operationKey).sort()).toEqual(
      [...HTTP_OPERATIONS, ...TRANSLATED_OPERATIONS].sort(),
    );
  });

  it('is ordered by controller, then operation', () => {
    const pairs = catalog.map((op) => [op.controller, op.operation] as const);
    const sorted = [...pairs].sort(([ca, oa], [cb, ob]) =>
      ca === cb ? (oa < ob ? -1 : 1) : ca < cb ? -1 : 1,
    );
    expect(pairs).toEqual(sorted);
  });

  it('is frozen, entry by entry', () => {
    expect(Object.isFrozen(catalog)).toBe(true);
    for (const op of catalog) {
      expect(Object.isFrozen(op)).toBe(true);
      expect(Object.isFrozen(op.scope)).toBe(true);
      const { account, devices = [], freeForm = [] } = op.scope;
      for (const path of [...(account ? [account] : []), ...devices, ...freeForm]) {
        expect(Object.isFrozen(path)).toBe(true);
      }
    }
    expect(() => (catalog as OperationDefinition[]).pop()).toThrow(TypeError);
  });

  it.each(HTTP_OPERATIONS)('offers %s directly, without translation', (key) => {
    const op = opOf(key);
    expect(op.upstream).toBeUndefined();
  });

  it.each([
    'metric/get',
    'metric/set',
    'file/get',
    'file/getSignedUrl',
    'manager/provision',
    'test/ping',
    'device/remove',
    'account/create',
  ])('does not offer %s (MQTT-only, unindexed or superseded)', (key) => {
    expect(catalog.map(operationKey)).not.toContain(key);
  });

  it.each(catalog.map((op) => [operationKey(op), op] as const))(
    '%s has a one-line summary',
    (_key, op) => {
      expect(op.summary).toMatch(/^[^\n]{10,100}$/);
    },
  );

  it('has a minimal body for every entry in these tests', () => {
    expect(ALL_KEYS.sort()).toEqual(EVERY_OPERATION.map(operationKey).sort());
  });
});

describe('operation properties', () => {
  /**
   * Scope columns in dotted form: `-` for none, paths separated by spaces, `[]` for every array
   * element, `.` for the whole body.
   */
  type Row = [
    key: string,
    paged: boolean,
    response: ResponseKind,
    retrySafe: boolean,
    sensitivity: Sensitivity,
    account: string,
    devices: string,
    freeForm: string,
  ];
  const rows: Row[] = [
    ['account/close', false, 'none', false, 'admin', 'id', '-', '-'],
    ['account/find', true, 'list', true, 'admin', 'id', '-', '-'],
    ['account/get', false, 'record', true, 'admin', 'id', '-', '-'],
    ['account/updateIdentity', false, 'record', true, 'admin', 'id', '-', '-'],
    ['action/find', true, 'list', true, 'read', '-', '-', '-'],
    ['action/get', false, 'record', true, 'read', '-', '-', '-'],
    [
      'action/invoke',
      false,
      'record',
      false,
      'write',
      'context.accountId',
      'context.deviceId',
      'context',
    ],
    ['alert/find', true, 'list', true, 'read', 'accountId', '-', '-'],
    ['alert/get', false, 'record', true, 'read', 'accountId', '-', '-'],
    ['alert/remove', false, 'none', false, 'write', 'accountId', '-', '-'],
    ['alert/update', false, 'record', true, 'write', 'accountId', '-', '-'],
    [
      'dashboard/create',
      false,
      'record',
      false,
      'write',
      'accountId',
      '-',
      'css widgetCss widgets',
    ],
    ['dashboard/find', false, 'list', true, 'read', 'accountId', '-', '-'],
    ['dashboard/get', false, 'record', true, 'read', 'accountId', '-', '-'],
    ['dashboard/remove', false, 'none', false, 'write', 'accountId', '-', '-'],
    ['dashboard/update', false, 'record', true, 'write', 'accountId', '-', 'css widgetCss widgets'],
    ['device/claim', false, 'record', false, 'write', 'accountId', 'id', '-'],
    ['device/find', true, 'list', true, 'read', 'accountId', 'id', '-'],
    ['device/get', false, 'record', true, 'read', 'accountId', 'id', '-'],
    ['device/getCreds', false, 'record', false, 'credential', '-', '-', '-'],
    ['device/getSignedUrl', false, 'string', true, 'credential', 'accountId', 'id', '-'],
    ['device/provision', false, 'record', false, 'credential', 'accountId', 'id', '-'],
    ['device/release', false, 'record', false, 'write', 'accountId', 'id', '-'],
    ['generic/create', false, 'record', false, 'write', 'accountId', 'deviceId', '.'],
    ['generic/find', true, 'list', true, 'read', 'accountId', 'deviceId', '.'],
    ['generic/get', false, 'record', true, 'read', 'accountId', 'deviceId', '.'],
    ['generic/remove', false, 'none', false, 'write', 'accountId', 'deviceId', '.'],
    ['generic/update', false, 'record', true, 'write', 'accountId', 'deviceId', '.'],
    [
      'metric/fetch',
      true,
      'list',
      true,
      'read',
      'accountId',
      'deviceId items.[].dimensions.Device',
      'items.[].dimensions',
    ],
    ['metric/getDeviceSchema', false, 'record', true, 'read', '-', '-', '-'],
    ['metric/getMetricList', false, 'record', true, 'read', '-', '-', '-'],
    ['provision/getCerts', false, 'record', false, 'credential', 'accountId', 'id', '-'],
    ['provision/update', false, 'record', true, 'write', 'accountId', 'id', '.'],
    ['provision/updateReport', false, 'none', false, 'write', 'accountId', 'id', '-'],
    ['store/get', false, 'record', true, 'read', 'accountId', 'deviceId', '-'],
    ['store/set', false, 'record', true, 'write', 'accountId', 'deviceId', '-'],
    ['user/create', false, 'record', false, 'admin', 'accountId', '-', '-'],
    ['user/find', true, 'list', true, 'admin', 'accountId', '-', '-'],
    ['user/get', false, 'record', true, 'admin', 'accountId', '-', '-'],
    ['user/getRoles', false, 'record', true, 'admin', '-', '-', '-'],
    ['user/login', false, 'record', false, 'admin', '-', '-', '-'],
    ['user/remove', false, 'none', false, 'admin', 'accountId', '-', '-'],
    ['user/update', false, 'record', true, 'admin', 'accountId', '-', 'preferences'],
    ['user/updateRole', false, 'record', false, 'admin', 'accountId', '-', '-'],
  ];

  /** A catalog path in the dotted form of the table. */
  const dotted = (path: readonly string[]): string => (path.length === 0 ? '.' : path.join('.'));
  const column = (paths: readonly (readonly string[])[] | undefined): string =>
    paths === undefined || paths.length === 0 ? '-' : paths.map(dotted).join(' ');

  it('lists every catalog entry once', () => {
    expect(rows.map(([key]) => key).sort()).toEqual(EVERY_OPERATION.map(operationKey).sort());
  });

  it.each(rows)(
    '%s: paged %s, %s response, retry-safe %s, %s, account at %s, devices at %s, free-form %s',
    (key, paged, response, retrySafe, sensitivity, account, devices, freeForm) => {
      const op = opOf(key);
      expect(op).toMatchObject({ paged, response, retrySafe, sensitivity });
      expect(op.scope.account === undefined ? '-' : dotted(op.scope.account)).toBe(account);
      expect(column(op.scope.devices)).toBe(devices);
      expect(column(op.scope.freeForm)).toBe(freeForm);
    },
  );

  it('confirms devices by lookup except where the call itself confines them or none owns them', () => {
    const special = Object.fromEntries(
      catalog
        .filter((op) => (op.scope.deviceOwnership ?? 'lookup') !== 'lookup')
        .map((op) => [operationKey(op), op.scope.deviceOwnership]),
    );
    expect(special).toEqual({
      'device/claim': 'unclaimed',
      'device/find': 'call',
      'device/get': 'call',
    });
  });

  it('grants actions by name on action/invoke only', () => {
    expect(catalog.filter((op) => op.scope.action !== undefined).map(operationKey)).toEqual([
      'action/invoke',
    ]);
  });

  it('selects accounts through object keys only, never through arrays', () => {
    for (const op of catalog) expect(op.scope.account ?? []).not.toContain('[]');
  });

  it.each(['device/getCreds', 'device/provision', 'provision/getCerts', 'device/getSignedUrl'])(
    'classes %s as credential',
    (key) => {
      expect(opOf(key).sensitivity).toBe('credential');
    },
  );

  it.each(
    catalog
      .filter((op) => op.controller === 'account' || op.controller === 'user')
      .map(operationKey),
  )('classes %s as admin', (key) => {
    expect(opOf(key).sensitivity).toBe('admin');
  });

  it('returns lists from every paged operation', () => {
    for (const op of catalog.filter((candidate) => candidate.paged)) {
      expect(op.response).toBe('list');
    }
  });
});

/**
 * What an operation's request schema (as JSON Schema) shows of the places that can name an
 * account or a device: properties with a naming name, and free-form places (objects with free
 * keys, values typed only as JSON). Paths in the dotted form of the table above.
 */
function schemaPlaces(op: OperationDefinition) {
  type Node = Record<string, unknown>;
  const root = toJSONSchema(op.request, { io: 'output', unrepresentable: 'any' }) as Node;
  const defs = (root.$defs ?? {}) as Record<string, Node>;
  const properties = new Set<string>(['.']);
  const named: string[] = [];
  const free: string[] = [];
  const at = (path: readonly string[]) => (path.length === 0 ? '.' : path.join('.'));
  const walk = (node: Node, path: string[], seen: ReadonlySet<string>): void => {
    if (typeof node.$ref === 'string') {
      const name = node.$ref.replace('#/$defs/', '');
      const target = defs[name];
      if (target === undefined) throw new Error(`${operationKey(op)}: dangling ${node.$ref}`);
      if (!seen.has(name)) walk(target, path, new Set([...seen, name]));
      return;
    }
    const keywords = Object.keys(node).filter((k) => k !== '$schema' && k !== '$defs');
    // `{}` accepts any JSON value, objects with any keys included.
    if (keywords.length === 0) free.push(at(path));
    for (const combinator of ['anyOf', 'oneOf', 'allOf']) {
      for (const branch of (node[combinator] ?? []) as Node[]) walk(branch, path, seen);
    }
    if (node.type === 'object' || node.properties !== undefined) {
      for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) {
        const childPath = [...path, name];
        properties.add(at(childPath));
        if (/^(deviceids?|devices?|accountids?)$/i.test(name)) named.push(at(childPath));
        walk(child, childPath, seen);
      }
      if (node.additionalProperties !== false) free.push(at(path));
    }
    if (node.type === 'array' || node.items !== undefined) {
      walk((node.items ?? {}) as Node, [...path, '[]'], seen);
    }
  };
  walk(root, [], new Set());
  return { properties, named, free: [...new Set(free)] };
}

describe('device/getSignedUrl', () => {
  const signedUrl = (body: Record<string, unknown>) => parse('device/getSignedUrl', body);

  it('requires the device id', () => {
    expect(issueFields('device/getSignedUrl', { command: 'get', filename: 'log.txt' })).toEqual([
      'id',
    ]);
  });

  it.each([
    'log.txt',
    'logs/2026/11/26.txt',
    'a..b.txt',
    '..hidden',
    'name..',
    '100%.txt',
    '50% off.pdf',
    'r%C3%A9sum%C3%A9.pdf',
    'ümlaut/ファイル.bin',
  ])('accepts the file name %j', (filename) => {
    expect(signedUrl({ id: 'DEV0123456', filename }).success).toBe(true);
  });

  it.each([
    ['a parent segment', '../SIMA000001/secret.bin'],
    ['a parent segment inside', 'logs/../../SIMA000001/secret.bin'],
    ['a trailing parent segment', 'logs/..'],
    ['a bare parent segment', '..'],
    ['an absolute path', '/01JHB4Z6QKAC00000000000001/SIMA000001/secret.bin'],
    ['a leading backslash', '\\SIMA000001\\secret.bin'],
    ['a backslash', 'logs\\..\\x'],
    ['a NUL', 'log\u0000.txt'],
    ['a newline', 'log\n.txt'],
    ['a DEL', 'log\u007f.txt'],
    ['an encoded parent segment', '%2e%2e/SIMA000001/secret.bin'],
    ['an encoded slash', '..%2fSIMA000001%2fsecret.bin'],
    ['an upper-case encoded slash', '..%2FSIMA000001'],
    ['an encoded leading slash', '%2fetc/passwd'],
    ['an encoded backslash', '..%5csecret.bin'],
    ['an encoded NUL', 'log%00.txt'],
    ['a double-encoded parent segment', '%252e%252e/secret.bin'],
    ['a triple-encoded slash', '..%25252fsecret.bin'],
    ['fullwidth dots and solidus', '\uff0e\uff0e\uff0fsecret.bin'],
    ['an encoded fullwidth solidus', '..%EF%BC%8Fsecret.bin'],
    ['encoding nested past the decoding limit', '..%2525252525252f'],
  ])('refuses a file name with %s', (_name, filename) => {
    const result = signedUrl({ id: 'DEV0123456', filename });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path)).toEqual([['filename']]);
  });
});

describe('scope declarations', () => {
  const dottedPath = (path: readonly string[]) => (path.length === 0 ? '.' : path.join('.'));
  const covers = (region: string, place: string) =>
    region === '.' || place === region || place.startsWith(`${region}.`);

  it.each(catalog.map((op) => [operationKey(op), op] as const))(
    '%s declares every place its schema can name a device or an account',
    (_key, op) => {
      const { properties, named, free } = schemaPlaces(op);
      const regions = (op.scope.freeForm ?? []).map(dottedPath);
      const declared = new Set([
        ...(op.scope.account ? [dottedPath(op.scope.account)] : []),
        ...(op.scope.devices ?? []).map(dottedPath),
      ]);
      const inRegion = (place: string) => regions.some((region) => covers(region, place));
      // Every free-form place lies in a declared free-form region...
      expect(free.filter((place) => !inRegion(place))).toEqual([]);
      // ... every property named like a device or an account is declared or in such a region...
      expect(named.filter((place) => !declared.has(place) && !inRegion(place))).toEqual([]);
      // ... and every declaration names a place the schema has (no stale declarations).
      const exists = (place: string) =>
        properties.has(place) || free.some((region) => covers(region, place));
      expect([...declared, ...regions].filter((place) => !exists(place))).toEqual([]);
      for (const region of regions) expect(free.some((place) => covers(region, place))).toBe(true);
    },
  );

  it('notices an undeclared free-form field', () => {
    const undeclared = { ...opOf('alert/find'), request: strictObject({ note: jsonObject }) };
    expect(schemaPlaces(undeclared).free).toEqual(['note']);
  });
});

describe('request schemas', () => {
  it.each(ALL_KEYS)('%s accepts its minimal body', (key) => {
    expect(parse(key, MINIMAL_BODIES[key])).toMatchObject({ success: true });
  });

  it.each(ALL_KEYS.flatMap((key) => [null, [], 'text', 42, true].map((body) => [key, body])))(
    '%s rejects the non-object body %j',
    (key, body) => {
      expect(parse(key as string, body).success).toBe(false);
    },
  );

  it.each(STRICT_KEYS)('%s rejects an unknown field', (key) => {
    expect(issueFields(key, { ...MINIMAL_BODIES[key], surprise: 1 })).toContain('surprise');
  });

  it.each(
    ['account/find', 'action/find', 'alert/find', 'device/find', 'metric/fetch', 'user/find']
      .flatMap((key) => ['limit', 'pageToken', 'next', 'prev', 'index'].map((f) => [key, f]))
      .concat([['account/get', 'index']]),
  )('%s leaves the paging field %s to the proxy', (key, field) => {
    expect(issueFields(key, { ...MINIMAL_BODIES[key], [field]: 10 })).toContain(field);
  });

  it.each([
    ['action/find', 'cloudId'],
    ['action/get', 'cloudId'],
    ['action/get', 'type'],
    ['dashboard/create', 'name'],
    ['dashboard/update', 'id'],
    ['device/claim', 'id'],
    ['device/find', 'accountId'],
    ['device/get', 'id'],
    ['device/provision', 'id'],
    ['device/release', 'id'],
    ...GENERIC_OPERATIONS.map((key) => [key, '_type']),
    ['metric/fetch', 'items'],
    ['metric/fetch', 'deviceId'],
    ['metric/getMetricList', 'cloudId'],
    ['provision/getCerts', 'id'],
    ['provision/update', 'id'],
    ['provision/update', 'product'],
    ['provision/update', 'version'],
    ['provision/updateReport', 'id'],
    ['provision/updateReport', 'update'],
    ['provision/updateReport', 'success'],
    ['store/get', 'deviceId'],
    ['store/get', 'key'],
    ['store/set', 'deviceId'],
    ['store/set', 'key'],
    ['store/set', 'value'],
    ['user/create', 'email'],
    ['user/create', 'role'],
    // Not marked Req by the reference, required by us: the operation names nothing without it.
    ['alert/get', 'id'],
    ['alert/remove', 'id'],
    ['alert/update', 'id'],
    ['dashboard/remove', 'id'],
    ['user/updateRole', 'id'],
    ['user/updateRole', 'role'],
  ])('%s requires %s', (key, field) => {
    const { [field as string]: _omitted, ...body } = MINIMAL_BODIES[key as string] ?? {};
    expect(issueFields(key as string, body)).toContain(field);
  });

  it('action/invoke requires an id or a name', () => {
    expect(parse('action/invoke', { context: { deviceId: 'D1' } }).success).toBe(false);
    expect(parse('action/invoke', { id: 'A1' }).success).toBe(true);
  });

  const long = (n: number): string => 'x'.repeat(n);
  it.each<[string, string, unknown]>([
    ['account/close', 'id', 42],
    ['account/get', 'email', 'not-an-email'],
    ['account/get', 'email', 'two words@example.com'],
    ['account/get', 'id', long(129)],
    ['account/updateIdentity', 'name', ''],
    ['account/updateIdentity', 'name', long(1025)],
    ['action/find', 'type', 'carrier-pigeon'],
    ['action/get', 'type', 'EMAIL'],
    ['action/invoke', 'context', 'deviceId=D1'],
    ['action/invoke', 'context', ['D1']],
    ['alert/update', 'resolved', 'yes'],
    ['dashboard/create', 'type', 'poster'],
    ['dashboard/create', 'range', { anchor: 'sideways' }],
    ['dashboard/create', 'range', { period: 60, colour: 'red' }],
    ['dashboard/create', 'range', { start: 'yesterday' }],
    ['dashboard/create', 'refresh', -1],
    ['dashboard/create', 'widgets', Array.from({ length: 201 }, () => ({}))],
    ['dashboard/create', 'widgets', [{ rows: 1.5 }]],
    ['dashboard/create', 'widgets', [{ title: 7 }]],
    ['dashboard/create', 'widgets', ['gauge']],
    ['dashboard/create', 'fixed', 'true'],
    ['dashboard/update', 'id', 3],
    ['dashboard/update', 'type', 'poster'],
    ['device/find', 'accountId', ''],
    ['device/find', 'accountId', long(129)],
    ['device/get', 'accountId', 12],
    ['device/getSignedUrl', 'command', 'post'],
    ['device/getSignedUrl', 'size', 1.5],
    ['device/getSignedUrl', 'size', -1],
    ['device/getSignedUrl', 'size', '1024'],
    ['generic/find', 'deviceId', 7],
    ['generic/find', 'accountId', 7],
    ['generic/create', '_type', '1Store'],
    ['generic/create', '_type', 'Store-Item'],
    ['generic/create', '_type', long(65)],
    ['generic/update', '_type', ''],
    ['metric/fetch', 'items', []],
    [
      'metric/fetch',
      'items',
      Array.from({ length: 21 }, () => ({ namespace: 'Embedthis/Device', statistic: 'avg' })),
    ],
    ['metric/fetch', 'items', [{ namespace: 'Embedthis/Device', statistic: '' }]],
    ['metric/fetch', 'items', [{ namespace: 'Embedthis/Device', statistic: long(33) }]],
    ['metric/fetch', 'items', [{ namespace: 'Embedthis/Device', statistic: 'avg', x: 1 }]],
    ['metric/fetch', 'items', [{ namespace: 'Embedthis/Device', statistic: 'avg', limit: -1 }]],
    ['metric/fetch', 'items', [{ statistic: 'avg' }]],
    ['metric/fetch', 'accountId', { id: 'A1' }],
    ['metric/getMetricList', 'namespace', 5],
    ['provision/update', 'test', 'yes'],
    ['provision/update', 'version', 213],
    ['provision/updateReport', 'success', 'true'],
    ['store/get', 'key', long(257)],
    ['store/set', 'value', { celsius: 21.5 }],
    ['store/set', 'value', null],
    ['store/set', 'type', 'object'],
    ['store/set', 'expires', 1.5],
    ['store/set', 'expires', -1],
    ['user/create', 'role', 'root'],
    ['user/create', 'sendInvite', 'yes'],
    ['user/login', 'register', 'yes'],
    ['user/update', 'preferences', 'dark'],
    ['user/updateRole', 'role', 'superuser'],
  ])('%s rejects %s = %j', (key, field, value) => {
    expect(issueFields(key, { ...MINIMAL_BODIES[key], [field]: value })).toContain(field);
  });

  it.each<[string, unknown]>([
    ['an empty statistic', ''],
    ['a statistic of 33 characters', long(33)],
    ['a numeric statistic', 90],
    ['a null statistic', null],
  ])('metric/fetch still rejects %s', (_name, statistic) => {
    const body = { deviceId: 'D1', items: [{ namespace: 'Embedthis/Device', statistic }] };
    expect(parse('metric/fetch', body).error?.issues.map((issue) => issue.path)).toEqual([
      ['items', 0, 'statistic'],
    ]);
  });

  it('metric/fetch leaves a missing statistic to Ioto, whose default is avg (§3.7)', () => {
    const body = { deviceId: 'D1', items: [{ namespace: 'Embedthis/Device', metric: 'temp' }] };
    const result = parse('metric/fetch', body);
    expect(result.success).toBe(true);
    // Strict: no `statistic` was added on the way.
    expect(result.data).toStrictEqual(body);
  });

  it.each(['avg', 'min', 'max', 'count', 'sum', 'current', 'p90'])(
    'metric/fetch accepts the statistic %s',
    (statistic) => {
      const body = {
        deviceId: 'DEV0123456',
        items: [{ namespace: 'Embedthis/Device', statistic }],
      };
      expect(parse('metric/fetch', body).success).toBe(true);
    },
  );

  it.each<[unknown]>([['2025-12-19T10:00:00Z'], ['2025-12-19T10:00:00.250+08:00'], [1766138400]])(
    'dashboard/create accepts the range start %j',
    (start) => {
      expect(parse('dashboard/create', { name: 'Main', range: { start } }).success).toBe(true);
    },
  );

  it.each<[string, Record<string, unknown>]>([
    ['account/updateIdentity', { id: 'A1', email: 'ops@example.com', name: 'Ops' }],
    ['action/invoke', { name: 'myAction', context: { deviceId: 'DEV0123456' } }],
    ['alert/update', { id: 'AL1', resolved: true, accountId: 'A1' }],
    [
      'dashboard/create',
      {
        name: 'Fleet',
        type: 'dashboard',
        layout: 'grid',
        css: [],
        widgetCss: [],
        emulate: 'phone',
        fixed: false,
        framed: true,
        live: true,
        toolbar: true,
        refresh: 60,
        range: {
          anchor: 'relative',
          period: 2419200,
          refresh: 60,
          override: false,
          timezone: 'local',
        },
        widgets: [
          {
            id: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
            type: 'graph',
            title: 'Temperature',
            header: '',
            namespace: 'Embedthis/Device',
            metric: 'temp',
            statistic: 'p90',
            dimensions: { Device: 'DEV0123456' },
            range: {},
            limit: 10,
            z: 1,
            actions: [{ type: 'navigate', target: 'Detail', conditions: [] }],
            // An attribute an older editor wrote (§8): widgets keep it.
            dashboard: 'Detail',
          },
        ],
        accountId: 'A1',
      },
    ],
    ['dashboard/update', { id: 'D1', name: 'Renamed', widgets: [] }],
    ['device/find', { accountId: 'A1', id: 'DEV0123456', productId: 'P1' }],
    ['device/claim', { id: 'DEV0123456', accountId: 'A1' }],
    [
      'device/getSignedUrl',
      { id: 'DEV0123456', command: 'put', filename: 'a.jpg', mimeType: 'image/jpeg', size: 0 },
    ],
    [
      'metric/fetch',
      {
        deviceId: 'DEV0123456',
        accountId: 'A1',
        items: [
          {
            namespace: 'Embedthis/Device',
            metric: 'temp',
            statistic: 'current',
            dimensions: { Device: 'DEV0123456' },
            period: 300,
            start: 1766138400,
            limit: 12,
            accumulate: false,
            cloudId: 'C1',
            field: 'value',
            model: 'Store',
          },
        ],
      },
    ],
    ['metric/getMetricList', { cloudId: 'C1', namespace: 'Embedthis/Device', metric: 'temp' }],
    ['provision/update', { id: 'TEST000001', product: 'PT', version: '2.1.3', test: true }],
    ['store/set', { deviceId: 'D1', key: 'k', value: '', type: 'string', expires: 1766138400000 }],
    ['user/create', { email: 'ada@example.com', role: 'owner', sendInvite: true, accountId: 'A1' }],
    ['user/login', { invite: 'I1', register: true, social: false }],
    [
      'user/update',
      { id: 'U1', email: 'ada@example.com', first: 'Ada', last: 'L', preferences: { a: 1 } },
    ],
    ['user/updateRole', { id: 'U1', role: 'admin', sendInvite: false, accountId: 'A1' }],
  ])('%s accepts every documented field', (key, body) => {
    expect(parse(key, body)).toMatchObject({ success: true, data: body });
  });

  it('dashboard/update takes the dashboard fields of dashboard/create', () => {
    const fields = { name: 'Fleet', live: true, range: { anchor: 'absolute' as const } };
    expect(parse('dashboard/create', fields).success).toBe(true);
    expect(parse('dashboard/update', { id: 'D1', ...fields }).success).toBe(true);
  });
});

describe('free attributes (Generic, provision/update)', () => {
  const reservedBodies = (key: string) =>
    ['__proto__', 'constructor', 'prototype'].map((reserved) => [
      key,
      reserved,
      // JSON.parse makes `__proto__` an own key, as a real request body would.
      JSON.parse(JSON.stringify(MINIMAL_BODIES[key]).replace('{', `{"${reserved}":{"a":1},`)),
    ]);

  it.each([...FREE_ATTRIBUTE_OPERATIONS])('%s keeps attributes it does not know', (key) => {
    const body = {
      ...MINIMAL_BODIES[key],
      deviceId: 'DEV0123456',
      colour: 'red',
      nested: { list: [1, 'two', null, { three: true }] },
    };
    expect(parse(key, body)).toMatchObject({ success: true, data: body });
  });

  it.each([...FREE_ATTRIBUTE_OPERATIONS].flatMap(reservedBodies))(
    '%s rejects the attribute name %s',
    (key, reserved, body) => {
      expect(issueFields(key as string, body)).toContain(reserved);
    },
  );

  it.each(
    [...FREE_ATTRIBUTE_OPERATIONS].flatMap((key) =>
      [undefined, () => 1, Number.NaN, new Date(0), { a: undefined }].map((value) => [key, value]),
    ),
  )('%s rejects the non-JSON attribute value %p', (key, value) => {
    expect(
      issueFields(key as string, { ...MINIMAL_BODIES[key as string], extra: value }),
    ).toContain('extra');
  });

  it('generic/find accepts the vendor examples (§3.6)', () => {
    for (const body of [
      { _type: 'Device' },
      { _type: 'Device', deviceId: 'DEV0123456' },
      { _type: 'Store', accountId: 'A1', deviceId: 'DEV0123456' },
    ]) {
      expect(parse('generic/find', body).success).toBe(true);
    }
  });
});

describe('store translation', () => {
  const translate = (key: string, body: Record<string, unknown>) => {
    const op = opOf(key);
    if (op.upstream === undefined) throw new Error(`${key} has no translation`);
    return op.upstream.body(op.request.parse(body));
  };

  it('forwards store/get to generic/get with _type Store', () => {
    const op = opOf('store/get');
    expect(op.upstream).toMatchObject({ controller: 'generic', operation: 'get' });
    expect(op.upstream?.query).toBeUndefined();
    expect(translate('store/get', { deviceId: 'D1', key: 'k', accountId: 'A1' })).toEqual({
      _type: 'Store',
      deviceId: 'D1',
      key: 'k',
      accountId: 'A1',
    });
  });

  it('forwards store/set to generic/update as an upsert (bare ?exists)', () => {
    expect(opOf('store/set').upstream).toMatchObject({
      controller: 'generic',
      operation: 'update',
      query: { exists: null },
    });
  });

  it.each<[string | number | boolean, string]>([
    ['on', 'string'],
    ['', 'string'],
    [21.5, 'number'],
    [0, 'number'],
    [false, 'boolean'],
  ])('store/set sends %j with type %s when no type is given', (value, type) => {
    expect(translate('store/set', { deviceId: 'D1', key: 'k', value })).toEqual({
      _type: 'Store',
      deviceId: 'D1',
      key: 'k',
      value,
      type,
    });
  });

  it('store/set passes expires and accountId through', () => {
    const body = { deviceId: 'D1', key: 'k', value: 1, expires: 1766138400000, accountId: 'A1' };
    expect(translate('store/set', { ...body, type: 'number' })).toEqual({
      _type: 'Store',
      ...body,
      type: 'number',
    });
  });

  // What the vendor writes to the Store (docs/ioto-api.md §3.9): each is forwarded unchanged.
  it.each<[string, string | number | boolean, string]>([
    ['samples/api/set-item.sh line 14', '1766138400', 'string'],
    ["agent src/mqtt.c ioSet(): {value: '%s', type: 'string'}", 'eco', 'string'],
    ['agent src/mqtt.c ioSetNum() over MQTT: {"value":%lf, type: "number"}', 21.5, 'number'],
    ["agent src/mqtt.c ioSetNum() over sync: {value: '%g', type: 'number'}", '21.5', 'number'],
    ["agent src/mqtt.c ioSetNum() over sync, %g of 1e7: '1e+07'", '1e+07', 'number'],
    ["agent src/mqtt.c ioSetNum() over sync, %g of -0.00005: '-5e-05'", '-5e-05', 'number'],
    ["apps/demo/src/demo.c line 107: {value: '%d', type: 'number'}", '12', 'number'],
    ['agent src/mqtt.c ioSetBool(true) over MQTT: {"value":1.000000}', 1, 'boolean'],
    ['agent src/mqtt.c ioSetBool(false) over MQTT: {"value":0.000000}', 0, 'boolean'],
    ["agent src/mqtt.c ioSetBool(true) over sync: {value: '%g'}", '1', 'boolean'],
    ["agent src/mqtt.c ioSetBool(false) over sync: {value: '%g'}", '0', 'boolean'],
    ['a boolean item as ioGetBool() reads it back', true, 'boolean'],
    ['a boolean item as ioGetBool() reads it back', false, 'boolean'],
  ])('store/set accepts the vendor body of %s', (_source, value, type) => {
    const body = { deviceId: 'D1', key: 'k', value, type };
    expect(parse('store/set', body)).toMatchObject({ success: true, data: body });
    expect(translate('store/set', body)).toEqual({ _type: 'Store', ...body });
  });

  // No vendor source writes these (docs/ioto-api.md §3.9).
  it.each<[string | number | boolean, string]>([
    [42, 'string'],
    [true, 'string'],
    ['', 'number'],
    ['forty-two', 'number'],
    ['0x2A', 'number'],
    ['1,5', 'number'],
    [' 42', 'number'],
    ['42.', 'number'],
    ['+42', 'number'],
    ['Infinity', 'number'],
    ['NaN', 'number'],
    // The agent formatter's rendering of 0 (lib/rLib.c outFloatE()): no number.
    ['e+00', 'number'],
    [true, 'number'],
    ['true', 'boolean'],
    ['false', 'boolean'],
    [2, 'boolean'],
    [0.5, 'boolean'],
    [-1, 'boolean'],
    ['1.0', 'boolean'],
    ['yes', 'boolean'],
  ])('store/set rejects the value %j declared as %s', (value, type) => {
    expect(issueFields('store/set', { deviceId: 'D1', key: 'k', value, type })).toContain('type');
  });

  it.each(TRANSLATED_OPERATIONS)('%s does not let the partner choose _type', (key) => {
    expect(issueFields(key, { ...MINIMAL_BODIES[key], _type: 'User' })).toContain('_type');
  });
});

describe('findOperation', () => {
  it.each(catalog.map((op) => [op.controller, op.operation, op] as const))(
    'finds %s/%s',
    (controller, operation, op) => {
      expect(findOperation(controller, operation)).toBe(op);
    },
  );

  it.each([
    ['device', '__proto__'],
    ['__proto__', 'find'],
    ['device', 'constructor'],
    ['constructor', 'name'],
    ['device', 'toString'],
    ['device', 'hasOwnProperty'],
    ['device', 'valueOf'],
    ['Device', 'find'],
    ['device', 'Find'],
    ['device', 'find '],
    ['device/find', ''],
    ['', 'device/find'],
    ['device', ''],
    ['metric', 'get'],
    ['metric', 'set'],
    ['test', 'ping'],
  ])('finds nothing for %j/%j', (controller, operation) => {
    expect(findOperation(controller, operation)).toBeUndefined();
  });

  it('builds keys as controller/operation', () => {
    expect(operationKey({ controller: 'device', operation: 'getCreds' })).toBe('device/getCreds');
  });
});

describe('catalog module boundaries', () => {
  const dir = join(__dirname, '../../lambda/catalog');
  const files = readdirSync(dir).filter((name) => name.endsWith('.ts'));

  it.each(files)('%s imports only zod (lambda/config/zod.ts) and its siblings', (name) => {
    const source = readFileSync(join(dir, name), 'utf8');
    const specifiers = [...source.matchAll(/from '([^']+)'/g)].map((match) => match[1]);
    for (const specifier of specifiers) {
      expect(specifier).toMatch(/^(\.\.\/config\/zod|\.\/[a-z-]+)$/);
    }
    expect(source).not.toMatch(
      /process\.env|import \* as|import \{ z \}|:\s*any\b|\bas any\b|<any>/,
    );
  });
});

describe('mutates', () => {
  const READS = [
    'account/find',
    'account/get',
    'action/find',
    'action/get',
    'alert/find',
    'alert/get',
    'dashboard/find',
    'dashboard/get',
    'device/find',
    'device/get',
    'generic/find',
    'generic/get',
    'metric/fetch',
    'metric/getDeviceSchema',
    'metric/getMetricList',
    'store/get',
    'user/find',
    'user/get',
    'user/getRoles',
  ];

  it('is false exactly for the operations that only read', () => {
    expect(
      catalog
        .filter((op) => !op.mutates)
        .map(operationKey)
        .sort(),
    ).toEqual(READS);
  });

  it('is true for every credential operation, since credentials can act', () => {
    expect(catalog.filter((op) => op.sensitivity === 'credential').every((op) => op.mutates)).toBe(
      true,
    );
  });
});

describe('what the reference documents about each operation', () => {
  /** The Role column of docs/ioto-api.md §3, operation by operation. */
  const ROLES: Record<string, string> = {
    'account/close': 'admin',
    'account/find': 'admin',
    'account/get': 'user',
    'account/updateIdentity': 'admin',
    'action/find': 'user',
    'action/get': 'admin',
    'action/invoke': 'user',
    'alert/find': 'user',
    'alert/get': 'admin',
    'alert/remove': 'admin',
    'alert/update': 'admin',
    'dashboard/create': 'user',
    'dashboard/find': 'user',
    'dashboard/get': 'user',
    'dashboard/remove': 'user',
    'dashboard/update': 'user',
    'device/claim': 'claimDevice',
    'device/find': 'user',
    'device/get': 'user',
    'device/getCreds': 'device',
    'device/getSignedUrl': 'device',
    'device/provision': 'device',
    'device/release': 'releaseDevice',
    'generic/create': 'user',
    'generic/find': 'user',
    'generic/get': 'user',
    'generic/remove': 'user',
    'generic/update': 'user',
    'metric/fetch': 'user',
    'metric/getDeviceSchema': 'user',
    'metric/getMetricList': 'user',
    'provision/getCerts': 'device',
    'provision/update': 'upgrade',
    'provision/updateReport': 'upgrade',
    // Store over Generic: the Generic operations' role.
    'store/get': 'user',
    'store/set': 'user',
    'user/create': 'admin',
    'user/find': 'user',
    'user/get': 'user',
    'user/getRoles': 'admin',
    'user/login': 'public',
    'user/remove': 'admin',
    'user/update': 'user',
    'user/updateRole': 'admin',
  };

  it.each(Object.entries(ROLES))('%s is written for the %s role', (key, role) => {
    expect(opOf(key).iotoRole).toBe(role);
  });

  it('names a role for every operation', () => {
    expect(Object.keys(ROLES).sort()).toEqual(EVERY_OPERATION.map(operationKey).sort());
  });

  /**
   * Where Ioto says the account selector confines the call: the Account controller's `id`,
   * device/find and device/get (`accountId` owner), and the vendor samples' Generic find, get
   * and update (Store over them) and metric/fetch. Everything else is the proxy's assumption.
   */
  const DOCUMENTED = [
    'account/close',
    'account/find',
    'account/get',
    'account/updateIdentity',
    'device/find',
    'device/get',
    'generic/find',
    'generic/get',
    'generic/update',
    'metric/fetch',
    'store/get',
    'store/set',
  ];

  it('says how Ioto scopes every operation that selects an account, and no other', () => {
    for (const op of EVERY_OPERATION) {
      expect([operationKey(op), op.scope.accountScoping !== undefined]).toEqual([
        operationKey(op),
        op.scope.account !== undefined,
      ]);
    }
  });

  it('calls documented exactly the operations a source documents', () => {
    const documented = EVERY_OPERATION.filter(
      (op) => op.scope.accountScoping?.basis === 'documented',
    ).map(operationKey);
    expect(documented.sort()).toEqual([...DOCUMENTED].sort());
  });

  it.each(
    EVERY_OPERATION.flatMap((op) =>
      op.scope.accountScoping?.basis === 'documented'
        ? [[operationKey(op), op.scope.accountScoping.source] as const]
        : [],
    ),
  )('%s cites sections of docs/ioto-api.md that exist (%s)', (_key, source) => {
    const reference = readFileSync(join(__dirname, '..', '..', 'docs/ioto-api.md'), 'utf8');
    const sections = [...source.matchAll(/§(\d+\.\d+)/g)].map((match) => match[1] ?? '');
    expect(sections.length).toBeGreaterThan(0);
    for (const section of sections) {
      expect(reference).toMatch(new RegExp(`^### ${section.replace('.', '\\.')} `, 'm'));
    }
  });

  it.each(
    EVERY_OPERATION.flatMap((op) =>
      op.scope.accountScoping?.basis === 'assumed'
        ? [[operationKey(op), op.scope.accountScoping.answer] as const]
        : [],
    ),
  )('%s: an answer must name the account at %j', (key, answer) => {
    const op = opOf(key);
    // Where a record names its account: accountId on the records of §3.3, §3.4, §3.5, §3.10
    // and Generic items; action/invoke answers its context back.
    expect(answer).toEqual(key === 'action/invoke' ? ['context', 'accountId'] : ['accountId']);
    expect(op.scope.account).toBeDefined();
  });
});

describe('the README', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

  it('lists exactly the operations of assumed account scoping', () => {
    const section = readme.slice(
      readme.indexOf('### Operations of assumed account scoping'),
      readme.indexOf('## The partner contract'),
    );
    const listed = [...section.matchAll(/^\| (`[a-z]+\/[A-Za-z]+`(?:, `[a-z]+\/[A-Za-z]+`)*)/gm)]
      .flatMap((row) => [...(row[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]))
      .sort();
    const assumed = EVERY_OPERATION.filter(
      (op) => op.scope.accountScoping?.basis === 'assumed',
    ).map(operationKey);
    expect(listed).toEqual(assumed.sort());
  });
});
