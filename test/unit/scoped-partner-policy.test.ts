import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { LOCAL_ISSUER } from '../../bin/local/local-issuer';
import { PartnerDirectory } from '../../lambda/auth/partner-directory';
import { type PartnerCall, ScopedPartnerPolicy } from '../../lambda/auth/scoped-partner-policy';
import { findOperation } from '../../lambda/catalog/index';
import type { OperationDefinition } from '../../lambda/catalog/types';
import { parseAccessConfig } from '../../lambda/config/access';
import { UpstreamError, UpstreamRejectedError } from '../../lambda/problems/problem-error';
import type { UpstreamCall } from '../../lambda/upstream/ioto-client';

const op = (key: string): OperationDefinition => {
  const [controller = '', operation = ''] = key.split('/');
  const found = findOperation(controller, operation);
  if (found === undefined) throw new Error(key);
  return found;
};

const access = parseAccessConfig({
  scope: 'api',
  issuers: [{ issuer: LOCAL_ISSUER }],
  partners: [
    {
      id: 'solo',
      operations: [
        'device/*',
        'generic/*',
        'store/*',
        'provision/update',
        'account/find',
        'alert/find',
      ],
      accounts: ['ACC1'],
      identity: { issuer: LOCAL_ISSUER, clientId: 'solo' },
    },
    {
      id: 'duo',
      operations: ['device/*', 'store/*'],
      accounts: ['ACC1', 'ACC2'],
      identity: { issuer: LOCAL_ISSUER, clientId: 'duo' },
    },
  ],
});

/** Ioto as the ownership check sees it: devices D1 in ACC1 and D2 in ACC2. */
const owners: Record<string, string> = { D1: 'ACC1', D2: 'ACC2' };
const calls: UpstreamCall[] = [];
const ioto = async (call: UpstreamCall) => {
  calls.push(call);
  const { id, accountId } = call.body as { id: string; accountId: string };
  if (owners[id] !== accountId) throw new UpstreamRejectedError();
  return { text: JSON.stringify({ id, accountId }) };
};
const logger = new Logger({ logLevel: 'SILENT' });
const policy = new ScopedPartnerPolicy({ directory: new PartnerDirectory(access), ioto, logger });
const event = (partnerId: string) =>
  ({ requestContext: { authorizer: { partnerId } } }) as unknown as APIGatewayProxyEvent;
const admit = (partnerId: string, key: string, body: unknown) =>
  policy.scope(policy.authorize(op(key), event(partnerId)), body);

beforeEach(() => {
  calls.length = 0;
});

describe('ScopedPartnerPolicy.scope', () => {
  it('sets the only account server-side', () => {
    expect(admit('solo', 'device/find', {}).body).toEqual({ accountId: 'ACC1' });
    expect(admit('solo', 'account/find', {}).body).toEqual({ id: 'ACC1' });
  });

  it('requires a partner with several accounts to name one', () => {
    expect(() => admit('duo', 'device/find', {})).toThrow(
      expect.objectContaining({ code: 'account_not_allowed' }),
    );
    expect(admit('duo', 'device/find', { accountId: 'ACC2' })).toMatchObject({
      body: { accountId: 'ACC2' },
      call: { account: 'ACC2' },
    });
  });

  it('refuses an account smuggled into a free-attribute operation that takes none', () => {
    expect(() =>
      admit('solo', 'provision/update', {
        id: 'D1',
        product: 'p',
        version: '1',
        accountId: 'ACC1',
      }),
    ).toThrow(expect.objectContaining({ code: 'account_not_allowed' }));
  });

  it('leaves a body that is not an object to validation', () => {
    expect(admit('solo', 'device/find', [1]).body).toEqual([1]);
  });

  it('does not read an account from the prototype chain', () => {
    const body = JSON.parse('{"__proto__":{"accountId":"ACC2"}}') as Record<string, unknown>;
    expect(admit('solo', 'device/find', body).body).toMatchObject({ accountId: 'ACC1' });
  });
});

describe('ScopedPartnerPolicy.confirm', () => {
  const confirm = async (partnerId: string, key: string, body: Record<string, unknown>) => {
    const { call, body: scoped } = admit(partnerId, key, body);
    await policy.confirm(call, scoped as Record<string, unknown>);
  };

  it('checks device ownership with the call account', async () => {
    await expect(
      confirm('solo', 'store/get', { deviceId: 'D1', key: 'k' }),
    ).resolves.toBeUndefined();
    expect(calls).toEqual([
      expect.objectContaining({ operation: 'get', body: { id: 'D1', accountId: 'ACC1' } }),
    ]);
    await expect(confirm('solo', 'store/get', { deviceId: 'D2', key: 'k' })).rejects.toMatchObject({
      code: 'device_not_allowed',
    });
  });

  it('tries each account of the partner for an operation that names none', async () => {
    await expect(confirm('duo', 'device/release', { id: 'D2' })).resolves.toBeUndefined();
    expect(calls.map((c) => c.body)).toEqual([
      { id: 'D2', accountId: 'ACC1' },
      { id: 'D2', accountId: 'ACC2' },
    ]);
  });

  it('lets other Ioto failures through rather than guess', async () => {
    const failing = new ScopedPartnerPolicy({
      directory: new PartnerDirectory(access),
      ioto: async () => {
        throw new UpstreamError();
      },
      logger,
    });
    const { call } = admit('solo', 'device/release', { id: 'D1' });
    await expect(failing.confirm(call, { id: 'D1' })).rejects.toBeInstanceOf(UpstreamError);
  });

  it('needs no check for a claim or device/get', async () => {
    await confirm('solo', 'device/claim', { id: 'NEW1' });
    await confirm('solo', 'device/get', { id: 'D1' });
    expect(calls).toHaveLength(0);
  });
});

describe('ScopedPartnerPolicy.filter', () => {
  const call = (key: string): PartnerCall =>
    policy.scope(policy.authorize(op(key), event('solo')), {}).call;

  it('drops list items of other accounts and logs a scope violation', () => {
    const errors = jest.spyOn(logger, 'error');
    const data = [
      { id: 'D1', accountId: 'ACC1' },
      { id: 'D9', accountId: 'ACC9' },
      { id: 'X', accountId: 42 },
      { id: 'M' },
    ];
    expect(policy.filter(call('device/find'), data)).toEqual([
      { id: 'D1', accountId: 'ACC1' },
      { id: 'M' },
    ]);
    expect(errors).toHaveBeenCalledWith(
      expect.stringContaining('scope violation'),
      expect.objectContaining({ dropped: 2 }),
    );
  });

  it('checks account records by id', () => {
    expect(policy.filter(call('account/find'), [{ id: 'ACC1' }, { id: 'ACC2' }])).toEqual([
      { id: 'ACC1' },
    ]);
  });

  it('refuses a record of another account with upstream_error', () => {
    expect(() => policy.filter(call('alert/find'), { id: 'AL', accountId: 'ACC2' })).toThrow(
      UpstreamError,
    );
  });
});

describe('ScopedPartnerPolicy.authorize', () => {
  it.each([
    ['an unknown partner', 'nobody', 'device/find', 'unauthorized'],
    ['an operation not granted', 'duo', 'generic/find', 'operation_not_allowed'],
    [
      'a credential operation behind a wildcard',
      'solo',
      'device/getCreds',
      'operation_not_allowed',
    ],
  ])('refuses %s', (_name, partnerId, key, code) => {
    expect(() => policy.authorize(op(key), event(partnerId))).toThrow(
      expect.objectContaining({ code }),
    );
  });

  it('refuses an event without authorizer context', () => {
    expect(() => policy.authorize(op('device/find'), {} as APIGatewayProxyEvent)).toThrow(
      expect.objectContaining({ code: 'unauthorized' }),
    );
  });
});
