/**
 * The records the simulator stores, with the fields of the Ioto reference (docs/ioto-api.md §3).
 * Dates are ISO-8601 strings: the reference does not say how `date` is serialized (§2.6, §10.9)
 * and the agent parses `expires` as ISO-8601.
 */

/** Account record (ref §3.1). */
export interface AccountRecord {
  id: string;
  name: string;
  email: string;
  cloudId: string;
  created: string;
  activity: string;
  closed: boolean;
}

/** Device record (ref §3.5); `id` is the claim ID. Only claimed devices carry `accountId`. */
export interface DeviceRecord {
  id: string;
  accountId: string;
  created: string;
  accessed: string;
  product: string;
  productId: string;
  test: boolean;
  version: string;
  checked?: string;
}

/** A device registered with the Builder that no account of this cloud has claimed yet. */
export interface UnclaimedDevice {
  id: string;
  product: string;
  productId: string;
  version: string;
}

/** Action record (ref §3.2); actions belong to the device cloud, not to an account. */
export interface ActionRecord {
  id: string;
  cloudId: string;
  name: string;
  type: string;
  description: string;
  enable: boolean;
  args: Record<string, unknown>;
  context: Record<string, unknown>;
  destination?: string;
  trigger?: string;
  expression?: string;
  severity?: string;
  /** The error of the last invocation (ref §3.2). */
  error?: string;
}

/** Alert record (ref §3.3). */
export interface AlertRecord {
  id: string;
  accountId: string;
  cloudId: string;
  context: Record<string, unknown>;
  count: number;
  message: string;
  name: string;
  seq: string;
  severity: string;
  subject: string;
  resolved: boolean;
  timestamp: string;
}

/** Dashboard record (ref §3.4). */
export interface DashboardRecord {
  id: string;
  accountId: string;
  name: string;
  css: unknown[];
  fixed: boolean;
  framed: boolean;
  layout: string;
  live: boolean;
  range: Record<string, unknown>;
  refresh: number;
  toolbar: boolean;
  type: string;
  widgetCss: unknown[];
  widgets: unknown[];
  emulate?: string;
}

/** User record (ref §3.10). */
export interface UserRecord {
  id: string;
  accountId: string;
  cloudId: string;
  email: string;
  first: string;
  last: string;
  role: UserRole;
  activity: string;
  preferences?: Record<string, unknown>;
}

/** The roles a user record can hold (ref §2.3, §3.10 Create). */
export type UserRole = 'user' | 'admin' | 'owner';

/** A Generic item (ref §3.6): free attributes, chosen by `_type`, always in one account. */
export type GenericItem = Record<string, unknown> & { _type: string; accountId: string };

/** A report sent to provision/updateReport (ref §3.8); kept so tests can inspect it. */
export interface UpdateReport {
  id: string;
  update: string;
  success: boolean;
  received: string;
}

/** Everything the simulator stores; `reset()` replaces it with a fresh seed. */
export interface SimulatorData {
  readonly accounts: Map<string, AccountRecord>;
  /** Claimed devices, keyed by device id. */
  readonly devices: Map<string, DeviceRecord>;
  /** Devices that can be claimed, keyed by claim id. */
  readonly unclaimed: Map<string, UnclaimedDevice>;
  /** Generic items, keyed by {@link genericItemKey}. */
  readonly items: Map<string, GenericItem>;
  readonly alerts: Map<string, AlertRecord>;
  readonly actions: Map<string, ActionRecord>;
  /** Actions that fail on invoke: action id → the error they report. */
  readonly actionFailures: Map<string, string>;
  readonly dashboards: Map<string, DashboardRecord>;
  readonly users: Map<string, UserRecord>;
  readonly updateReports: UpdateReport[];
}

/** The `_type` of key/value Store items, which Ioto exposes over Generic (ref §3.9). */
export const STORE_TYPE = 'Store';

/**
 * Where a Generic item sorts within its account, and what identifies it. The reference says
 * only "attributes enough to identify the item" (ref §3.6): Store items are identified by
 * `(deviceId, key)` as on the Store page (ref §3.9), every other type by `id`.
 */
export function genericSortKey(item: GenericItem): string {
  if (item._type === STORE_TYPE) {
    return `${STORE_TYPE}#${String(item.deviceId ?? '')}#${String(item.key)}`;
  }
  return `${item._type}#${String(item.id)}`;
}

/** The key of a Generic item in {@link SimulatorData.items}. */
export const genericItemKey = (item: GenericItem): string =>
  `${item.accountId}/${genericSortKey(item)}`;
