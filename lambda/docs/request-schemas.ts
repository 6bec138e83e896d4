/**
 * The request body of each operation as a partner sends it: the catalog's strict zod schema,
 * converted, with the paging fields of paged operations, and the account selector the gateway
 * sets (catalog `scope.account`) optional, since the proxy fills it in before validating.
 */

import { operationKey } from '../catalog/index';
import type { BodyPath, OperationDefinition } from '../catalog/types';
import { toJSONSchema } from '../config/zod';
import type { JsonObject, SchemaObject } from './openapi-types';
import { isObject, type SchemaRegistry } from './schema-registry';

/** Page-size bounds written into the paged operations' schemas. */
export interface PagingBounds {
  readonly defaultLimit: number;
  readonly maxLimit: number;
}

/** What the account selector means to a partner (README, "What is enforced", rule 3). */
export const ACCOUNT_SELECTOR_DESCRIPTION =
  'The Ioto account the call acts in. Set by the gateway when you have one account; name one ' +
  'of yours when you have several. Any other value is 403 `account_not_allowed`.';

/**
 * What JSON Schema cannot learn from zod: refinements across fields. Each entry is merged into
 * the operation's schema; a unit test checks it against the catalog's own validation.
 */
const CROSS_FIELD_RULES: Readonly<Record<string, JsonObject>> = {
  // action.ts: "Either id or name is required".
  'action/invoke': { anyOf: [{ required: ['name'] }, { required: ['id'] }] },
};

/** An Ioto id, as the catalog bounds it (fields.ts `identifier`). */
const IDENTIFIER: JsonObject = { type: 'string', minLength: 1, maxLength: 128 };

/**
 * `schema` with the property at `path` optional and described as the account selector; a
 * free-form object on the way (action/invoke `context`) gets the property declared.
 */
function withOptionalAccount(schema: SchemaObject, path: BodyPath): SchemaObject {
  const [field, ...rest] = path;
  if (field === undefined) return schema;
  const properties = isObject(schema.properties) ? schema.properties : {};
  const present = properties[field];
  const required = Array.isArray(schema.required) ? schema.required : [];
  const next =
    rest.length === 0
      ? { ...(isObject(present) ? present : IDENTIFIER), description: ACCOUNT_SELECTOR_DESCRIPTION }
      : withOptionalAccount(isObject(present) ? present : { type: 'object' }, rest);
  const remaining = rest.length === 0 ? required.filter((name) => name !== field) : required;
  const { required: _required, ...others } = schema;
  return {
    ...others,
    properties: { ...properties, [field]: next },
    ...(remaining.length > 0 && { required: remaining }),
  };
}

/** The paging fields of paged operations (README, "Paging"). */
const pagingProperties = (bounds: PagingBounds): JsonObject => ({
  limit: {
    type: 'integer',
    minimum: 1,
    maximum: bounds.maxLimit,
    default: bounds.defaultLimit,
    description: 'Page size.',
  },
  pageToken: {
    type: 'string',
    minLength: 1,
    maxLength: 4096,
    description:
      'The `nextPageToken` or `prevPageToken` of an earlier answer, sent with the same other ' +
      'fields (`limit` may change). Opaque, bound to you, this operation and those fields, and ' +
      'short-lived: otherwise 400 `invalid_page_token`.',
  },
});

/** The body a partner sends to `op`, as a schema of `components`-relative pointers. */
export function partnerRequestSchema(
  op: OperationDefinition,
  bounds: PagingBounds,
  registry: SchemaRegistry,
  owner: string,
): SchemaObject {
  // No catalog schema has defaults or transforms, so the output view equals the input view; it
  // also sees through the pipes that guard free-attribute bodies against reserved keys.
  const converted = toJSONSchema(op.request, {
    io: 'output',
    unrepresentable: 'any',
  }) as JsonObject;
  let schema = registry.adopt(converted, owner);
  if (op.scope.account !== undefined) schema = withOptionalAccount(schema, op.scope.account);
  if (op.paged) {
    const properties = isObject(schema.properties) ? schema.properties : {};
    schema = { ...schema, properties: { ...properties, ...pagingProperties(bounds) } };
  }
  return { ...schema, ...CROSS_FIELD_RULES[operationKey(op)] };
}

/** `body` with `value` at `path`, creating the objects on the way. */
const withValueAt = (body: JsonObject, path: BodyPath, value: string): JsonObject => {
  const [field, ...rest] = path;
  if (field === undefined) return body;
  const inner = body[field];
  return {
    ...body,
    [field]: rest.length === 0 ? value : withValueAt(isObject(inner) ? inner : {}, rest, value),
  };
};

/**
 * Whether a partner must send a body: whether the catalog's own validation refuses an empty
 * body (`{}`) once the gateway has set the account selector, as the proxy does before it
 * validates (README, "What is enforced", rule 3).
 */
export function requiresBody(op: OperationDefinition): boolean {
  const empty = op.scope.account === undefined ? {} : withValueAt({}, op.scope.account, 'account');
  return !op.request.safeParse(empty).success;
}
