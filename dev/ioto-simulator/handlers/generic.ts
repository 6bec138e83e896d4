import { isDeepStrictEqual } from 'node:util';
import { badRequest } from '../errors';
import {
  type AccountRecord,
  type GenericItem,
  genericItemKey,
  genericSortKey,
  STORE_TYPE,
} from '../model';
import {
  empty,
  type JsonObject,
  json,
  type OperationRequest,
  type OperationTable,
} from '../operation';
import { page } from '../paging';
import { optionalString, requireString } from '../request-fields';
import type { SimulatorState } from '../state';

/**
 * Generic controller (docs/ioto-api.md §3.6): schema-agnostic CRUD on items chosen by `_type`.
 * Every other body property is an item attribute or a filter. `accountId` picks the account
 * (ref §3.6 examples) and is never an attribute the caller can set or filter on.
 */

/** Body properties that select, never filter or set (ref §3.6). */
const SELECTORS = new Set(['_type', 'accountId']);

interface Scope {
  readonly account: AccountRecord;
  readonly type: string;
}

/** The account and type of a request; a given `deviceId` must be a device of the account. */
function scopeOf(state: SimulatorState, body: JsonObject): Scope {
  const type = requireString(body, '_type');
  const account = state.account(body);
  const deviceId = optionalString(body, 'deviceId');
  if (deviceId !== undefined) state.deviceInAccount(account, deviceId);
  return { account, type };
}

const attributesOf = (body: JsonObject): [string, unknown][] =>
  Object.entries(body).filter(([name]) => !SELECTORS.has(name));

/** Items of the scope matching every given attribute, sorted by their sort key. */
function matching(state: SimulatorState, scope: Scope, body: JsonObject): GenericItem[] {
  const filters = attributesOf(body);
  return [...state.data.items.values()]
    .filter(
      (item) =>
        item.accountId === scope.account.id &&
        item._type === scope.type &&
        filters.every(([name, value]) => isDeepStrictEqual(item[name], value)),
    )
    .map((item) => ({ item, sk: genericSortKey(item) }))
    .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0))
    .map(({ item }) => item);
}

/**
 * The key an update or remove names. Store items are identified by `(deviceId, key)` as on
 * the Store page (ref §3.9), other types by `id`; the reference only says "attributes enough
 * to identify the item".
 */
function identify(scope: Scope, body: JsonObject): string {
  const probe: GenericItem = { ...body, _type: scope.type, accountId: scope.account.id };
  if (scope.type === STORE_TYPE) requireString(body, 'key');
  else requireString(body, 'id');
  return genericItemKey(probe);
}

/** The Store `type` of a value (ref §3.9: `string`, `number`, and `boolean` from the agent). */
function storeTypeOf(value: unknown): string {
  const kind = typeof value;
  return kind === 'string' || kind === 'number' || kind === 'boolean' ? kind : 'object';
}

/** A new item from the body: Store items get the documented Store record fields (ref §3.9). */
function newItem(state: SimulatorState, scope: Scope, body: JsonObject): GenericItem {
  const now = state.now();
  const attributes = Object.fromEntries(attributesOf(body));
  if (scope.type === STORE_TYPE) {
    requireString(body, 'key');
    return {
      role: 'user',
      _source: 'cloud',
      ...attributes,
      type: attributes.type ?? storeTypeOf(attributes.value),
      _type: scope.type,
      accountId: scope.account.id,
      created: now,
      updated: now,
    };
  }
  return {
    ...attributes,
    id: optionalString(body, 'id') ?? state.newId('GN'),
    _type: scope.type,
    accountId: scope.account.id,
    created: now,
    updated: now,
  };
}

function findOne(state: SimulatorState, { body }: OperationRequest): GenericItem {
  const item = matching(state, scopeOf(state, body), body)[0];
  if (item === undefined) throw badRequest('Cannot find item');
  return item;
}

export const GENERIC_OPERATIONS: OperationTable = {
  create: (state, { body }) => {
    const scope = scopeOf(state, body);
    const item = newItem(state, scope, body);
    const key = genericItemKey(item);
    if (state.data.items.has(key)) throw badRequest('Item already exists');
    state.data.items.set(key, item);
    return json(item);
  },

  find: (state, { body, query }) => {
    const scope = scopeOf(state, body);
    return json(
      page(
        {
          pk: `account#${scope.account.id}`,
          skPrefix: `${scope.type}#`,
          entries: matching(state, scope, body).map((item) => ({
            sk: genericSortKey(item),
            value: item,
          })),
        },
        query,
      ),
    );
  },

  /** The first matching item in sort order; none is 400 `Cannot find item`. */
  get: (state, request) => json(findOne(state, request)),

  /** Ioto does not document the answer (ref §10.12): 200 with an empty body. */
  remove: (state, { body }) => {
    const key = identify(scopeOf(state, body), body);
    if (!state.data.items.delete(key)) throw badRequest('Cannot find item');
    return empty();
  },

  /**
   * Query `exists` (ref §2.4, sample `set-item.sh`): `null` (bare `?exists`) upserts, `false`
   * requires that the item does not exist yet, `true` or absent requires that it exists.
   */
  update: (state, { body, query }) => {
    const scope = scopeOf(state, body);
    const key = identify(scope, body);
    const existing = state.data.items.get(key);
    if (existing === undefined) {
      if (query.exists !== null && query.exists !== false) throw badRequest('Cannot find item');
      const created = newItem(state, scope, body);
      state.data.items.set(key, created);
      return json(created);
    }
    if (query.exists === false) throw badRequest('Item already exists');
    const attributes = Object.fromEntries(attributesOf(body));
    Object.assign(existing, attributes, { updated: state.now() });
    if (scope.type === STORE_TYPE && 'value' in attributes && !('type' in attributes)) {
      existing.type = storeTypeOf(attributes.value);
    }
    return json(existing);
  },
};
