import { SEED, sampleRequests } from '../../dev/ioto-simulator';
import { grantedOperations } from '../../lambda/auth/partner-directory';
import { catalog, operationKey } from '../../lambda/catalog/index';
import { devAccessConfig } from '../support/access-fixtures';
import { expectEveryRefusalAudited, type Rig, startRig } from './gateway-harness';

/**
 * Every catalog operation as every development partner, through the local gateway: the cell is
 * allowed (200) exactly when the partner configuration grants the operation, and a denied cell
 * reaches neither Ioto nor validation.
 */
const access = devAccessConfig();
const accountOf = (accountId: string) => {
  const account = SEED.accounts.find((a) => a.id === accountId);
  if (account === undefined) throw new Error(`${accountId} is not a seeded account`);
  return account;
};

const cells = access.partners.flatMap((partner) => {
  const granted = grantedOperations(partner);
  const bodies = sampleRequests(accountOf(partner.accounts[0] ?? ''));
  return catalog.map((op) => {
    const key = operationKey(op);
    return [partner.id, key, granted.has(key) ? 'allowed' : 'denied', bodies[key]] as const;
  });
});

let rig: Rig;

beforeAll(async () => {
  rig = await startRig(access, 'acme');
});

afterAll(async () => {
  await rig?.close();
});

beforeEach(() => {
  rig.simulator.reset();
});

describe('the authorization matrix', () => {
  it('has the cells the development configuration promises', () => {
    const allowed = (id: string) =>
      cells.filter(([p, , verdict]) => p === id && verdict === 'allowed').map(([, key]) => key);
    expect(allowed('acme')).toEqual([
      'device/find',
      'device/get',
      'generic/find',
      'generic/get',
      'metric/fetch',
      'store/get',
    ]);
    expect(allowed('globex')).toEqual(
      expect.arrayContaining([
        'action/invoke',
        'device/claim',
        'device/release',
        'generic/create',
        'generic/remove',
        'generic/update',
        'store/set',
      ]),
    );
    expect(allowed('globex')).not.toEqual(expect.arrayContaining(['device/getCreds']));
    expect(allowed('initech')).toEqual([]);
  });

  it.each(cells)('%s calling %s is %s', async (partnerId, key, verdict, body) => {
    const result = await rig.call(`/v1/${key}`, body, { as: partnerId });
    if (verdict === 'allowed') {
      expect(result.status).toBe(200);
      return;
    }
    expect(result.status).toBe(403);
    expect(result.body).toMatchObject({ code: 'operation_not_allowed', status: 403 });
    expect(rig.simulator.requests).toHaveLength(0);
  });
});

it('writes an audit line, with the partner and the code, for every refusal it provoked', () => {
  expect(expectEveryRefusalAudited(rig)).toBeGreaterThan(0);
});
