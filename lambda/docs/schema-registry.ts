/**
 * The `components/schemas` of the API description, and the hoisting of zod's `$defs` into it.
 * zod's `toJSONSchema` writes recursive schemas (every `json()` value) as `$defs` of the schema
 * it converts, with pointers such as `#/$defs/__schema0` that resolve only inside that schema:
 * embedded in an OpenAPI document they dangle. Each definition is moved to
 * `components/schemas` under a stable name, identical definitions share one entry, and every
 * pointer is rewritten to it.
 */
import { json, object, toJSONSchema } from '../config/zod';
import type { JsonObject, JsonValue, SchemaObject } from './openapi-types';

const LOCAL_DEF = /^#\/\$defs\/(.+)$/;
const COMPONENT_PREFIX = '#/components/schemas/';

/** Component names OpenAPI allows (`^[a-zA-Z0-9.\-_]+$`). */
const COMPONENT_NAME = /^[A-Za-z0-9._-]+$/;

/** Whether a JSON value is an object (not an array, not null). */
export const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `value` with every `$ref` string passed through `rename`. */
export function mapRefs(value: JsonValue, rename: (ref: string) => string): JsonValue {
  if (Array.isArray(value)) return value.map((item) => mapRefs(item, rename));
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      key === '$ref' && typeof item === 'string' ? rename(item) : mapRefs(item, rename),
    ]),
  );
}

/** JSON with object keys sorted: equal schemas give equal text. */
const canonicalText = (value: JsonValue): string =>
  JSON.stringify(value, (_key, item: JsonValue) =>
    isObject(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );

/**
 * A key per definition that is equal exactly for equal definitions, whatever zod named them:
 * pointers to other definitions are replaced by those definitions' keys, and a pointer back
 * into a definition being keyed by how many levels up it points.
 */
function definitionKeys(defs: JsonObject): Map<string, string> {
  const keyOf = (name: string, stack: readonly string[]): string => {
    const depth = stack.indexOf(name);
    if (depth >= 0) return `cycle:${stack.length - depth}`;
    const definition = defs[name];
    if (definition === undefined) throw new Error(`zod pointed at a missing $defs/${name}`);
    return canonicalText(
      mapRefs(definition, (ref) => {
        const local = LOCAL_DEF.exec(ref)?.[1];
        return local === undefined ? ref : `def:${keyOf(local, [...stack, name])}`;
      }),
    );
  };
  return new Map(Object.keys(defs).map((name) => [name, keyOf(name, [])]));
}

/** The one definition zod writes for a JSON value (`json()`): named `JsonValue`. */
const JSON_VALUE_KEY = (() => {
  const { $defs } = toJSONSchema(object({ value: json() })) as { $defs?: JsonObject };
  const [key] = definitionKeys($defs ?? {}).values();
  if (key === undefined) throw new Error('zod no longer writes json() as a definition');
  return key;
})();

/** Definitions the API description names by what they are rather than where they appeared. */
const KNOWN_DEFINITIONS: ReadonlyMap<string, string> = new Map([[JSON_VALUE_KEY, 'JsonValue']]);

/** `components/schemas`, filled as the document is built. */
export class SchemaRegistry {
  readonly #schemas = new Map<string, SchemaObject>();
  /** Definition key → component name, so an equal definition is stored once. */
  readonly #byKey = new Map<string, string>();

  /** A pointer to the component `name`. */
  static ref(name: string): { readonly $ref: string } {
    return { $ref: `${COMPONENT_PREFIX}${name}` };
  }

  /** Adds a schema under its own name (Problem, the records); the same name twice must agree. */
  add(name: string, schema: SchemaObject): { readonly $ref: string } {
    const present = this.#schemas.get(name);
    if (present !== undefined && canonicalText(present) !== canonicalText(schema)) {
      throw new Error(`Two different schemas named ${name}`);
    }
    this.#schemas.set(name, schema);
    return SchemaRegistry.ref(name);
  }

  /**
   * A zod JSON Schema made fit for `components`: its `$defs` hoisted (named after `owner`,
   * an operationId, unless they are a known shape) and its `$schema` dropped (OpenAPI 3.1
   * sets the dialect).
   */
  adopt(converted: JsonObject, owner: string): SchemaObject {
    const { $schema: _dialect, $defs, ...schema } = converted;
    if ($defs === undefined) return schema;
    if (!isObject($defs)) throw new Error('zod wrote $defs that are not an object');
    const keys = definitionKeys($defs);
    const names = new Map<string, string>();
    for (const [local, key] of keys) names.set(local, this.#nameFor(key, local, owner));
    const rename = (ref: string): string => {
      const local = LOCAL_DEF.exec(ref)?.[1];
      const name = local === undefined ? undefined : names.get(local);
      if (local !== undefined && name === undefined) {
        throw new Error(`${owner}: a pointer to a missing $defs/${local}`);
      }
      return name === undefined ? ref : `${COMPONENT_PREFIX}${name}`;
    };
    for (const [local, name] of names) {
      if (!this.#schemas.has(name)) {
        this.#schemas.set(name, mapRefs($defs[local] as JsonValue, rename) as SchemaObject);
      }
    }
    return mapRefs(schema, rename) as SchemaObject;
  }

  /** Every schema, by name in code-unit order. */
  entries(): Record<string, SchemaObject> {
    return Object.fromEntries([...this.#schemas].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  #nameFor(key: string, local: string, owner: string): string {
    const known = this.#byKey.get(key);
    if (known !== undefined) return known;
    // zod names definitions `__schema<n>` unless a schema carries an id of its own.
    const suffix = /^__schema(\d+)$/.exec(local)?.[1];
    const base =
      KNOWN_DEFINITIONS.get(key) ??
      (suffix !== undefined || !COMPONENT_NAME.test(local) ? `${owner}Def${suffix ?? ''}` : local);
    let name = base;
    for (let n = 2; this.#schemas.has(name) || [...this.#byKey.values()].includes(name); n += 1) {
      name = `${base}${n}`;
    }
    this.#byKey.set(key, name);
    return name;
  }
}
