import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { LOCAL_ISSUER } from '../../dev/local-issuer';
import { PartnerDirectory } from '../../lambda/auth/partner-directory';
import {
  MAX_DEVICES_PER_REQUEST,
  NEUTRAL_REJECTION_DETAIL,
  type PartnerCall,
  SCOPE_VIOLATION_MESSAGE,
  ScopedPartnerPolicy,
} from '../../lambda/auth/scoped-partner-policy';
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
        'device/claim',
        'generic/*',
        'generic/create',
        'store/*',
        'provision/update',
        'account/find',
        'alert/find',
        'alert/get',
        'action/invoke',
        'dashboard/create',
        'dashboard/update',
        'metric/fetch',
        'action/get',
      ],
      acceptAssumedScope: [
        'device/claim',
        'generic/create',
        'alert/find',
        'alert/get',
        'action/invoke',
        'dashboard/create',
        'dashboard/update',
      ],
      accounts: ['ACC1'],
      actions: ['reboot-device'],
      identity: { issuer: LOCAL_ISSUER, clientId: 'solo' },
    },
    {
      id: 'duo',
      operations: [
        'device/*',
        'store/*',
        'generic/*',
        'generic/create',
        'action/invoke',
        'provision/update',
      ],
      acceptAssumedScope: ['generic/create', 'action/invoke'],
      accounts: ['ACC1', 'ACC2'],
      actions: ['reboot-device'],
      identity: { issuer: LOCAL_ISSUER, clientId: 'duo' },
    },
  ],
});

/** Ioto as the ownership check sees it: devices D1, D3 and D4 in ACC1, D2 in ACC2. */
const owners: Record<string, string> = { D1: 'ACC1', D2: 'ACC2', D3: 'ACC1', D4: 'ACC1' };
const calls: UpstreamCall[] = [];
const ioto = async (call: UpstreamCall) => {
  calls.push(call);
  const { id, accountId } = call.body as { id: string; accountId: string };
  if (owners[id] !== accountId) throw new UpstreamRejectedError();
  return { id, accountId };
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

  it("refuses another account in a device operation's gateway selector, keeps its own", () => {
    const body = { id: 'D1', product: 'p', version: '1' };
    expect(() => admit('solo', 'provision/update', { ...body, accountId: 'ACC9' })).toThrow(
      expect.objectContaining({ code: 'account_not_allowed' }),
    );
    expect(admit('solo', 'provision/update', body).body).toEqual({ ...body, accountId: 'ACC1' });
  });

  it('sets the account of an action context, creating the context when absent', () => {
    expect(admit('solo', 'action/invoke', { name: 'reboot-device' })).toMatchObject({
      body: { name: 'reboot-device', context: { accountId: 'ACC1' } },
      call: { account: 'ACC1' },
    });
    expect(
      admit('solo', 'action/invoke', { name: 'reboot-device', context: { deviceId: 'D1' } }).body,
    ).toEqual({ name: 'reboot-device', context: { deviceId: 'D1', accountId: 'ACC1' } });
  });

  it.each([
    ['another account', 'ACC2'],
    ['an array', ['ACC1']],
    ['a number', 1],
  ])('refuses %s as the account of an action context', (_name, accountId) => {
    expect(() =>
      admit('solo', 'action/invoke', { name: 'reboot-device', context: { accountId } }),
    ).toThrow(expect.objectContaining({ code: 'account_not_allowed' }));
  });

  it('asks a partner with several accounts to name one in the action context', () => {
    expect(() => admit('duo', 'action/invoke', { name: 'reboot-device' })).toThrow(
      expect.objectContaining({
        code: 'account_not_allowed',
        detail: 'Name one of your accounts in "context.accountId".',
      }),
    );
    expect(
      admit('duo', 'action/invoke', { name: 'reboot-device', context: { accountId: 'ACC2' } }).call
        .account,
    ).toBe('ACC2');
  });

  it('leaves an action context that is not an object to validation', () => {
    const admitted = admit('solo', 'action/invoke', { name: 'x', context: 'ACC2' });
    expect(admitted.body).toEqual({ name: 'x', context: 'ACC2' });
    expect(admitted.call.account).toBeUndefined();
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

  it('makes a partner with several accounts name one, then checks in that account only', async () => {
    await expect(confirm('duo', 'device/release', { id: 'D2' })).rejects.toMatchObject({
      code: 'account_not_allowed',
      detail: expect.stringContaining('accountId'),
    });
    expect(calls).toHaveLength(0);
    await expect(
      confirm('duo', 'device/release', { id: 'D2', accountId: 'ACC2' }),
    ).resolves.toBeUndefined();
    expect(calls.map((c) => c.body)).toEqual([{ id: 'D2', accountId: 'ACC2' }]);
  });

  it('makes one ownership check per device, however many accounts the partner has', async () => {
    await confirm('duo', 'provision/update', {
      id: 'D1',
      product: 'p',
      version: '1',
      accountId: 'ACC1',
      peers: { deviceIds: ['D3', 'D4'] },
    });
    expect(calls.map((c) => c.body)).toEqual([
      { id: 'D1', accountId: 'ACC1' },
      { id: 'D3', accountId: 'ACC1' },
      { id: 'D4', accountId: 'ACC1' },
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

  it('needs no check for a claim, device/get or device/find', async () => {
    await confirm('solo', 'device/claim', { id: 'NEW1' });
    await confirm('solo', 'device/get', { id: 'D1' });
    await confirm('solo', 'device/find', { id: 'D1' });
    expect(calls).toHaveLength(0);
  });

  it('checks every device a free-form body names, once per distinct device', async () => {
    await confirm('solo', 'generic/create', {
      _type: 'Event',
      deviceId: 'D1',
      data: { deviceId: 'D3', peers: [{ Device: 'D1' }, { deviceIds: ['D4', 'D3'] }] },
    });
    expect(calls.map((c) => c.body)).toEqual([
      { id: 'D1', accountId: 'ACC1' },
      { id: 'D3', accountId: 'ACC1' },
      { id: 'D4', accountId: 'ACC1' },
    ]);
  });

  it.each([
    ['in a free-form object', { _type: 'Event', data: { deviceId: 'D2' } }],
    ['two levels down', { _type: 'Event', a: { b: { c: { Device: 'D2' } } } }],
    ['in an array', { _type: 'Event', data: { deviceIds: ['D1', 'D2'] } }],
    ['in another letter case', { _type: 'Event', data: { DEVICEID: 'D2' } }],
  ])('refuses a foreign device %s', async (_name, body) => {
    await expect(confirm('solo', 'generic/create', body)).rejects.toMatchObject({
      code: 'device_not_allowed',
    });
  });

  it.each([
    ['a number', 42],
    ['an object', { id: 'D1' }],
    ['null', null],
    ['an empty string', ''],
    ['an array holding a number', ['D1', 7]],
  ])('refuses a device named by %s', async (_name, value) => {
    await expect(
      confirm('solo', 'generic/create', { _type: 'Event', data: { deviceId: value } }),
    ).rejects.toMatchObject({ code: 'device_not_allowed' });
    expect(calls).toHaveLength(0);
  });

  it.each([
    ['another account', { _type: 'Event', filter: { accountId: 'ACC2' } }],
    ['an account in an array', { _type: 'Event', filter: { accountIds: ['ACC1', 'ACC9'] } }],
    ['an account as a number', { _type: 'Event', filter: { accountId: 1 } }],
  ])('refuses %s in a free-form body before asking Ioto', async (_name, body) => {
    await expect(confirm('solo', 'generic/find', body)).rejects.toMatchObject({
      code: 'account_not_allowed',
    });
    expect(calls).toHaveLength(0);
  });

  it('refuses a second account of the partner beside the one the call acts in', async () => {
    await expect(
      confirm('duo', 'generic/find', {
        _type: 'Event',
        accountId: 'ACC1',
        filter: { accountId: 'ACC2' },
      }),
    ).rejects.toMatchObject({ code: 'account_not_allowed' });
  });

  it('refuses a device in a metric dimension', async () => {
    await expect(
      confirm('solo', 'metric/fetch', {
        deviceId: 'D1',
        items: [
          { namespace: 'Embedthis/Device', statistic: 'avg', dimensions: { Device: 'D1' } },
          { namespace: 'Embedthis/Device', statistic: 'avg', dimensions: { Device: 'D2' } },
        ],
      }),
    ).rejects.toMatchObject({ code: 'device_not_allowed' });
  });

  it('refuses a device in a widget of a dashboard', async () => {
    await expect(
      confirm('solo', 'dashboard/create', {
        name: 'Fleet',
        widgets: [{ type: 'graph', dimensions: { Device: 'D2' } }],
      }),
    ).rejects.toMatchObject({ code: 'device_not_allowed' });
  });

  it(`refuses more than ${MAX_DEVICES_PER_REQUEST} distinct devices before asking Ioto`, async () => {
    const peers = Array.from({ length: MAX_DEVICES_PER_REQUEST + 1 }, (_, i) => `D1-${i}`);
    await expect(
      confirm('solo', 'generic/create', { _type: 'Event', data: { deviceIds: peers } }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    expect(calls).toHaveLength(0);
  });

  it('checks the allow-list for every device before any ownership check', async () => {
    const listed = new ScopedPartnerPolicy({
      directory: new PartnerDirectory(
        parseAccessConfig({
          ...access,
          partners: [{ ...access.partners[0], devices: { ids: ['D1', 'D3'] } }],
        }),
      ),
      ioto,
      logger,
    });
    const { call, body } = listed.scope(listed.authorize(op('generic/create'), event('solo')), {
      _type: 'Event',
      deviceId: 'D1',
      data: { deviceId: 'D4' },
    });
    await expect(listed.confirm(call, body as Record<string, unknown>)).rejects.toMatchObject({
      code: 'device_not_allowed',
    });
    expect(calls).toHaveLength(0);
  });

  it('lets a granted action run by name', async () => {
    await expect(
      confirm('solo', 'action/invoke', { name: 'reboot-device', context: { deviceId: 'D1' } }),
    ).resolves.toBeUndefined();
  });

  it.each([
    ['an action not granted', { name: 'notify-ops' }],
    ['a granted name in another letter case', { name: 'Reboot-Device' }],
    ['a granted name with a trailing space', { name: 'reboot-device ' }],
    ['an invocation by id', { id: 'AX1' }],
    ['an invocation by id beside a granted name', { id: 'AX1', name: 'reboot-device' }],
  ])('refuses %s with action_not_allowed before asking Ioto', async (_name, body) => {
    await expect(confirm('solo', 'action/invoke', body)).rejects.toMatchObject({
      code: 'action_not_allowed',
    });
    expect(calls).toHaveLength(0);
  });

  it("refuses a granted action on another account's device", async () => {
    await expect(
      confirm('solo', 'action/invoke', { name: 'reboot-device', context: { deviceId: 'D2' } }),
    ).rejects.toMatchObject({ code: 'device_not_allowed' });
    expect(calls.map((c) => c.body)).toEqual([{ id: 'D2', accountId: 'ACC1' }]);
  });
});

describe('ScopedPartnerPolicy.conceal', () => {
  const call = (key: string): PartnerCall =>
    policy.scope(policy.authorize(op(key), event('solo')), {}).call;
  const rejected = new UpstreamRejectedError({
    detail: 'Ioto rejected the request: Device already claimed',
  });

  it.each(['device/claim', 'device/get', 'generic/get', 'alert/find', 'action/invoke'])(
    "answers Ioto's refusal of %s neutrally",
    (key) => {
      expect(policy.conceal(call(key), rejected)).toMatchObject({
        code: 'upstream_rejected',
        status: 400,
        detail: NEUTRAL_REJECTION_DETAIL,
        cause: rejected,
      });
    },
  );

  it("passes Ioto's refusal of a cloud-level operation on", () => {
    expect(policy.conceal(call('action/get'), rejected)).toBe(rejected);
  });

  it('passes other failures on unchanged', () => {
    const failure = new UpstreamError();
    expect(policy.conceal(call('device/claim'), failure)).toBe(failure);
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

  it('answers a record of another account as if Ioto had found nothing', () => {
    const errors = jest.spyOn(logger, 'error');
    expect(() =>
      policy.filter(call('generic/get'), { _type: 'Event', id: 'E', accountId: 'ACC2' }),
    ).toThrow(
      expect.objectContaining({ code: 'upstream_rejected', detail: NEUTRAL_REJECTION_DETAIL }),
    );
    expect(errors).toHaveBeenCalledWith(SCOPE_VIOLATION_MESSAGE, expect.any(Object));
  });

  describe('on an operation whose account scoping is assumed', () => {
    it.each([
      ['a record of another account', 'alert/get', { id: 'AL', accountId: 'ACC2' }, 1],
      ['a record that names no account', 'alert/get', { id: 'AL' }, 1],
      ['a record whose account is not a string', 'alert/get', { id: 'AL', accountId: 7 }, 1],
      [
        'a list with one item of another account',
        'alert/find',
        [
          { id: 'A1', accountId: 'ACC1' },
          { id: 'A2', accountId: 'ACC2' },
        ],
        1,
      ],
      ['a list with an item that names no account', 'alert/find', [{ id: 'A1' }, 'x'], 2],
      ['the written record of another account', 'dashboard/create', { accountId: 'ACC2' }, 1],
      [
        'an action context of another account',
        'action/invoke',
        { name: 'reboot-device', context: { accountId: 'ACC2' } },
        1,
      ],
      ['an action answer without its context', 'action/invoke', { name: 'reboot-device' }, 1],
    ])('answers %s with 502 upstream_error and logs the violation', (_name, key, data, count) => {
      const errors = jest.spyOn(logger, 'error');
      errors.mockClear();
      expect(() => policy.filter(call(key), data)).toThrow(
        expect.objectContaining({ code: 'upstream_error', status: 502 }),
      );
      expect(errors).toHaveBeenCalledWith(
        SCOPE_VIOLATION_MESSAGE,
        expect.objectContaining({ partnerId: 'solo', operation: key, dropped: count }),
      );
    });

    it.each([
      ['a record of the account', 'alert/get', { id: 'AL', accountId: 'ACC1' }],
      ['a record Ioto did not find', 'alert/get', null],
      ['a list of the account', 'alert/find', [{ id: 'A1', accountId: 'ACC1' }]],
      ['an empty list', 'alert/find', []],
      [
        'an action answer with its context',
        'action/invoke',
        { name: 'reboot-device', context: { accountId: 'ACC1', deviceId: 'D1' } },
      ],
    ])('passes %s on', (_name, key, data) => {
      const errors = jest.spyOn(logger, 'error');
      errors.mockClear();
      expect(policy.filter(call(key), data)).toEqual(data);
      expect(errors).not.toHaveBeenCalled();
    });
  });
});

describe('ScopedPartnerPolicy.authorize', () => {
  it.each([
    ['an unknown partner', 'nobody', 'device/find', 'unauthorized'],
    ['an operation not granted', 'duo', 'alert/find', 'operation_not_allowed'],
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
