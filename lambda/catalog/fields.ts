/**
 * Field schemas shared by the operation catalog. The Ioto reference types body fields only as
 * `string`, `number`, `boolean`, `object`, `array` and `date` (docs/ioto-api.md §2.6); the bounds here
 * are ours, chosen to stop abuse without rejecting plausible values.
 */
import {
  catchall,
  int,
  iso,
  json,
  looseObject,
  maxLength,
  minimum,
  minLength,
  number,
  pipe,
  record,
  refine,
  regex,
  string,
  superRefine,
  union,
  unknown,
  type ZodMiniType,
  enum as zodEnum,
} from '../config/zod';
import type { OperationScope } from './types';

/**
 * The scope of a device-side operation Ioto does not address by account (device/getSignedUrl,
 * provision, release, the Provision controller): the device in `id`, checked with the account
 * of the gateway's own `accountId` selector, which is never sent to Ioto (decision 0004).
 */
export const DEVICE_SIDE_SCOPE: OperationScope = {
  accountScoping: {
    basis: 'gateway',
    source: 'the device ownership check, device/get with this account (§3.5)',
  },
  account: ['accountId'],
  devices: [['id']],
};

/**
 * An Ioto id (account, user, device claim ID, action, alert, dashboard, cloud): opaque. Ioto
 * gives no length; its ids are ULIDs (26 characters) and claim IDs 10, so 128 is far above them.
 */
export const identifier = string().check(minLength(1), maxLength(128));

/**
 * The account an owner-level (CloudAPI) caller targets; honoured only for the owner role
 * (docs/ioto-api.md §2.3, §3.5).
 */
export const accountId = identifier;

/** A device claim ID, as used by Generic items, metrics and the store (docs/ioto-api.md §3.6). */
export const deviceId = identifier;

/** The device cloud an operation reads (actions, metric lists, schemas). */
export const cloudId = identifier;

/**
 * Names, types, descriptions and other short free text. Ioto types these only `string`; an
 * empty one names nothing, and 1024 characters is our bound against abuse.
 */
export const freeText = string().check(minLength(1), maxLength(1024));

/** Percent-decoding rounds before a still-encoded name is refused as evasive. */
const MAX_DECODING_ROUNDS = 4;

/** Decodes every run of `%XX` escapes as UTF-8, leaving anything else (`100%`) as it is. */
const percentDecode = (text: string): string =>
  text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
    Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'),
  );

/**
 * The forms a file name can take on its way to storage: as given, percent-decoded (repeatedly:
 * `%252e` is `%2e` is `.`) and NFKC-normalized (fullwidth `．．／` is `../`). Undefined when it is
 * still encoded after {@link MAX_DECODING_ROUNDS} rounds.
 */
function fileNameForms(name: string): string[] | undefined {
  const forms = [name, name.normalize('NFKC')];
  let current = name;
  for (let round = 0; round < MAX_DECODING_ROUNDS; round += 1) {
    const decoded = percentDecode(current);
    if (decoded === current) return forms;
    forms.push(decoded, decoded.normalize('NFKC'));
    current = decoded;
  }
  return percentDecode(current) === current ? forms : undefined;
}

const escapesTheFolder = (form: string): boolean =>
  /\p{Cc}/u.test(form) ||
  form.includes('\\') ||
  form.startsWith('/') ||
  form.split('/').includes('..');

/**
 * A device file name (device/getSignedUrl). Ioto keeps a device's files under its account and
 * device (docs/ioto-api.md §3.5, §4.1), so a name that climbs out of that folder would sign a URL for
 * another tenant's file. Refused, in every form the name can take: `..` segments, a leading `/`
 * or `\`, any backslash and control characters.
 */
export const deviceFileName = string().check(
  minLength(1),
  maxLength(1024),
  refine((name) => fileNameForms(name)?.some(escapesTheFolder) === false, {
    message:
      "Expected a file name inside the device's folder: no '..' segment, leading '/', " +
      'backslash or control character, also not percent-encoded',
  }),
);

/**
 * An email address. Deliberately permissive (one `@`, no blanks): Cognito is the authority on
 * what it accepts; 254 is the RFC 5321 path limit.
 */
export const email = string().check(
  minLength(3),
  maxLength(254),
  regex(/^[^\s@]+@[^\s@]+$/, 'Expected an email address'),
);

/** A JSON object with free keys (`context`, `preferences`, `dimensions`, ...). */
export const jsonObject = record(string(), json());

/**
 * A count or limit. Ioto types it `number`; a fraction or a negative counts nothing. zod 4
 * `int()` is a safe integer, so NaN and Infinity are rejected.
 */
export const count = int().check(minimum(0));

/**
 * A duration or rate in seconds. Ioto types it `number`; a negative span is none. zod 4
 * `number()` rejects NaN and Infinity.
 */
export const seconds = number().check(minimum(0));

/**
 * A `date` on input. Ioto does not say how dates are serialized (docs/ioto-api.md §10 item 9), so
 * accept ISO 8601 strings (with or without an offset, or a bare date) and epoch numbers.
 */
export const dateInput = union([iso.datetime({ offset: true }), iso.date(), number()]);

/**
 * A metric statistic. The API pages list avg/min/max/count/sum, the Builder docs and samples add
 * `current` and widgets mention `p90`, so any short name is accepted (docs/ioto-api.md §10
 * item 10); 32 characters is ours, far above any of them.
 */
export const statistic = string().check(minLength(1), maxLength(32));

/** The roles a user can be given (docs/ioto-api.md §3.10). */
export const userRole = zodEnum(['user', 'admin', 'owner']);

/**
 * Keys that would reach `Object.prototype` machinery if a consumer copied the body naively. zod
 * silently drops an own `__proto__` key from its output, so the check runs on the raw input.
 */
const reservedKeys = ['__proto__', 'constructor', 'prototype'] as const;

const withoutReservedKeys = unknown().check(
  superRefine((input, ctx) => {
    if (typeof input !== 'object' || input === null) return;
    for (const key of reservedKeys) {
      if (Object.hasOwn(input, key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" is not an allowed key` });
      }
    }
  }),
);

/**
 * A body with documented fields plus free attributes, where Ioto documents `*` (Generic items
 * §3.6, provision/update §3.8). The documented fields keep their types; every other value must
 * be JSON (no `undefined`, functions or non-finite numbers); reserved keys are rejected.
 */
export function withFreeAttributes<const Shape extends Record<string, ZodMiniType>>(shape: Shape) {
  return pipe(withoutReservedKeys, catchall(looseObject(shape), json()));
}
