import { findOperation } from '../../lambda/catalog/index';
import type { OperationDefinition } from '../../lambda/catalog/types';
import { createRequestValidator } from '../../lambda/proxy/validate-request';

const validate = createRequestValidator({ defaultLimit: 25, maxLimit: 100 });
const op = (key: string): OperationDefinition => {
  const [controller = '', operation = ''] = key.split('/');
  const found = findOperation(controller, operation);
  if (!found) throw new Error(`no ${key}`);
  return found;
};
const problemsOf = (key: string, body: unknown) => {
  try {
    validate(op(key), body);
  } catch (error) {
    return (error as { code: string; errors: unknown }).errors;
  }
  throw new Error('expected a validation error');
};

describe('createRequestValidator', () => {
  it('applies the default page size to a paged operation', () => {
    expect(validate(op('device/find'), { accountId: 'A1' })).toEqual({
      fields: { accountId: 'A1' },
      limit: 25,
    });
  });

  it('separates limit and pageToken from the Ioto fields', () => {
    expect(validate(op('device/find'), { accountId: 'A1', limit: 5, pageToken: 'abc' })).toEqual({
      fields: { accountId: 'A1' },
      limit: 5,
      pageToken: 'abc',
    });
  });

  it.each([0, 101, 2.5, '10', null])('rejects limit %j', (limit) => {
    expect(problemsOf('device/find', { accountId: 'A1', limit })).toEqual([
      expect.objectContaining({ path: '/limit' }),
    ]);
  });

  it('rejects paging fields on an operation that is not paged', () => {
    expect(problemsOf('device/get', { id: 'D1', limit: 5 })).toEqual([
      { path: '/limit', message: 'Unknown field' },
    ]);
  });

  it('reports every problem at once, with JSON pointers', () => {
    expect(
      problemsOf('metric/fetch', { items: [{ statistic: 'avg' }], extra: 1, limit: 0 }),
    ).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: '/limit' }),
        expect.objectContaining({ path: '/deviceId' }),
        expect.objectContaining({ path: '/items/0/namespace' }),
        { path: '/extra', message: 'Unknown field' },
      ]),
    );
  });

  it.each([null, [], 'text', 7])('rejects the non-object body %j', (body) => {
    expect(problemsOf('alert/find', body)).toEqual([
      { path: '', message: 'The body must be a JSON object' },
    ]);
  });

  // The vendor's own forms (docs/ioto-api.md §3.7, §3.9) pass unchanged: nothing is filled in.
  it.each<[string, string, Record<string, unknown>]>([
    [
      'a metric request without statistic (ref: Req, default avg)',
      'metric/fetch',
      { deviceId: 'D1', items: [{ namespace: 'Embedthis/Device', metric: 'temp' }] },
    ],
    [
      "the agent's ioSetNum() over sync: decimal text typed number",
      'store/set',
      { deviceId: 'D1', key: 'counter', value: '12', type: 'number' },
    ],
    [
      "the agent's ioSetBool() over MQTT: 1 typed boolean",
      'store/set',
      { deviceId: 'D1', key: 'on', value: 1, type: 'boolean' },
    ],
  ])('forwards %s as sent', (_name, key, body) => {
    expect(validate(op(key), body).fields).toStrictEqual(body);
  });

  it.each<[string, Record<string, unknown>]>([
    ['text that is no number typed number', { value: 'eco', type: 'number' }],
    ['"true" typed boolean, which no vendor source writes', { value: 'true', type: 'boolean' }],
    ['2 typed boolean', { value: 2, type: 'boolean' }],
  ])('refuses a store/set with %s at /type', (_name, fields) => {
    expect(problemsOf('store/set', { deviceId: 'D1', key: 'k', ...fields })).toEqual([
      { path: '/type', message: expect.stringMatching(/^type "\w+" takes /) },
    ]);
  });

  it('forwards the parsed fields, not the raw body', () => {
    const result = validate(op('store/set'), { deviceId: 'D1', key: 'k', value: 1 });
    expect(result.fields).toEqual({ deviceId: 'D1', key: 'k', value: 1 });
  });
});
