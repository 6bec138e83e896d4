import type { RigPartner } from '../fuzz/gateway-rig';
import { SEED } from '../ioto-simulator';

/**
 * The request mix of `npm run load`: what the development partners (`dev/dev-access.json`) do
 * on the simulator's seed data, each kind with the one answer it must get. acme is read-only on
 * the first account, globex reads and writes on the second; initech is granted nothing.
 */

const [A, B] = SEED.accounts;

/** One request of a kind: who sends it, where, with what. */
export interface LoadRequest {
  /** `undefined`: no Authorization header; `'forged'`: a token the authorizer must refuse. */
  readonly as: RigPartner | 'forged' | undefined;
  readonly operation: string;
  readonly body: Record<string, unknown>;
}

/** What the answer to a kind must be: a status, and its problem code or the shape of `data`. */
export type Expected =
  | { readonly status: 200; readonly data: 'list' | 'record' | 'any' }
  | { readonly status: number; readonly code: string };

export interface LoadKind {
  readonly name: string;
  readonly group: 'read' | 'write' | 'refused';
  /** Relative frequency in the mix. */
  readonly weight: number;
  readonly expected: Expected;
  /** The `n`-th request of this kind (a counter, so ids and values vary). */
  readonly request: (n: number) => LoadRequest;
}

/** A device of an account, cycling through its seeded devices. */
const deviceOf = (ids: readonly string[], n: number): string => ids[n % ids.length] ?? '';

const ok = (data: 'list' | 'record' | 'any'): Expected => ({ status: 200, data });
const refused = (status: number, code: string): Expected => ({ status, code });

export const LOAD_KINDS: readonly LoadKind[] = [
  // acme: reads of its own account.
  {
    name: 'acme device/get',
    group: 'read',
    weight: 10,
    expected: ok('record'),
    request: (n) => ({
      as: 'acme',
      operation: 'device/get',
      body: { id: deviceOf(A.deviceIds, n) },
    }),
  },
  {
    name: 'acme device/find',
    group: 'read',
    weight: 6,
    expected: ok('list'),
    request: () => ({ as: 'acme', operation: 'device/find', body: { limit: 10 } }),
  },
  {
    name: 'acme store/get',
    group: 'read',
    weight: 8,
    expected: ok('record'),
    request: (n) => ({
      as: 'acme',
      operation: 'store/get',
      body: { deviceId: deviceOf(A.deviceIds, n), key: SEED.storeKeys[n % SEED.storeKeys.length] },
    }),
  },
  {
    name: 'acme metric/fetch',
    group: 'read',
    weight: 4,
    expected: ok('list'),
    request: (n) => ({
      as: 'acme',
      operation: 'metric/fetch',
      body: {
        deviceId: deviceOf(A.deviceIds, n),
        items: [{ namespace: SEED.metricNamespace, metric: SEED.metricName, statistic: 'avg' }],
      },
    }),
  },
  {
    name: 'acme generic/find',
    group: 'read',
    weight: 4,
    expected: ok('list'),
    request: (n) => ({
      as: 'acme',
      operation: 'generic/find',
      body: { _type: SEED.storeType, deviceId: deviceOf(A.deviceIds, n) },
    }),
  },
  // globex: reads and writes of its own account.
  {
    name: 'globex device/get',
    group: 'read',
    weight: 6,
    expected: ok('record'),
    request: (n) => ({
      as: 'globex',
      operation: 'device/get',
      body: { id: deviceOf(B.deviceIds, n) },
    }),
  },
  {
    name: 'globex store/get',
    group: 'read',
    weight: 6,
    expected: ok('record'),
    request: (n) => ({
      as: 'globex',
      operation: 'store/get',
      body: { deviceId: deviceOf(B.deviceIds, n), key: SEED.storeKey },
    }),
  },
  {
    name: 'globex alert/find',
    group: 'read',
    weight: 3,
    expected: ok('list'),
    request: () => ({ as: 'globex', operation: 'alert/find', body: {} }),
  },
  {
    name: 'globex store/set',
    group: 'write',
    weight: 6,
    expected: ok('any'),
    request: (n) => ({
      as: 'globex',
      operation: 'store/set',
      body: { deviceId: deviceOf(B.deviceIds, n), key: 'mode', value: `eco-${n % 7}` },
    }),
  },
  {
    name: 'globex generic/create',
    group: 'write',
    weight: 3,
    expected: ok('record'),
    request: (n) => ({
      as: 'globex',
      operation: 'generic/create',
      body: { _type: SEED.eventType, deviceId: deviceOf(B.deviceIds, n), name: `load-${n}` },
    }),
  },
  {
    name: 'globex dashboard/update',
    group: 'write',
    weight: 2,
    expected: ok('any'),
    request: (n) => ({
      as: 'globex',
      operation: 'dashboard/update',
      body: { id: B.dashboardIds[0], refresh: 10 + (n % 50) },
    }),
  },
  {
    name: 'globex alert/update',
    group: 'write',
    weight: 2,
    expected: ok('any'),
    request: (n) => ({
      as: 'globex',
      operation: 'alert/update',
      body: { id: B.alertIds[n % B.alertIds.length], resolved: n % 2 === 0 },
    }),
  },
  {
    name: 'globex action/invoke',
    group: 'write',
    weight: 2,
    expected: ok('any'),
    request: (n) => ({
      as: 'globex',
      operation: 'action/invoke',
      body: { name: SEED.deviceActionName, context: { deviceId: deviceOf(B.deviceIds, n) } },
    }),
  },
  // Refusals: each with the problem the contract names.
  {
    name: 'acme store/set (read-only partner)',
    group: 'refused',
    weight: 3,
    expected: refused(403, 'operation_not_allowed'),
    request: (n) => ({
      as: 'acme',
      operation: 'store/set',
      body: { deviceId: deviceOf(A.deviceIds, n), key: 'mode', value: 'eco' },
    }),
  },
  {
    name: "globex store/get of acme's device",
    group: 'refused',
    weight: 3,
    expected: refused(403, 'device_not_allowed'),
    request: (n) => ({
      as: 'globex',
      operation: 'store/get',
      body: { deviceId: deviceOf(A.deviceIds, n), key: SEED.storeKey },
    }),
  },
  {
    name: "acme device/find in globex's account",
    group: 'refused',
    weight: 2,
    expected: refused(403, 'account_not_allowed'),
    request: () => ({ as: 'acme', operation: 'device/find', body: { accountId: B.id } }),
  },
  {
    name: 'globex action/invoke of an action not granted',
    group: 'refused',
    weight: 2,
    expected: refused(403, 'action_not_allowed'),
    request: () => ({
      as: 'globex',
      operation: 'action/invoke',
      body: { name: SEED.actionName, context: { deviceId: deviceOf(B.deviceIds, 0) } },
    }),
  },
  {
    name: 'initech device/find (no operations)',
    group: 'refused',
    weight: 2,
    expected: refused(403, 'operation_not_allowed'),
    request: () => ({ as: 'initech', operation: 'device/find', body: {} }),
  },
  {
    name: 'no access token',
    group: 'refused',
    weight: 1,
    expected: refused(401, 'unauthorized'),
    request: () => ({ as: undefined, operation: 'device/find', body: {} }),
  },
  {
    name: 'forged access token',
    group: 'refused',
    weight: 1,
    expected: refused(401, 'unauthorized'),
    request: () => ({ as: 'forged', operation: 'device/find', body: {} }),
  },
  {
    name: 'unknown field',
    group: 'refused',
    weight: 1,
    expected: refused(400, 'validation_failed'),
    request: (n) => ({
      as: 'globex',
      operation: 'device/get',
      body: { id: deviceOf(B.deviceIds, n), color: 'blue' },
    }),
  },
];

/** A walk over every page of a list, as a partner does it, with what it must add up to. */
export interface LoadWalk {
  readonly name: string;
  readonly weight: number;
  readonly as: RigPartner;
  readonly operation: string;
  readonly body: Record<string, unknown>;
  /** The ids the pages must hold together, in order, each once. */
  readonly ids: readonly string[];
}

export const LOAD_WALKS: readonly LoadWalk[] = [
  {
    name: 'acme device/find walk (57 devices, 10 a page)',
    weight: 2,
    as: 'acme',
    operation: 'device/find',
    body: { limit: 10 },
    ids: A.deviceIds,
  },
  {
    name: 'globex device/find walk (5 devices, 2 a page)',
    weight: 2,
    as: 'globex',
    operation: 'device/find',
    body: { limit: 2 },
    ids: B.deviceIds,
  },
];
