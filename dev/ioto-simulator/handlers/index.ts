import type { OperationHandler, OperationTable } from '../operation';
import { ACCOUNT_OPERATIONS } from './account';
import { ACTION_OPERATIONS } from './action';
import { ALERT_OPERATIONS } from './alert';
import { DASHBOARD_OPERATIONS } from './dashboard';
import { DEVICE_OPERATIONS } from './device';
import { GENERIC_OPERATIONS } from './generic';
import { METRIC_OPERATIONS } from './metric';
import { PROVISION_OPERATIONS } from './provision';
import { USER_OPERATIONS } from './user';

/**
 * Every HTTP operation of the Ioto API index (docs/ioto-api.md §0), by controller. MQTT-only
 * operations (metric get/set, store get/set) and the unindexed File/Manager/Test pages (§4)
 * are not simulated.
 */
const CONTROLLERS: Readonly<Record<string, OperationTable>> = {
  account: ACCOUNT_OPERATIONS,
  action: ACTION_OPERATIONS,
  alert: ALERT_OPERATIONS,
  dashboard: DASHBOARD_OPERATIONS,
  device: DEVICE_OPERATIONS,
  generic: GENERIC_OPERATIONS,
  metric: METRIC_OPERATIONS,
  provision: PROVISION_OPERATIONS,
  user: USER_OPERATIONS,
};

/**
 * The simulated operations keyed by `controller/operation`. A Map, so that a path such as
 * `/tok/constructor/name` can never reach an inherited property.
 */
export const OPERATIONS: ReadonlyMap<string, OperationHandler> = new Map(
  Object.entries(CONTROLLERS).flatMap(([controller, table]) =>
    Object.entries(table).map(([operation, handler]) => [`${controller}/${operation}`, handler]),
  ),
);

/** The `controller/operation` keys of every simulated operation (42). */
export const SIMULATED_OPERATIONS: readonly string[] = [...OPERATIONS.keys()];
