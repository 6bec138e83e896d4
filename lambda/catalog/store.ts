/**
 * Store operations, offered over REST by translation. Ioto's Store controller is MQTT-only; its
 * page says to use Generic with `_type: 'Store'` for REST access (docs/ioto-api.md §3.6, §3.9).
 */
import { boolean, int, number, strictObject, string, union, enum as zodEnum } from 'zod';
import { accountId, deviceId } from './fields';
import type { OperationDefinition } from './types';

/** A store key. */
const key = string().min(1).max(256);

/**
 * A store value: Ioto documents number or string, and the agent also sends booleans (§3.9). An
 * empty string is a value like any other.
 */
const value = union([string().max(1024), number(), boolean()]);

const storeGet = strictObject({ deviceId, key, accountId: accountId.optional() });

/**
 * `type` tells Ioto how to read `value` back; when given it must agree with the JSON type of
 * `value`, and when absent the translation fills it in.
 */
const storeSet = strictObject({
  deviceId,
  key,
  value,
  type: zodEnum(['string', 'number', 'boolean']).optional(),
  // Milliseconds since the epoch (§2.6, §3.9).
  expires: int().min(0).optional(),
  accountId: accountId.optional(),
}).superRefine((body, ctx) => {
  if (body.type !== undefined && body.type !== typeof body.value) {
    ctx.addIssue({
      code: 'custom',
      path: ['type'],
      message: `type "${body.type}" does not match a ${typeof body.value} value`,
    });
  }
});

/** store/get and store/set, translated to generic/get and generic/update. */
export const storeOperations: readonly OperationDefinition[] = [
  {
    controller: 'store',
    operation: 'get',
    summary: "Get an item of a device's key/value store.",
    request: storeGet,
    paged: false,
    response: 'record',
    retrySafe: true,
    sensitivity: 'read',
    mutates: false,
    scope: { account: ['accountId'], devices: [['deviceId']] },
    upstream: {
      controller: 'generic',
      operation: 'get',
      body: (input) => ({ _type: 'Store', ...input }),
    },
  },
  {
    controller: 'store',
    operation: 'set',
    summary: "Set (create or replace) an item of a device's key/value store.",
    request: storeSet,
    paged: false,
    response: 'record',
    // An upsert to absolute values: repeating it leaves the same item.
    retrySafe: true,
    sensitivity: 'write',
    mutates: true,
    scope: { account: ['accountId'], devices: [['deviceId']] },
    upstream: {
      controller: 'generic',
      operation: 'update',
      // A bare `?exists` asks for an upsert (§2.4; vendor sample samples/api/set-item.sh).
      query: { exists: null },
      body: (input) => ({ _type: 'Store', ...input, type: input.type ?? typeof input.value }),
    },
  },
];
