/**
 * The Ioto operation catalog, as data: the 42 HTTP operations of the ten controllers in the Ioto
 * API index (docs/ioto-api.md §0) and the two Store operations offered over Generic (§3.9).
 * `catalog` is what the partner API offers; `withdrawnOperations` the Ioto operations it does
 * not (user/login), each with the reason. MQTT-only operations and the unindexed File, Manager
 * and Test pages (§4) are not listed.
 */
import { accountOperations } from './account';
import { actionOperations } from './action';
import { alertOperations } from './alert';
import { dashboardOperations } from './dashboard';
import { deviceOperations } from './device';
import { genericOperations } from './generic';
import { metricOperations } from './metric';
import { provisionOperations } from './provision';
import { storeOperations } from './store';
import type {
  BodyPath,
  OperationDeclaration,
  OperationDefinition,
  OperationKey,
  OperationScope,
} from './types';
import { userOperations } from './user';

export type {
  AccountScoping,
  BodyPath,
  DeviceOwnership,
  IotoRole,
  OperationDefinition,
  OperationKey,
  OperationScope,
  ResponseKind,
  Sensitivity,
  UpstreamTranslation,
} from './types';

/** The catalog key of an operation: `controller/operation`. */
export function operationKey(
  op: Pick<OperationDefinition, 'controller' | 'operation'>,
): OperationKey {
  return `${op.controller}/${op.operation}`;
}

/** Code-unit order, so the result does not depend on the runtime's locale. */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A frozen copy of a body path list. */
const freezePaths = (paths: readonly BodyPath[]): readonly BodyPath[] =>
  Object.freeze(paths.map((path) => Object.freeze([...path])));

/** A frozen copy of a scope declaration, down to its paths. */
const freezeScope = (scope: OperationScope): OperationScope =>
  Object.freeze({
    ...scope,
    ...(scope.account && { account: Object.freeze([...scope.account]) }),
    ...(scope.accountScoping && {
      accountScoping: Object.freeze(
        scope.accountScoping.basis === 'assumed'
          ? { ...scope.accountScoping, answer: Object.freeze([...scope.accountScoping.answer]) }
          : { ...scope.accountScoping },
      ),
    }),
    ...(scope.devices && { devices: freezePaths(scope.devices) }),
    ...(scope.freeForm && { freeForm: freezePaths(scope.freeForm) }),
  });

/**
 * A frozen entry, down to the objects it holds, whose request schema is built on first read and
 * then kept (the zod schema itself is left alone).
 */
const freezeEntry = ({ request, ...op }: OperationDeclaration): OperationDefinition => {
  let schema: OperationDefinition['request'] | undefined;
  const entry = {
    ...op,
    scope: freezeScope(op.scope),
    ...(op.upstream && {
      upstream: Object.freeze({
        ...op.upstream,
        ...(op.upstream.query && { query: Object.freeze({ ...op.upstream.query }) }),
      }),
    }),
  };
  Object.defineProperty(entry, 'request', {
    enumerable: true,
    get: () => {
      schema ??= request();
      return schema;
    },
  });
  return Object.freeze(entry as typeof entry & Pick<OperationDefinition, 'request'>);
};

/** Every Ioto operation of the catalog, ordered by controller then operation, frozen. */
const everyOperation: readonly OperationDefinition[] = Object.freeze(
  [
    ...accountOperations,
    ...actionOperations,
    ...alertOperations,
    ...dashboardOperations,
    ...deviceOperations,
    ...genericOperations,
    ...metricOperations,
    ...provisionOperations,
    ...storeOperations,
    ...userOperations,
  ]
    .map(freezeEntry)
    .sort(
      (a, b) => compareText(a.controller, b.controller) || compareText(a.operation, b.operation),
    ),
);

/** Every operation the partner API offers, ordered by controller then operation. */
export const catalog: readonly OperationDefinition[] = Object.freeze(
  everyOperation.filter((op) => op.withdrawn === undefined),
);

/** The Ioto operations the partner API does not offer, each with its `withdrawn` reason. */
export const withdrawnOperations: readonly OperationDefinition[] = Object.freeze(
  everyOperation.filter((op) => op.withdrawn !== undefined),
);

/** A Map, not an object, so that names like `__proto__` or `toString` find nothing. */
const byKey: ReadonlyMap<string, OperationDefinition> = new Map(
  catalog.map((op) => [operationKey(op), op]),
);

/**
 * The operation with exactly this controller and operation name (case-sensitive), if the
 * catalog offers it.
 */
export function findOperation(
  controller: string,
  operation: string,
): OperationDefinition | undefined {
  return byKey.get(`${controller}/${operation}`);
}
