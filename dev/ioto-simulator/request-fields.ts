import { badRequest } from './errors';
import type { JsonObject } from './operation';

/**
 * Body field readers with Ioto's error wording. The reference marks required fields (**Req**)
 * but does not say how a wrong type is reported; the simulator answers 400 for both, which is
 * what a validating server would do (docs/ioto-api.md §2.8).
 */

const present = (body: JsonObject, name: string): boolean =>
  Object.hasOwn(body, name) && body[name] !== undefined && body[name] !== null;

/** A required, non-empty string property. */
export function requireString(body: JsonObject, name: string): string {
  const value = optionalString(body, name);
  if (value === undefined) throw badRequest(`Missing required property "${name}"`);
  return value;
}

/** An optional string property; an empty string counts as absent. */
export function optionalString(body: JsonObject, name: string): string | undefined {
  if (!present(body, name)) return undefined;
  const value = body[name];
  if (typeof value !== 'string') throw badRequest(`Invalid property "${name}"`);
  return value === '' ? undefined : value;
}

/** An optional boolean property. */
export function optionalBoolean(body: JsonObject, name: string): boolean | undefined {
  if (!present(body, name)) return undefined;
  const value = body[name];
  if (typeof value !== 'boolean') throw badRequest(`Invalid property "${name}"`);
  return value;
}

/** A required boolean property. */
export function requireBoolean(body: JsonObject, name: string): boolean {
  const value = optionalBoolean(body, name);
  if (value === undefined) throw badRequest(`Missing required property "${name}"`);
  return value;
}

/** An optional finite number property. */
export function optionalNumber(body: JsonObject, name: string): number | undefined {
  if (!present(body, name)) return undefined;
  const value = body[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw badRequest(`Invalid property "${name}"`);
  }
  return value;
}

/** An optional plain-object property. */
export function optionalObject(body: JsonObject, name: string): JsonObject | undefined {
  if (!present(body, name)) return undefined;
  const value = body[name];
  if (!isJsonObject(value)) throw badRequest(`Invalid property "${name}"`);
  return value;
}

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
