import {
  type AccountRecord,
  type ActionRecord,
  type AlertRecord,
  type DashboardRecord,
  type DeviceRecord,
  type GenericItem,
  genericItemKey,
  type SimulatorData,
  STORE_TYPE,
  type UnclaimedDevice,
  type UserRecord,
  type UserRole,
} from './model';

/**
 * Deterministic seed data. Nothing here is random, so every test run and every `reset()` sees
 * the same ids, names and dates; only the CloudAPI token is random (see `server.ts`).
 */

/** The fixed "now" of the seed: every seeded date is this instant plus an offset. */
const SEED_EPOCH_MS = Date.parse('2025-01-15T08:00:00.000Z');

/** An ISO date `minutes` after the seed epoch. */
const at = (minutes: number): string => new Date(SEED_EPOCH_MS + minutes * 60_000).toISOString();

/** The first ten characters of every seeded id: a fixed ULID timestamp part. */
const ID_TIME = '01JHB4Z6QK';

/**
 * A 26-character uppercase id shaped like the ULIDs Ioto uses for accounts, clouds and records:
 * a fixed time part, a two-letter tag naming the kind of record, and a zero-padded sequence.
 * Sorting these strings sorts by `seq` within one kind.
 */
export const ulidLike = (tag: string, seq: number): string =>
  `${ID_TIME}${tag}${String(seq).padStart(14, '0')}`;

/** Sequence numbers at or above this are handed out at run time (never by the seed). */
export const RUNTIME_SEQ_START = 1_000_000;

const CLOUD_ID = ulidLike('CL', 1);
const PRODUCTS = [
  { id: ulidLike('PR', 1), name: 'Sim Thermostat' },
  { id: ulidLike('PR', 2), name: 'Sim Gateway' },
] as const;
const LATEST_VERSION = '1.4.0';
const STORE_KEYS = ['firmware', 'online', 'temperature'] as const;
const METRIC_NAMESPACE = 'Embedthis/Device';
const METRIC_NAMES = ['humidity', 'online', 'temperature'] as const;

interface AccountDefinition {
  readonly name: string;
  readonly domain: string;
  /** One letter that makes the account's device ids distinct (`SIMA000001`). */
  readonly letter: string;
  readonly devices: number;
}

/** The first account is the cloud owner's own account (it has enough devices to page). */
const ACCOUNT_DEFINITIONS = [
  { name: 'Acme Robotics', domain: 'acme.example', letter: 'A', devices: 57 },
  { name: 'Blue Harbor Farms', domain: 'blueharbor.example', letter: 'B', devices: 5 },
  { name: 'Cobalt Labs', domain: 'cobalt.example', letter: 'C', devices: 2 },
] as const satisfies readonly AccountDefinition[];

const USER_DEFINITIONS = [
  { local: 'owner', first: 'Olivia', last: 'Owner', role: 'owner' },
  { local: 'admin', first: 'Adam', last: 'Admin', role: 'admin' },
  { local: 'viewer', first: 'Vera', last: 'Viewer', role: 'user' },
] as const satisfies readonly { local: string; first: string; last: string; role: UserRole }[];

const ALERT_DEFINITIONS = [
  { name: 'temperature-high', severity: 'warning', subject: 'Temperature high', resolved: false },
  { name: 'device-offline', severity: 'error', subject: 'Device offline', resolved: false },
  { name: 'firmware-updated', severity: 'info', subject: 'Firmware updated', resolved: true },
] as const;

const DASHBOARD_NAMES = ['Overview', 'Device Detail'] as const;
const EVENTS_PER_ACCOUNT = 4;

/** Device ids look like the 10-character claim ids printed on labels (docs/ioto-api.md §3.5). */
const deviceId = (letter: string, n: number): string => `SIM${letter}${String(n).padStart(6, '0')}`;

/** The ids of one seeded account and of the records it owns, for tests. */
export interface SeedAccount {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  /** Claimed devices, sorted by id (the order device/find pages in). */
  readonly deviceIds: readonly string[];
  /** Users, in id order; the first is the account owner (email = the account email). */
  readonly userIds: readonly string[];
  readonly alertIds: readonly string[];
  readonly dashboardIds: readonly string[];
  /** Ids of the account's Generic items of `_type` `Event`. */
  readonly eventIds: readonly string[];
}

function seedAccount(index: number, definition: AccountDefinition): SeedAccount {
  const base = index * 10;
  return {
    id: ulidLike('AC', index + 1),
    name: definition.name,
    email: `owner@${definition.domain}`,
    deviceIds: Array.from({ length: definition.devices }, (_, i) =>
      deviceId(definition.letter, i + 1),
    ),
    userIds: USER_DEFINITIONS.map((_, i) => ulidLike('US', base + i + 1)),
    alertIds: ALERT_DEFINITIONS.map((_, i) => ulidLike('AL', base + i + 1)),
    dashboardIds: DASHBOARD_NAMES.map((_, i) => ulidLike('DB', base + i + 1)),
    eventIds: Array.from({ length: EVENTS_PER_ACCOUNT }, (_, i) => ulidLike('EV', base + i + 1)),
  };
}

const ACCOUNTS = [
  seedAccount(0, ACCOUNT_DEFINITIONS[0]),
  seedAccount(1, ACCOUNT_DEFINITIONS[1]),
  seedAccount(2, ACCOUNT_DEFINITIONS[2]),
] as const;

const OWNER = ACCOUNTS[0];
const first = (ids: readonly string[]): string => ids[0] ?? '';

const ACTIONS = [
  {
    id: ulidLike('AX', 1),
    name: 'notify-ops',
    type: 'email',
    description: 'Email the operations team',
    destination: 'ops@acme.example',
  },
  {
    id: ulidLike('AX', 2),
    name: 'reboot-device',
    type: 'mqtt',
    description: 'Ask a device to reboot',
    destination: 'ioto/device/{deviceId}/reboot',
  },
  {
    id: ulidLike('AX', 3),
    name: 'always-fails',
    type: 'lambda',
    description: 'A broken action: every invocation reports an error',
    destination: 'sim-broken-function',
    failure: 'Simulated action failure',
  },
] as const;

/**
 * The ids and names tests need. Every value is fixed; `reset()` restores exactly this data.
 */
export const SEED = Object.freeze({
  /** The one device cloud every account lives in. */
  cloudId: CLOUD_ID,
  /** Three accounts; the first is the cloud owner's own account (used without `accountId`). */
  accounts: ACCOUNTS,
  ownerAccountId: OWNER.id,
  /** First device of the owner account. */
  deviceId: first(OWNER.deviceIds),
  /** Claim ids of devices no account has claimed yet. */
  unclaimedIds: ['SIMU000001', 'SIMU000002', 'SIMU000003'] as const,
  unclaimedId: 'SIMU000001',
  products: PRODUCTS,
  /** The firmware version provision/update offers; older devices get an update. */
  latestVersion: LATEST_VERSION,
  /** The id of the one software update provision/update hands out. */
  updateId: ulidLike('UP', 1),
  /** Every claimed device has one Store item per key (a string, a boolean and a number). */
  storeType: STORE_TYPE,
  storeKeys: STORE_KEYS,
  /** A Store key holding a number. */
  storeKey: 'temperature',
  /** The other seeded Generic `_type`. */
  eventType: 'Event',
  eventId: first(OWNER.eventIds),
  actionId: ACTIONS[0].id,
  actionName: ACTIONS[0].name,
  /** An action that acts on the device its context names. */
  deviceActionName: ACTIONS[1].name,
  /** An action whose invocation answers `{error, name, context}`. */
  failingActionId: ACTIONS[2].id,
  failingActionName: ACTIONS[2].name,
  actionNames: ACTIONS.map((action) => action.name),
  dashboardId: first(OWNER.dashboardIds),
  dashboardName: DASHBOARD_NAMES[0],
  /** The owner account's owner user. */
  userId: first(OWNER.userIds),
  userEmail: OWNER.email,
  alertId: first(OWNER.alertIds),
  metricNamespace: METRIC_NAMESPACE,
  metricNames: METRIC_NAMES,
  metricName: 'temperature',
  /** The seed's fixed "now"; seeded dates are at or after it. */
  epoch: at(0),
});

const productOf = (n: number) => (n % 3 === 0 ? PRODUCTS[1] : PRODUCTS[0]);
const versionOf = (n: number): string => (n % 4 === 0 ? LATEST_VERSION : '1.3.2');

/** The value, and its Store `type`, of a seeded Store key (ref §3.9: string, number, boolean). */
function storeValue(key: string, n: number): { value: unknown; type: string } {
  if (key === 'firmware') return { value: versionOf(n), type: 'string' };
  if (key === 'online') return { value: n % 5 !== 0, type: 'boolean' };
  return { value: 18 + ((n * 7) % 60) / 10, type: 'number' };
}

/** Builds a fresh, mutable copy of the seed data. */
export function createSeedData(): SimulatorData {
  const data: SimulatorData = {
    accounts: new Map(),
    devices: new Map(),
    unclaimed: new Map(),
    items: new Map(),
    alerts: new Map(),
    actions: new Map(),
    actionFailures: new Map(),
    dashboards: new Map(),
    users: new Map(),
    updateReports: [],
  };
  for (const [index, account] of ACCOUNTS.entries()) seedAccountData(data, account, index);
  SEED.unclaimedIds.forEach((id, index) => {
    const product = productOf(index + 1);
    const unclaimed: UnclaimedDevice = {
      id,
      product: product.name,
      productId: product.id,
      version: '1.3.2',
    };
    data.unclaimed.set(id, unclaimed);
  });
  ACTIONS.forEach((definition, index) => {
    const { failure, ...fields } = { failure: undefined, ...definition };
    const action: ActionRecord = {
      ...fields,
      cloudId: CLOUD_ID,
      enable: true,
      args: {},
      context: {},
      trigger: 'alert',
      severity: index === 2 ? 'error' : 'info',
    };
    data.actions.set(action.id, action);
    if (failure !== undefined) data.actionFailures.set(action.id, failure);
  });
  return data;
}

function seedAccountData(data: SimulatorData, seed: SeedAccount, index: number): void {
  const account: AccountRecord = {
    id: seed.id,
    name: seed.name,
    email: seed.email,
    cloudId: CLOUD_ID,
    created: at(index),
    activity: at(24 * 60 + index),
    closed: false,
  };
  data.accounts.set(account.id, account);

  seed.deviceIds.forEach((id, i) => {
    const n = i + 1;
    const product = productOf(n);
    const device: DeviceRecord = {
      id,
      accountId: seed.id,
      created: at(60 + n),
      accessed: at(2 * 24 * 60 + n),
      product: product.name,
      productId: product.id,
      test: n % 10 === 0,
      version: versionOf(n),
    };
    data.devices.set(id, device);
    for (const key of STORE_KEYS) {
      const item: GenericItem = {
        _type: STORE_TYPE,
        accountId: seed.id,
        deviceId: id,
        key,
        ...storeValue(key, n),
        role: 'user',
        created: at(120 + n),
        updated: at(3 * 24 * 60 + n),
        _source: 'device',
      };
      data.items.set(genericItemKey(item), item);
    }
  });

  seed.eventIds.forEach((id, i) => {
    const item: GenericItem = {
      _type: 'Event',
      id,
      accountId: seed.id,
      deviceId: seed.deviceIds[i % seed.deviceIds.length],
      name: i % 2 === 0 ? 'boot' : 'door-open',
      severity: i % 2 === 0 ? 'info' : 'warning',
      message: `Simulated event ${i + 1}`,
      timestamp: at(4 * 24 * 60 + i),
      created: at(4 * 24 * 60 + i),
      updated: at(4 * 24 * 60 + i),
    };
    data.items.set(genericItemKey(item), item);
  });

  seed.userIds.forEach((id, i) => {
    const definition = USER_DEFINITIONS[i] ?? USER_DEFINITIONS[2];
    const user: UserRecord = {
      id,
      accountId: seed.id,
      cloudId: CLOUD_ID,
      email: i === 0 ? seed.email : `${definition.local}@${seed.email.split('@')[1]}`,
      first: definition.first,
      last: definition.last,
      role: definition.role,
      activity: at(5 * 24 * 60 + i),
    };
    data.users.set(id, user);
  });

  seed.alertIds.forEach((id, i) => {
    const definition = ALERT_DEFINITIONS[i] ?? ALERT_DEFINITIONS[0];
    const alert: AlertRecord = {
      id,
      accountId: seed.id,
      cloudId: CLOUD_ID,
      context: { deviceId: seed.deviceIds[0] },
      count: i + 1,
      message: `${definition.subject} on ${seed.deviceIds[0]}`,
      name: SEED.actionName,
      seq: `${definition.name}-${i + 1}`,
      severity: definition.severity,
      subject: definition.subject,
      resolved: definition.resolved,
      timestamp: at(6 * 24 * 60 + i),
    };
    data.alerts.set(id, alert);
  });

  seed.dashboardIds.forEach((id, i) => {
    const dashboard: DashboardRecord = {
      id,
      accountId: seed.id,
      name: DASHBOARD_NAMES[i] ?? 'Dashboard',
      css: [],
      fixed: false,
      framed: true,
      layout: 'grid',
      live: true,
      range: { anchor: 'relative', period: 2_419_200, refresh: 60 },
      refresh: 60,
      toolbar: true,
      type: i === 0 ? 'dashboard' : 'page',
      widgetCss: [],
      widgets: [
        {
          id: `00000000-0000-4000-8000-${String(index * 10 + i + 1).padStart(12, '0')}`,
          type: 'graph',
          title: 'Temperature',
          namespace: METRIC_NAMESPACE,
          metric: 'temperature',
          statistic: 'avg',
          dimensions: {},
          anchor: {},
          range: {},
        },
      ],
    };
    data.dashboards.set(id, dashboard);
  });
}
