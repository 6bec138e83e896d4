/**
 * What the catalog's declarations mean for granting an operation: which operations a partner can
 * be confined to, which a `controller/*` wildcard may grant, and which need the operator's
 * acknowledgement. The access configuration's rules and the partner directory both read these.
 */
import type { IotoRole, OperationDefinition } from './types';

/**
 * Whether an operation can be confined to a partner's accounts: it names an account that the
 * policy can set, or a device whose owner the policy can check. The others (actions, metric
 * lists, device credentials, user roles) act on the whole device cloud.
 */
export const isScopable = (op: OperationDefinition): boolean =>
  op.scope.account !== undefined || (op.scope.devices?.length ?? 0) > 0;

/** Whether the account scoping of an operation is the proxy's assumption (see types.ts). */
export const hasAssumedScope = (op: OperationDefinition): boolean =>
  op.scope.accountScoping?.basis === 'assumed';

/** The roles of operations meant for a device's own token (see {@link IotoRole}). */
const DEVICE_SIDE_ROLES: ReadonlySet<IotoRole> = new Set(['device', 'upgrade']);

/**
 * Whether an operation is made for a device's own token: with the owner token it acts on the
 * device the body names, in a way the reference does not document.
 */
export const isDeviceSide = (op: OperationDefinition): boolean =>
  DEVICE_SIDE_ROLES.has(op.iotoRole);

/**
 * What a `controller/*` wildcard grants: the controller's scopable read and write operations
 * whose account scoping Ioto documents. Credential and admin operations, operations that cannot
 * be scoped, device-side operations, operations that run automated actions (granted by action
 * name) and operations whose scoping is assumed need their exact name.
 */
export const isWildcardGrantable = (op: OperationDefinition): boolean =>
  (op.sensitivity === 'read' || op.sensitivity === 'write') &&
  isScopable(op) &&
  op.scope.action === undefined &&
  !isDeviceSide(op) &&
  !hasAssumedScope(op);
