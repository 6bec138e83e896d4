/**
 * Store operations, offered over REST by translation. Ioto's Store controller is MQTT-only; its
 * page says to use Generic with `_type: 'Store'` for REST access (docs/ioto-api.md §3.6, §3.9).
 */
import {
  boolean,
  int,
  maxLength,
  minimum,
  minLength,
  number,
  optional,
  strictObject,
  string,
  superRefine,
  union,
  enum as zodEnum,
} from '../config/zod';
import { accountId, deviceId } from './fields';
import type { OperationDeclaration } from './types';

/**
 * A store key. The reference gives it no length; 256 is ours, to stop abuse, far above the
 * vendor's keys (`counter` in apps/demo, `set-value` in samples/api/set-item.sh; §3.9).
 */
const key = string().check(minLength(1), maxLength(256));

/**
 * A store value: Ioto documents number or string, and types "boolean" values too (§3.9). An
 * empty string is a value like any other. 1024 characters is our bound, not Ioto's.
 */
const value = union([string().check(maxLength(1024)), number(), boolean()]);

/** The Store types: the reference's "number" and "string", and the agent's "boolean" (§3.9). */
type StoreType = 'string' | 'number' | 'boolean';

/**
 * Decimal text, as the agent writes a number over database sync: `'%g'` in `ioSetNum()`
 * ("21.5", "1e+07"), `'%d'` in apps/demo (§3.9). Its formatter renders 0 as "e+00", no number
 * in any grammar: refused, since 0 or "0" says the same.
 */
const DECIMAL_TEXT = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * What each `type` takes: its own JSON type, and the forms the agent writes it in (§3.9, agent
 * `src/mqtt.c`). Anything else is refused: no vendor source writes it.
 */
const STORE_TYPE_RULES: Readonly<
  Record<StoreType, { readonly fits: (value: unknown) => boolean; readonly takes: string }>
> = {
  // `ioSet()` and samples/api/set-item.sh send text only.
  string: { fits: (v) => typeof v === 'string', takes: 'a string' },
  // `ioSetNum()`: a JSON number over MQTT (`%lf`), decimal text over database sync (`'%g'`).
  number: {
    fits: (v) => typeof v === 'number' || (typeof v === 'string' && DECIMAL_TEXT.test(v)),
    takes: 'a number or decimal text such as "21.5"',
  },
  // `ioSetBool()` writes the C bool as a number: 1 or 0 over MQTT (`%lf`), text over sync (`'%g'`).
  // true and false are the item's value as `ioGetBool()` reads it back; the text "true" is only
  // read, never written, so it is refused.
  boolean: {
    fits: (v) => typeof v === 'boolean' || v === 0 || v === 1 || v === '0' || v === '1',
    takes: 'true, false, 1, 0, "1" or "0"',
  },
};

// The reference marks no Store field Req; without a key there is no item to name, and the agent
// always sends one (`ioGet()`, `ioSet()`).
const storeGet = () => strictObject({ deviceId, key, accountId: optional(accountId) });

/**
 * `type` tells Ioto how to read `value` back. When given, `value` must be a form the vendor
 * writes for it (`STORE_TYPE_RULES`); when absent, the translation fills it in from the JSON
 * type of `value`, which always fits. `key` and `value` are required, unlike in the reference:
 * without them there is nothing to set, and the agent always sends both.
 */
const storeSet = () =>
  strictObject({
    deviceId,
    key,
    value,
    // The agent never sends another type, and Ioto documents none.
    type: optional(zodEnum(['string', 'number', 'boolean'])),
    // Milliseconds since the epoch (§2.6, §3.9); a whole number, as `Date.getTime()` gives.
    expires: optional(int().check(minimum(0))),
    accountId: optional(accountId),
  }).check(
    superRefine((body, ctx) => {
      if (body.type === undefined) return;
      const rule = STORE_TYPE_RULES[body.type];
      if (!rule.fits(body.value)) {
        ctx.addIssue({
          code: 'custom',
          path: ['type'],
          message: `type "${body.type}" takes ${rule.takes}`,
        });
      }
    }),
  );

/** store/get and store/set, translated to generic/get and generic/update. */
export const storeOperations: readonly OperationDeclaration[] = [
  {
    controller: 'store',
    operation: 'get',
    summary: "Get an item of a device's key/value store.",
    request: storeGet,
    paged: false,
    response: 'record',
    record: 'StoreItem',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'read',
    mutates: false,
    scope: {
      accountScoping: {
        basis: 'documented',
        source: "§3.6, §3.9: Generic `_type: 'Store'` with `accountId`, the owner's target",
      },
      account: ['accountId'],
      devices: [['deviceId']],
    },
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
    record: 'StoreItem',
    // An upsert to absolute values: repeating it leaves the same item.
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'write',
    mutates: true,
    scope: {
      accountScoping: {
        basis: 'documented',
        source:
          "§3.6, §3.9: Generic update of `_type: 'Store'` with `accountId` (samples/api/set-item.sh)",
      },
      account: ['accountId'],
      devices: [['deviceId']],
    },
    upstream: {
      controller: 'generic',
      operation: 'update',
      // A bare `?exists` asks for an upsert (§2.4; vendor sample samples/api/set-item.sh).
      query: { exists: null },
      body: (input) => ({ _type: 'Store', ...input, type: input.type ?? typeof input.value }),
    },
  },
];
