import {
  findReferences,
  MAX_FREE_FORM_DEPTH,
  MAX_FREE_FORM_KEYS,
} from '../../lambda/auth/body-references';
import type { OperationScope } from '../../lambda/catalog/types';

const METRIC: OperationScope = {
  account: ['accountId'],
  devices: [['deviceId'], ['items', '[]', 'dimensions', 'Device']],
  freeForm: [['items', '[]', 'dimensions']],
};
const ROOT_FREE: OperationScope = {
  account: ['accountId'],
  devices: [['deviceId']],
  freeForm: [[]],
};
const WIDGETS: OperationScope = { freeForm: [['widgets']] };

/** `{k0: 0, k1: 0, ...}` with `count` keys. */
const keys = (count: number): Record<string, number> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, 0]));

describe('findReferences', () => {
  it('finds the account selector and declared devices, through arrays', () => {
    const found = findReferences(METRIC, {
      accountId: 'A1',
      deviceId: 'D1',
      items: [
        { dimensions: { Device: 'D2' } },
        { dimensions: {} },
        { dimensions: { Device: 'D3' } },
      ],
    });
    expect(found).toEqual({
      accounts: [{ pointer: '/accountId', value: 'A1' }],
      devices: [
        { pointer: '/deviceId', value: 'D1' },
        { pointer: '/items/0/dimensions/Device', value: 'D2' },
        { pointer: '/items/2/dimensions/Device', value: 'D3' },
      ],
    });
  });

  it('reports a declared place found twice (declared and free-form) once', () => {
    const found = findReferences(METRIC, { items: [{ dimensions: { Device: ['D2', 'D3'] } }] });
    expect(found.devices).toEqual([
      { pointer: '/items/0/dimensions/Device/0', value: 'D2' },
      { pointer: '/items/0/dimensions/Device/1', value: 'D3' },
    ]);
  });

  it.each([
    ['deviceId', 'devices'],
    ['DeviceID', 'devices'],
    ['deviceIds', 'devices'],
    ['Device', 'devices'],
    ['device', 'devices'],
    ['devices', 'devices'],
    ['accountId', 'accounts'],
    ['ACCOUNTID', 'accounts'],
    ['accountIds', 'accounts'],
  ] as const)('counts the free-form key %s as naming %s', (key, kind) => {
    const found = findReferences(ROOT_FREE, { a: { b: [{ [key]: 'X' }] } });
    expect(found[kind]).toEqual([{ pointer: `/a/b/0/${key}`, value: 'X' }]);
  });

  it.each(['deviceName', 'devicesCount', 'account', 'id', 'owner', 'accountIdx'])(
    'does not count the key %s',
    (key) => {
      expect(findReferences(ROOT_FREE, { a: { [key]: 'X' } })).toEqual({
        accounts: [],
        devices: [],
      });
    },
  );

  it('reports values of any type as found, for the policy to judge', () => {
    const found = findReferences(ROOT_FREE, {
      a: { deviceId: 42 },
      b: { Device: { id: 'X' } },
      c: { deviceIds: ['X', null] },
    });
    expect(found.devices.map((ref) => ref.value)).toEqual([42, { id: 'X' }, 'X', null]);
  });

  it('escapes pointers as RFC 6901 says', () => {
    const found = findReferences(ROOT_FREE, { 'a/b~c': { deviceId: 'X' } });
    expect(found.devices).toEqual([{ pointer: '/a~1b~0c/deviceId', value: 'X' }]);
  });

  it('looks only where the scope says', () => {
    expect(
      findReferences({ account: ['accountId'] }, { accountId: 'A', nested: { deviceId: 'X' } }),
    ).toEqual({ accounts: [{ pointer: '/accountId', value: 'A' }], devices: [] });
  });

  it('ignores values the prototype chain would give', () => {
    const body = JSON.parse('{"__proto__":{"deviceId":"X"}}') as Record<string, unknown>;
    expect(findReferences({ devices: [['deviceId']] }, body).devices).toEqual([]);
  });

  it(`accepts ${MAX_FREE_FORM_KEYS} keys in one free-form object, counted through its levels`, () => {
    const body = { widgets: [{ ...keys(MAX_FREE_FORM_KEYS - 1), inner: {} }] };
    expect(() => findReferences(WIDGETS, body)).not.toThrow();
  });

  it(`refuses more than ${MAX_FREE_FORM_KEYS} keys in one free-form object`, () => {
    const body = { widgets: [{ ...keys(MAX_FREE_FORM_KEYS - 1), inner: { one: 1 } }] };
    expect(() => findReferences(WIDGETS, body)).toThrow(
      expect.objectContaining({
        code: 'validation_failed',
        errors: [{ path: '/widgets', message: `Holds more than ${MAX_FREE_FORM_KEYS} keys` }],
      }),
    );
  });

  it('counts keys per free-form value, not per body', () => {
    const body = { items: [0, 1, 2].map(() => ({ dimensions: keys(MAX_FREE_FORM_KEYS) })) };
    expect(() => findReferences(METRIC, body)).not.toThrow();
  });

  it('refuses a free-form value nested deeper than the limit without overflowing the stack', () => {
    let deep: unknown = { deviceId: 'X' };
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    expect(() => findReferences(ROOT_FREE, { deep })).toThrow(
      expect.objectContaining({
        code: 'validation_failed',
        errors: [{ path: '', message: `Nests deeper than ${MAX_FREE_FORM_DEPTH} levels` }],
      }),
    );
  });

  it(`accepts a free-form value ${MAX_FREE_FORM_DEPTH} levels deep`, () => {
    let deep: unknown = { deviceId: 'X' };
    for (let i = 0; i < MAX_FREE_FORM_DEPTH - 1; i += 1) deep = { d: deep };
    expect(findReferences(ROOT_FREE, deep).devices).toHaveLength(1);
  });
});
