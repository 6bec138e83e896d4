import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { METHODS } from 'node:http';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { grantedOperations } from '../../lambda/auth/partner-directory';
import { catalog, operationKey } from '../../lambda/catalog/index';
import type { AccessConfig } from '../../lambda/config/access';
import { SEED, type SeedAccount, sampleRequests } from '../ioto-simulator';
import { type IssuerKey, signJwt } from '../local-issuer';
import { ACCOUNT_OF, FUZZ_PARTNER, RIG_PARTNERS, type RigPartner } from './gateway-rig';

/**
 * A seeded fast-check property over every route of the partner contract, through a running
 * local gateway (the real authorizer and proxy behind the API Gateway emulator, over the Ioto
 * simulator). Each generated case is a plan: a target (every catalog route, and paths that are
 * not routes), a method, an `Authorization` value (valid tokens of the rig's partners, and
 * tampered, re-signed, expired, foreign and garbage ones), a `Content-Type`, an `x-request-id`,
 * and a body (the operation's valid sample, mutated; raw text and bytes; paging fields with
 * real, foreign, tampered and truncated page tokens). The plan is materialized into one HTTP
 * request, and the response is held to the contract (the README's error table) by
 * {@link checkResponse}. Findings are collected, not thrown, so one run counts them all.
 */

// ---------------------------------------------------------------------------------------------
// The contract, as the oracle reads it
// ---------------------------------------------------------------------------------------------

/** Every problem code of the README's error table, with its status (`0`: any 4xx). */
export const CONTRACT_CODES: Readonly<Record<string, number>> = {
  malformed_json: 400,
  validation_failed: 400,
  invalid_page_token: 400,
  upstream_rejected: 400,
  idempotency_key_required: 400,
  unauthorized: 401,
  forbidden: 403,
  operation_not_allowed: 403,
  action_not_allowed: 403,
  account_not_allowed: 403,
  device_not_allowed: 403,
  not_found: 404,
  bad_request: 0,
  throttled: 429,
  quota_exceeded: 429,
  method_not_allowed: 405,
  idempotency_in_progress: 409,
  idempotency_key_reused: 422,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal: 500,
  integration_failed: 502,
  authorizer_unavailable: 503,
  access_config_unavailable: 503,
  upstream_error: 502,
  upstream_failed: 502,
  upstream_auth_failed: 502,
  upstream_throttled: 503,
  token_unavailable: 503,
  page_token_unavailable: 503,
  idempotency_unavailable: 503,
  upstream_timeout: 504,
};

/** Problem codes whose document carries no `status` by design (API Gateway's fallbacks). */
const STATUS_ABSENT_BY_DESIGN = new Set(['bad_request', 'internal']);

/**
 * The one 5xx the fuzz accepts: a modelled upstream failure. The simulator is healthy during the
 * fuzz (no faults are queued); only its failing action answers `{error}` to action/invoke,
 * which the contract turns into 502 `upstream_failed`. Any other 5xx is a finding.
 */
const isModelledUpstreamFailure = (request: ConcreteRequest, code: unknown): boolean =>
  code === 'upstream_failed' &&
  request.operation === 'action/invoke' &&
  request.bodyText.includes(SEED.failingActionName);

/**
 * Codes of the answers API Gateway makes itself (README: those marked "(API Gateway)", 405, and
 * the 401, 403 and 404 of the authorizer and of unknown routes): they carry API Gateway's request
 * id and echo nothing. Every other answer is the proxy's, which echoes a well-formed inbound
 * `x-request-id` in `x-client-request-id` (the request id stays the gateway's).
 */
const GATEWAY_MADE_CODES: ReadonlySet<string> = new Set([
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'bad_request',
  'throttled',
  'quota_exceeded',
  'integration_failed',
  'authorizer_unavailable',
]);

const PROBLEM_TYPE_PREFIX = 'urn:ioto-bff:problem:';
const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
/** A well-formed inbound request id, which the contract says the proxy echoes. */
const WELL_FORMED_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/;
/** `at fn (file.js:12:3)`, `at file:///x.ts:1`, `node:internal/...`: a stack trace. */
const STACK_TRACE =
  /(?:^|\s|\\n|["'])at (?:async )?(?:[^\s()"]+ )?\(?(?:file:\/\/)?[^\s()"]*\.(?:[cm]?[jt]s)(?::\d+){1,2}\)?|node:internal\//m;

const ACCOUNTS = SEED.accounts;
const OPERATIONS: readonly string[] = catalog.map(operationKey);
const PAGED: ReadonlySet<string> = new Set(catalog.filter((op) => op.paged).map(operationKey));

// ---------------------------------------------------------------------------------------------
// Plans: what the arbitraries generate (plain data, printable, reproducible from the seed)
// ---------------------------------------------------------------------------------------------

export const FORGERIES = [
  'tamper-header',
  'tamper-payload',
  'tamper-signature',
  'swap-payload',
  'alg-none',
  'alg-none-unsigned',
  'alg-hs256-public-key',
  'alg-rs256',
  'alg-es384',
  'expired',
  'not-yet-valid',
  'no-exp',
  'other-issuer',
  'other-scope',
  'id-token',
  'unknown-kid',
  'other-key',
  'unknown-client',
  'truncated',
  'no-signature',
  'two-parts',
  'four-parts',
] as const;
export type Forgery = (typeof FORGERIES)[number];

/** Ways to write `Authorization` around a valid token that API Gateway should still refuse. */
const MALFORMED_AUTH = [
  'no-scheme',
  'basic',
  'trailing-word',
  'token-twice',
  'bearer-only',
  'comma-list',
  'quoted',
] as const;
type MalformedAuth = (typeof MALFORMED_AUTH)[number];

/** Spellings of the scheme RFC 6750 allows (case-insensitive, one or more spaces). */
const ACCEPTED_SCHEMES = ['Bearer ', 'bearer ', 'BEARER ', 'Bearer   '] as const;

export type AuthPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'blank'; readonly value: string }
  | {
      readonly kind: 'valid';
      readonly partner: RigPartner;
      readonly scheme: (typeof ACCEPTED_SCHEMES)[number];
    }
  | {
      readonly kind: 'forged';
      readonly partner: RigPartner;
      readonly forgery: Forgery;
      readonly position: number;
    }
  | { readonly kind: 'malformed'; readonly partner: RigPartner; readonly variant: MalformedAuth }
  | { readonly kind: 'garbage'; readonly text: string }
  | { readonly kind: 'long'; readonly length: number };

/** Builders of values too large to print in a plan: materialized at request time. */
export type Big =
  | { readonly big: 'string'; readonly length: number; readonly char: string }
  | { readonly big: 'deep'; readonly depth: number; readonly shape: 'array' | 'object' }
  | { readonly big: 'keys'; readonly count: number }
  | { readonly big: 'array'; readonly length: number };

/** A JSON value of a plan: JSON data, with {@link Big} builders anywhere, and entry lists. */
export type PlanValue =
  | null
  | boolean
  | number
  | string
  | { readonly list: readonly PlanValue[] }
  | { readonly entries: readonly (readonly [string, PlanValue])[] }
  | Big;

export type PageTokenPlan =
  | { readonly kind: 'real'; readonly index: number }
  | { readonly kind: 'tampered'; readonly index: number; readonly position: number }
  | { readonly kind: 'truncated'; readonly index: number; readonly keep: number }
  | { readonly kind: 'extended'; readonly index: number; readonly suffix: string }
  | { readonly kind: 'garbage'; readonly text: string }
  | { readonly kind: 'long'; readonly length: number }
  | { readonly kind: 'value'; readonly value: PlanValue };

export type Mutation =
  | {
      readonly kind: 'set';
      readonly key: { readonly existing: number } | { readonly name: string };
      readonly value: PlanValue;
      readonly nested: boolean;
    }
  | { readonly kind: 'delete'; readonly index: number }
  | {
      readonly kind: 'wrap';
      readonly index: number;
      readonly depth: number;
      readonly shape: 'array' | 'object';
    };

export type RawPlan =
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'syntax'; readonly variant: (typeof SYNTAX_ERRORS)[number] }
  | { readonly kind: 'not-object'; readonly text: (typeof NOT_OBJECTS)[number] }
  | {
      readonly kind: 'prototype';
      readonly key: '__proto__' | 'constructor' | 'prototype';
      readonly payload: 'account' | 'admin' | 'nested-prototype';
    }
  | {
      readonly kind: 'duplicate';
      readonly index: number;
      readonly variant: 'same' | 'foreign' | 'escaped' | 'nested';
    }
  | { readonly kind: 'bom'; readonly count: number }
  | { readonly kind: 'utf16'; readonly littleEndian: boolean; readonly bom: boolean }
  | { readonly kind: 'invalid-utf8'; readonly bytes: (typeof INVALID_UTF8)[number] }
  | { readonly kind: 'raw-control'; readonly char: number }
  | { readonly kind: 'lone-surrogate'; readonly escape: string; readonly inKey: boolean }
  | { readonly kind: 'deep'; readonly depth: number; readonly shape: 'array' | 'object' | 'mixed' }
  | { readonly kind: 'unbalanced'; readonly depth: number }
  | {
      readonly kind: 'huge';
      readonly overBy: number;
      readonly shape: 'string' | 'array' | 'whitespace';
    }
  | { readonly kind: 'bytes'; readonly bytes: readonly number[] }
  | { readonly kind: 'text'; readonly text: string };

const SYNTAX_ERRORS = [
  'trailing-comma',
  'single-quotes',
  'comment',
  'nan',
  'infinity',
  'unquoted-key',
  'trailing-garbage',
  'two-documents',
  'hex-number',
  'leading-plus',
  'leading-zero',
  'raw-newline-in-string',
  'bad-escape',
  'short-unicode-escape',
  'missing-colon',
  'missing-value',
  'unclosed-string',
] as const;
const NOT_OBJECTS = ['null', '[]', '[{}]', '"x"', '123', '-0', 'true', 'false', '"{}"'] as const;
const INVALID_UTF8 = [
  'ff',
  'c0-overlong',
  'e0-overlong',
  'cesu-surrogate',
  'truncated-sequence',
  'lone-continuation',
  'f5-out-of-range',
] as const;
const INVALID_UTF8_BYTES: Readonly<Record<(typeof INVALID_UTF8)[number], readonly number[]>> = {
  ff: [0xff],
  'c0-overlong': [0xc0, 0xaf],
  'e0-overlong': [0xe0, 0x80, 0xaf],
  'cesu-surrogate': [0xed, 0xa0, 0x80],
  'truncated-sequence': [0xe2, 0x82],
  'lone-continuation': [0x80],
  'f5-out-of-range': [0xf5, 0x80, 0x80, 0x80],
};

export type BodyPlan =
  | { readonly kind: 'empty' }
  | { readonly kind: 'sample'; readonly account: AccountRef }
  | { readonly kind: 'mutated'; readonly account: AccountRef; readonly mutations: Mutation[] }
  | {
      readonly kind: 'paging';
      readonly limit: PlanValue | undefined;
      readonly pageToken: PageTokenPlan | undefined;
    }
  | { readonly kind: 'raw'; readonly account: AccountRef; readonly raw: RawPlan }
  | { readonly kind: 'next-page'; readonly index: number };

/** Whose seed data a sample body names: the caller's own account, or a seeded one. */
export type AccountRef = 'own' | 0 | 1 | 2;

export type TargetPlan =
  | { readonly kind: 'route'; readonly operation: string; readonly query: string }
  | {
      readonly kind: 'non-route';
      /**
       * `unknown`: no operation under any reading (404). `variant`: another spelling of an
       * operation's path; `routes` says whether API Gateway runs the operation for it (one
       * trailing slash, percent-encoded letters) or matches no resource (`//`, two trailing
       * slashes: 404). `malformed-percent`: escapes that decode to no UTF-8 text (404).
       */
      readonly category: 'unknown' | 'variant' | 'malformed-percent';
      readonly routes?: boolean;
      readonly path: string;
      /** The operation whose sample the body starts from (for a variant: the one it spells). */
      readonly operation: string;
    };

export interface FuzzCase {
  readonly target: TargetPlan;
  readonly method: string;
  readonly auth: AuthPlan;
  /** `undefined`: no Content-Type header at all; two entries: the header twice. */
  readonly contentType: readonly string[] | undefined;
  readonly requestId: string | undefined;
  readonly body: BodyPlan;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const [A, B, C] = ACCOUNTS;

/** Strings that have broken parsers, validators and log pipelines elsewhere. */
const SPECIAL_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uFEFF',
  '\uFEFFid',
  '\u202Eevil\u202C',
  '\u200F',
  '\u200E\u200F\u061C',
  '\u2066x\u2069',
  '\u200B',
  '\uD800',
  '\uDFFF',
  'a\uDBFFb',
  '\uDC00\uD800',
  '\uD83D',
  '\u{1D54F}',
  'e\u0301',
  '\uFF46\uFF55\uFF4C\uFF4C',
  '\u0130',
  '\u00DF',
  '..',
  '../../etc/passwd',
  '%2e%2e%2f',
  '%252e%252e',
  '\\',
  '/abs',
  '\r\n',
  '\t',
  '\u001B[31m',
  '\u2028\u2029',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  `\${7*7}`,
  '{{7*7}}',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'null',
  'true',
  '0',
  '1e309',
  'NaN',
  A.id,
  B.id,
  C.id,
  A.id.toLowerCase(),
  ` ${B.id} `,
  A.deviceIds[0] ?? '',
  B.deviceIds[0] ?? '',
  C.deviceIds[0] ?? '',
  SEED.unclaimedId,
  SEED.actionId,
  SEED.actionName,
  SEED.deviceActionName,
  SEED.failingActionName,
  'reboot-device ',
  'Reboot-Device',
];

/** Keys for body fields: the operations' own, scope keys in other spellings, prototype keys. */
const KEYS: readonly string[] = [
  'id',
  'accountId',
  'deviceId',
  '_type',
  'name',
  'key',
  'value',
  'type',
  'limit',
  'pageToken',
  'context',
  'items',
  'dimensions',
  'Device',
  'devices',
  'deviceIds',
  'accountIds',
  'ACCOUNTID',
  'accountid',
  'AccountId',
  'DEVICEID',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '',
  ' id',
  'id ',
  '\u0000',
  '\uFEFFaccountId',
  'account\u200DId',
  '\uD800',
  'cloudId',
  'filename',
  'command',
  'widgets',
  'preferences',
  'attributes',
];

const keyArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...KEYS), weight: 4 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }), weight: 1 },
);

const hugeStringArb: fc.Arbitrary<Big> = fc.record({
  big: fc.constant('string' as const),
  length: fc.oneof(
    fc.integer({ min: 1_000, max: 20_000 }),
    fc.integer({ min: 100_000, max: 300_000 }),
  ),
  char: fc.constantFrom('a', '\u00E9', '\u{1F600}', '\u202E', '\u0000', ' ', '"', '\\'),
});

const stringArb: fc.Arbitrary<PlanValue> = fc.oneof(
  { arbitrary: fc.constantFrom(...SPECIAL_STRINGS), weight: 4 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }), weight: 1 },
  {
    arbitrary: fc.string({
      unit: fc.constantFrom('\uD800', '\uDFFF', '\u0000', '\u202E', '\uFEFF', 'a', '"', '\\'),
      maxLength: 10,
    }),
    weight: 1,
  },
  { arbitrary: hugeStringArb, weight: 1 },
);

const numberArb: fc.Arbitrary<PlanValue> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1, -1, 1.5, 2 ** 31, 2 ** 53 + 2, 1e308, -1e308, Number.MIN_VALUE),
  fc.constantFrom(25, 49, 50, 51, 99, 100, 101, 1000),
);

const scalarArb: fc.Arbitrary<PlanValue> = fc.oneof(
  { arbitrary: stringArb, weight: 4 },
  { arbitrary: numberArb, weight: 2 },
  { arbitrary: fc.boolean(), weight: 1 },
  { arbitrary: fc.constant(null), weight: 1 },
);

const bigContainerArb: fc.Arbitrary<Big> = fc.oneof(
  fc.record({
    big: fc.constant('deep' as const),
    depth: fc.oneof(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 1_000, max: 20_000 })),
    shape: fc.constantFrom('array' as const, 'object' as const),
  }),
  fc.record({
    big: fc.constant('keys' as const),
    count: fc.oneof(fc.integer({ min: 990, max: 1_010 }), fc.integer({ min: 5_000, max: 20_000 })),
  }),
  fc.record({
    big: fc.constant('array' as const),
    length: fc.oneof(fc.integer({ min: 40, max: 60 }), fc.integer({ min: 1_000, max: 30_000 })),
  }),
);

const { value: valueArb } = fc.letrec<{ value: PlanValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    { arbitrary: scalarArb, weight: 6 },
    { arbitrary: fc.record({ list: fc.array(tie('value'), { maxLength: 4 }) }), weight: 1 },
    {
      arbitrary: fc.record({
        entries: fc.array(fc.tuple(keyArb, tie('value')), { maxLength: 4 }),
      }),
      weight: 1,
    },
    { arbitrary: bigContainerArb, weight: 1 },
  ),
}));

const pageTokenArb: fc.Arbitrary<PageTokenPlan> = fc.oneof(
  fc.record({ kind: fc.constant('real' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('tampered' as const), index: fc.nat(), position: fc.nat() }),
  fc.record({
    kind: fc.constant('truncated' as const),
    index: fc.nat(),
    keep: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  }),
  fc.record({
    kind: fc.constant('extended' as const),
    index: fc.nat(),
    suffix: fc.constantFrom('A', 'AA', '=', '.', '~', '%3D', ' ', 'x'.repeat(64)),
  }),
  fc.record({
    kind: fc.constant('garbage' as const),
    text: fc.oneof(fc.string({ maxLength: 60 }), fc.base64String({ maxLength: 120 })),
  }),
  fc.record({ kind: fc.constant('long' as const), length: fc.integer({ min: 4_000, max: 9_000 }) }),
  fc.record({ kind: fc.constant('value' as const), value: valueArb }),
);

const accountRefArb: fc.Arbitrary<AccountRef> = fc.oneof(
  { arbitrary: fc.constant('own' as const), weight: 5 },
  { arbitrary: fc.constantFrom(0 as const, 1 as const, 2 as const), weight: 1 },
);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      key: fc.oneof(fc.record({ existing: fc.nat() }), fc.record({ name: keyArb })),
      value: valueArb,
      nested: fc.boolean(),
    }),
    weight: 5,
  },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), index: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('wrap' as const),
      index: fc.nat(),
      depth: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 100, max: 5_000 })),
      shape: fc.constantFrom('array' as const, 'object' as const),
    }),
    weight: 1,
  },
);

const rawArb: fc.Arbitrary<RawPlan> = fc.oneof(
  fc.record({
    kind: fc.constant('truncate' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  fc.record({ kind: fc.constant('syntax' as const), variant: fc.constantFrom(...SYNTAX_ERRORS) }),
  fc.record({ kind: fc.constant('not-object' as const), text: fc.constantFrom(...NOT_OBJECTS) }),
  fc.record({
    kind: fc.constant('prototype' as const),
    key: fc.constantFrom('__proto__' as const, 'constructor' as const, 'prototype' as const),
    payload: fc.constantFrom('account' as const, 'admin' as const, 'nested-prototype' as const),
  }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    index: fc.nat(),
    variant: fc.constantFrom(
      'same' as const,
      'foreign' as const,
      'escaped' as const,
      'nested' as const,
    ),
  }),
  fc.record({ kind: fc.constant('bom' as const), count: fc.integer({ min: 1, max: 2 }) }),
  fc.record({ kind: fc.constant('utf16' as const), littleEndian: fc.boolean(), bom: fc.boolean() }),
  fc.record({
    kind: fc.constant('invalid-utf8' as const),
    bytes: fc.constantFrom(...INVALID_UTF8),
  }),
  fc.record({
    kind: fc.constant('raw-control' as const),
    char: fc.constantFrom(0x00, 0x01, 0x08, 0x0a, 0x0d, 0x1b, 0x1f),
  }),
  fc.record({
    kind: fc.constant('lone-surrogate' as const),
    escape: fc.constantFrom('\\ud800', '\\uDFFF', '\\udc00\\ud800', 'x\\ud83d', '\\uDBFF\\u0041'),
    inKey: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('deep' as const),
    depth: fc.oneof(fc.integer({ min: 28, max: 40 }), fc.integer({ min: 1_000, max: 100_000 })),
    shape: fc.constantFrom('array' as const, 'object' as const, 'mixed' as const),
  }),
  fc.record({
    kind: fc.constant('unbalanced' as const),
    depth: fc.integer({ min: 1, max: 5_000 }),
  }),
  fc.record({
    kind: fc.constant('huge' as const),
    overBy: fc.oneof(fc.integer({ min: -64, max: 64 }), fc.integer({ min: 1, max: 300_000 })),
    shape: fc.constantFrom('string' as const, 'array' as const, 'whitespace' as const),
  }),
  fc.record({
    kind: fc.constant('bytes' as const),
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }),
  }),
  fc.record({
    kind: fc.constant('text' as const),
    text: fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 })),
  }),
);

const bodyArb: fc.Arbitrary<BodyPlan> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('sample' as const), account: accountRefArb }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('mutated' as const),
      account: accountRefArb,
      mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
    }),
    weight: 8,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('paging' as const),
      limit: fc.option(fc.oneof(fc.integer({ min: -2, max: 120 }), valueArb), {
        nil: undefined,
        freq: 2,
      }),
      pageToken: fc.option(pageTokenArb, { nil: undefined, freq: 4 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      account: accountRefArb,
      raw: rawArb,
    }),
    weight: 8,
  },
  { arbitrary: fc.record({ kind: fc.constant('next-page' as const), index: fc.nat() }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'empty' as const }), weight: 1 },
);

/** Which partners hold valid tokens: the one granted everything most often. */
const partnerArb: fc.Arbitrary<RigPartner> = fc.oneof(
  { arbitrary: fc.constant(FUZZ_PARTNER), weight: 4 },
  { arbitrary: fc.constant('globex' as const), weight: 3 },
  { arbitrary: fc.constant('acme' as const), weight: 3 },
  { arbitrary: fc.constant('initech' as const), weight: 1 },
);

/** Header-safe text (HTTP field values are visible ASCII, spaces and tabs). */
const headerTextArb = (maxLength: number) =>
  fc
    .string({
      unit: fc.oneof(
        {
          arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
          weight: 20,
        },
        { arbitrary: fc.constantFrom(' ', '\t'), weight: 1 },
      ),
      minLength: 1,
      maxLength,
    })
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const authArb: fc.Arbitrary<AuthPlan> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('valid' as const),
      partner: partnerArb,
      scheme: fc.oneof(
        { arbitrary: fc.constant('Bearer ' as const), weight: 8 },
        { arbitrary: fc.constantFrom(...ACCEPTED_SCHEMES), weight: 1 },
      ),
    }),
    weight: 14,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('forged' as const),
      partner: partnerArb,
      forgery: fc.constantFrom(...FORGERIES),
      position: fc.nat(),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('malformed' as const),
      partner: partnerArb,
      variant: fc.constantFrom(...MALFORMED_AUTH),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('garbage' as const), text: headerTextArb(300) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('long' as const),
      length: fc.integer({ min: 1_000, max: 7_000 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('blank' as const),
      value: fc.constantFrom('', ' ', 'Bearer', 'Bearer '),
    }),
    weight: 1,
  },
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 1 },
);

/** Content types the contract accepts: `application/json`, with no charset or UTF-8. */
const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'Application/JSON',
  'application/json ; charset="utf-8"',
] as const;
/** Neither clearly accepted nor clearly refused by the contract: no expectation. */
const JSONISH_TYPES = [
  'application/vnd.api+json',
  'application/problem+json',
  'application/merge-patch+json',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json; boundary=x',
  'application/jsonx',
  'json',
  'application/*',
  '*/*',
] as const;
/** Not JSON: a non-empty body with one of these is 415. */
const NOT_JSON_TYPES = [
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/octet-stream',
  'text/html; charset=utf-8',
  '',
] as const;

const contentTypeArb: fc.Arbitrary<readonly string[] | undefined> = fc.oneof(
  { arbitrary: fc.constant(['application/json']), weight: 14 },
  { arbitrary: fc.constantFrom(...JSON_TYPES).map((t) => [t]), weight: 3 },
  { arbitrary: fc.constantFrom(...JSONISH_TYPES).map((t) => [t]), weight: 2 },
  { arbitrary: fc.constantFrom(...NOT_JSON_TYPES).map((t) => [t]), weight: 2 },
  { arbitrary: fc.constant(undefined), weight: 1 },
  {
    arbitrary: fc.tuple(
      fc.constantFrom(...JSON_TYPES, ...NOT_JSON_TYPES),
      fc.constantFrom(...JSON_TYPES, ...NOT_JSON_TYPES),
    ),
    weight: 1,
  },
);

/** Methods fetch can send; `Patch` and `FOO` reach the server as written (not normalized). */
const methodArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constant('POST'), weight: 40 },
  { arbitrary: fc.constantFrom('GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'), weight: 4 },
  { arbitrary: fc.constantFrom('post', 'PROPFIND', 'Patch', 'FOO'), weight: 1 },
);

const requestIdArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 6 },
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{7,40}$/), weight: 2 },
  {
    arbitrary: fc.constantFrom(
      'short',
      'has a space inside',
      'x'.repeat(200),
      '<script>alert(1)</script>',
      '../../etc/passwd',
      '-leading-dash-1234',
      'a,b,c,d,e,f,g,h',
    ),
    weight: 1,
  },
);

const UNKNOWN_PATHS = [
  '/',
  '/v1',
  '/v1/',
  '/v1/device',
  '/v1/device/',
  '/v2/device/find',
  '/V1/device/find',
  '/v1/device/remove',
  '/v1/Device/find',
  '/v1/device/FIND',
  '/v1/device/find/extra',
  '/v1//device/find',
  '/v1/device//find',
  '/v1/device/find.json',
  '/v1/device/find;x',
  '/v1/__proto__/constructor',
  '/v1/constructor/prototype',
  '/v1/toString/valueOf',
  '/v1/hasOwnProperty/__proto__',
  '/v1/store/delete',
  '/v1/metric/get',
  '/v1/metric/set',
  '/tok/device/find',
  '/v1/%2Fdevice/find',
  '/v1/device%2Ffind/x',
  '/.well-known/openid-configuration',
  '/v1/device/find%00',
  '/v1/%E2%80%AEdnif/device',
  '/v1/%EF%BB%BFdevice/find',
] as const;

/** Other spellings of an operation's path, with the operation they spell. */
/** Other spellings of an operation's path, whether API Gateway routes each to it. */
const VARIANT_PATHS = [
  ['/v1/device/find/', 'device/find', true],
  ['/v1/device/fi%6Ed', 'device/find', true],
  ['/v1/%64evice/find', 'device/find', true],
  ['/v1/store/get/', 'store/get', true],
  ['/v1/user/find/', 'user/find', true],
  ['/v1/generic/%63reate', 'generic/create', true],
  ['/v1/device/find//', 'device/find', false],
  ['//v1/device/find', 'device/find', false],
] as const;

const MALFORMED_PERCENT_PATHS = [
  '/v1/device/%E0%A4%A',
  '/v1/%ZZ/find',
  '/v1/device/find%',
  '/v1/%/%',
  '/v1/%C0%AF/find',
  '/v1/device/%ED%A0%80',
] as const;

const segmentArb = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,11}$/);

const targetArb: fc.Arbitrary<TargetPlan> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('route' as const),
      operation: fc.constantFrom(...OPERATIONS),
      query: fc.oneof(
        { arbitrary: fc.constant(''), weight: 12 },
        {
          arbitrary: fc.constantFrom(
            '?limit=1',
            '?pageToken=x',
            '?__proto__[accountId]=x',
            '?a=%ZZ',
            '?controller=user&operation=login',
            `?accountId=${A.id}`,
          ),
          weight: 1,
        },
      ),
    }),
    weight: 14,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('non-route' as const),
      category: fc.constant('unknown' as const),
      path: fc.oneof(
        fc.constantFrom(...UNKNOWN_PATHS),
        fc
          .tuple(segmentArb, segmentArb)
          .filter(([c, o]) => !OPERATIONS.includes(`${c}/${o}`))
          .map(([c, o]) => `/v1/${c}/${o}`),
      ),
      operation: fc.constantFrom(...OPERATIONS),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.constantFrom(...VARIANT_PATHS).map(
      ([path, operation, routes]): TargetPlan => ({
        kind: 'non-route',
        category: 'variant',
        path,
        operation,
        routes,
      }),
    ),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('non-route' as const),
      category: fc.constant('malformed-percent' as const),
      path: fc.constantFrom(...MALFORMED_PERCENT_PATHS),
      operation: fc.constantFrom(...OPERATIONS),
    }),
    weight: 1,
  },
);

/** The arbitrary of one fuzz case. */
export const fuzzCaseArb: fc.Arbitrary<FuzzCase> = fc.record({
  target: targetArb,
  method: methodArb,
  auth: authArb,
  contentType: contentTypeArb,
  requestId: requestIdArb,
  body: bodyArb,
});

/** The first `runs` cases of `seed`; case `i` does not depend on `runs`. */
export const fuzzCases = (seed: number, runs: number): FuzzCase[] =>
  runs <= 0 ? [] : fc.sample(fuzzCaseArb, { seed, numRuns: runs });

// ---------------------------------------------------------------------------------------------
// The context a run needs: tokens, forged tokens, real page tokens
// ---------------------------------------------------------------------------------------------

/** A first page the run fetched: who asked, with which body, and its page tokens. */
export interface RecordedPage {
  readonly partner: RigPartner;
  readonly operation: string;
  readonly body: Readonly<Record<string, unknown>>;
  readonly token: string;
  readonly direction: 'next' | 'prev';
}

export interface FuzzTarget {
  readonly url: string;
  readonly access: AccessConfig;
  readonly issuerKey: IssuerKey;
  /** The Ioto token: it must never appear in a response. */
  readonly canary: string;
  readonly maxBodyBytes: number;
  readonly maxPageLimit: number;
  tokenFor(partner: RigPartner): string;
  /** Restores the simulator's seed data between batches (writes change it). */
  resetUpstream?(): void;
}

interface FuzzContext {
  readonly target: FuzzTarget;
  readonly tokens: Readonly<Record<RigPartner, string>>;
  readonly otherKey: IssuerKey;
  readonly pages: readonly RecordedPage[];
  readonly granted: Readonly<Record<RigPartner, ReadonlySet<string>>>;
  readonly samples: ReadonlyMap<string, Readonly<Record<string, Record<string, unknown>>>>;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A different base64url character at `position` of `segment` (never the last character,
 * whose low bits may be padding that decodes to the same bytes). */
function flipChar(text: string, position: number): string {
  if (text.length < 2) return `${text}A`;
  const at = position % (text.length - 1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const current = alphabet.indexOf(text[at] ?? 'A');
  const replacement = alphabet[(current + 1 + (position % 62)) % 64] ?? 'A';
  return `${text.slice(0, at)}${replacement}${text.slice(at + 1)}`;
}

function claimsOf(ctx: FuzzContext, partner: RigPartner, overrides: Record<string, unknown> = {}) {
  const config = ctx.target.access.partners.find((p) => p.id === partner);
  const identity = config?.identity;
  const clientId =
    identity && 'clientId' in identity ? identity.clientId : `${partner}-local-client`;
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: identity?.issuer ?? 'urn:ioto-bff:local-issuer',
    sub: clientId,
    client_id: clientId,
    scope: ctx.target.access.scope,
    token_use: 'access',
    iat: now,
    nbf: now,
    exp: now + 3600,
    jti: randomUUID(),
    ...overrides,
  };
  for (const [key, value] of Object.entries(claims)) if (value === undefined) delete claims[key];
  return claims;
}

/** A token for `partner` forged the way `forgery` says; every one must be refused (401). */
function forgeToken(ctx: FuzzContext, partner: RigPartner, forgery: Forgery, position: number) {
  const key = ctx.target.issuerKey;
  const valid = ctx.tokens[partner];
  const [header = '', payload = '', signature = ''] = valid.split('.');
  const signed = (claims: Record<string, unknown>) => signJwt(key, claims);
  const unsigned = (alg: string, claims = claimsOf(ctx, partner)) =>
    `${b64({ alg, typ: 'at+jwt', kid: key.kid })}.${b64(claims)}`;
  switch (forgery) {
    case 'tamper-header':
      return `${flipChar(header, position)}.${payload}.${signature}`;
    case 'tamper-payload':
      return `${header}.${flipChar(payload, position)}.${signature}`;
    case 'tamper-signature':
      return `${header}.${payload}.${flipChar(signature, position)}`;
    case 'swap-payload': {
      // A signature of one partner over the claims of the partner granted everything.
      const other = partner === FUZZ_PARTNER ? 'acme' : FUZZ_PARTNER;
      const [, otherPayload = ''] = ctx.tokens[other].split('.');
      return `${header}.${otherPayload}.${signature}`;
    }
    case 'alg-none':
      return `${unsigned('none')}.`;
    case 'alg-none-unsigned':
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claimsOf(ctx, partner))}.${signature}`;
    case 'alg-hs256-public-key': {
      // Algorithm confusion: HMAC keyed with the issuer's public key, which anyone can fetch.
      const input = unsigned('HS256');
      const mac = createHmac('sha256', JSON.stringify(key.publicJwk)).update(input).digest();
      return `${input}.${mac.toString('base64url')}`;
    }
    case 'alg-rs256':
      return `${unsigned('RS256')}.${Buffer.alloc(256, 7).toString('base64url')}`;
    case 'alg-es384':
      return `${unsigned('ES384')}.${signature}`;
    case 'expired':
      return signed(
        claimsOf(ctx, partner, { iat: 1_600_000_000, nbf: 1_600_000_000, exp: 1_600_003_600 }),
      );
    case 'not-yet-valid': {
      const later = Math.floor(Date.now() / 1000) + 3600;
      return signed(claimsOf(ctx, partner, { nbf: later, iat: later, exp: later + 3600 }));
    }
    case 'no-exp':
      return signed(claimsOf(ctx, partner, { exp: undefined }));
    case 'other-issuer':
      return signed(claimsOf(ctx, partner, { iss: 'https://evil.example' }));
    case 'other-scope':
      return signed(claimsOf(ctx, partner, { scope: 'billing/read openid' }));
    case 'id-token':
      return signJwt(
        key,
        claimsOf(ctx, partner, { token_use: 'id', scope: undefined, aud: partner }),
        'JWT',
      );
    case 'unknown-kid':
      return signJwt({ ...key, kid: randomUUID() }, claimsOf(ctx, partner));
    case 'other-key':
      return signJwt({ ...ctx.otherKey, kid: key.kid }, claimsOf(ctx, partner));
    case 'unknown-client':
      return signed(claimsOf(ctx, partner, { client_id: 'mallory-client', sub: 'mallory-client' }));
    case 'truncated':
      return valid.slice(0, Math.max(1, position % valid.length));
    case 'no-signature':
      return `${header}.${payload}.`;
    case 'two-parts':
      return `${header}.${payload}`;
    case 'four-parts':
      return `${valid}.${signature}`;
  }
}

/** `Authorization` header values, and whether API Gateway should accept the caller. */
function authorizationOf(
  ctx: FuzzContext,
  auth: AuthPlan,
): { values: string[]; partner: RigPartner | undefined } {
  switch (auth.kind) {
    case 'none':
      return { values: [], partner: undefined };
    case 'blank':
      return { values: [auth.value], partner: undefined };
    case 'valid':
      return { values: [`${auth.scheme}${ctx.tokens[auth.partner]}`], partner: auth.partner };
    case 'forged':
      return {
        values: [`Bearer ${forgeToken(ctx, auth.partner, auth.forgery, auth.position)}`],
        partner: undefined,
      };
    case 'malformed': {
      const token = ctx.tokens[auth.partner];
      const value: Record<MalformedAuth, string[]> = {
        'no-scheme': [token],
        basic: [`Basic ${Buffer.from(`${auth.partner}:${token}`).toString('base64')}`],
        'trailing-word': [`Bearer ${token} extra`],
        'token-twice': [`Bearer ${token}`, `Bearer ${token}`],
        'bearer-only': ['Bearer'],
        'comma-list': [`Bearer ${token}, Basic x`],
        quoted: [`Bearer "${token}"`],
      };
      return { values: value[auth.variant], partner: undefined };
    }
    case 'garbage':
      return { values: [auth.text], partner: undefined };
    case 'long':
      return {
        values: [
          `Bearer ${'eyJhbGciOiJFUzI1NiJ9'.repeat(Math.ceil(auth.length / 20)).slice(0, auth.length)}.e30.x`,
        ],
        partner: undefined,
      };
  }
}

// ---------------------------------------------------------------------------------------------
// Materializing a plan into one HTTP request, with what the contract lets us expect of it
// ---------------------------------------------------------------------------------------------

/** What the contract says the answer to one request must be, beyond the invariants. */
export interface Expectation {
  readonly statuses?: readonly number[];
  readonly codes?: readonly string[];
  /** Codes that must not come back (a valid request refused as malformed, say). */
  readonly notCodes?: readonly string[];
  readonly why: string;
}

export interface ConcreteRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array | undefined;
  /** The partner API Gateway should let through, if any. */
  readonly partner: RigPartner | undefined;
  /** Whether that partner is granted {@link operation}. */
  readonly granted: boolean;
  /** The catalog operation the path names (or may name, spelled otherwise), if any. */
  readonly operation: string | undefined;
  readonly expectation: Expectation | undefined;
  /** The body sent, as latin1 text: ids it names may come back in a 2xx (an echo, not a leak). */
  readonly bodyText: string;
}

const enc = new TextEncoder();

/** JSON text placed as is: nests too deep for a recursive `JSON.stringify`. */
class RawJson {
  constructor(readonly text: string) {}
}

/** A nest of `depth` arrays or objects around `inner` (JSON text), as text. */
const nest = (depth: number, shape: 'array' | 'object', inner: string): RawJson =>
  shape === 'array'
    ? new RawJson(`${'['.repeat(depth)}${inner}${']'.repeat(depth)}`)
    : new RawJson(`${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`);

/** JSON text of a built value (own keys only, `__proto__` included; {@link RawJson} as is). */
function json(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(json).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value).map(
      (key) => `${JSON.stringify(key)}:${json((value as Record<string, unknown>)[key])}`,
    );
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function build(value: PlanValue): unknown {
  if (value === null || typeof value !== 'object') return value;
  if ('list' in value) return value.list.map(build);
  if ('entries' in value) {
    const object: Record<string, unknown> = {};
    for (const [key, item] of value.entries) defineKey(object, key, build(item));
    return object;
  }
  switch (value.big) {
    case 'string':
      return value.char.repeat(value.length);
    case 'deep':
      return nest(value.depth, value.shape, '1');
    case 'keys':
      return Object.fromEntries(Array.from({ length: value.count }, (_, i) => [`k${i}`, i]));
    case 'array':
      return Array.from({ length: value.length }, (_, i) => (i % 2 === 0 ? B.deviceIds[0] : i));
  }
}

/** Sets an own key, `__proto__` included (an assignment would set the prototype instead). */
function defineKey(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The first object nested in `body` (an element of an array field counts), else `body`. */
function nestedObjectOf(body: Record<string, unknown>): Record<string, unknown> {
  for (const value of Object.values(body)) {
    if (isPlainObject(value)) return value;
    if (Array.isArray(value) && isPlainObject(value[0])) return value[0];
  }
  return body;
}

function applyMutation(body: Record<string, unknown>, mutation: Mutation): void {
  const keys = Object.keys(body);
  switch (mutation.kind) {
    case 'set': {
      const target = mutation.nested ? nestedObjectOf(body) : body;
      const targetKeys = Object.keys(target);
      const key =
        'existing' in mutation.key
          ? (targetKeys[mutation.key.existing % Math.max(1, targetKeys.length)] ?? 'id')
          : mutation.key.name;
      defineKey(target, key, build(mutation.value));
      return;
    }
    case 'delete': {
      const key = keys[mutation.index % Math.max(1, keys.length)];
      if (key !== undefined) delete body[key];
      return;
    }
    case 'wrap': {
      const key = keys[mutation.index % Math.max(1, keys.length)] ?? 'id';
      defineKey(body, key, nest(mutation.depth, mutation.shape, json(body[key] ?? null)));
      return;
    }
  }
}

function pageTokenOf(ctx: FuzzContext, plan: PageTokenPlan): unknown {
  const page = (index: number) => ctx.pages[index % ctx.pages.length];
  switch (plan.kind) {
    case 'real':
      return page(plan.index)?.token;
    case 'tampered':
      return flipChar(page(plan.index)?.token ?? 'AAAA', plan.position);
    case 'truncated': {
      const token = page(plan.index)?.token ?? '';
      return token.slice(0, Math.floor(token.length * plan.keep));
    }
    case 'extended':
      return `${page(plan.index)?.token ?? ''}${plan.suffix}`;
    case 'garbage':
      return plan.text;
    case 'long':
      return 'A'.repeat(plan.length);
    case 'value':
      return build(plan.value);
  }
}

/** What kind of body a plan produced, for the expectation. */
type BodyClass =
  | 'valid'
  | 'malformed'
  | 'duplicate'
  | 'unpaired-surrogate'
  | 'not-object'
  | 'too-deep'
  | 'prototype'
  | 'bad-page-token'
  | 'foreign-page-token'
  | 'bad-limit'
  | 'next-page'
  | 'other';

interface MaterializedBody {
  readonly bytes: Uint8Array;
  readonly cls: BodyClass;
  /** For `next-page`: who the token was minted for. */
  readonly tokenPartner?: RigPartner;
  readonly tokenOperation?: string;
}

/** A member name no sample body holds, so an inserted member never repeats a key. */
const FRESH_KEY = 'fuzzMember';

/** Inserts `fragment` as the first member of the top-level object text `text`. */
const withFirstMember = (text: string, fragment: string) =>
  text === '{}' ? `{${fragment}}` : `{${fragment},${text.slice(1)}`;

function rawBody(
  sample: Record<string, unknown>,
  raw: RawPlan,
  maxBodyBytes: number,
): MaterializedBody {
  const text = json(sample);
  const bytes = (s: string) => enc.encode(s);
  const keys = Object.keys(sample);
  switch (raw.kind) {
    case 'truncate': {
      const at = 1 + Math.floor(raw.at * (text.length - 2));
      return { bytes: bytes(text.slice(0, Math.min(at, text.length - 1))), cls: 'malformed' };
    }
    case 'syntax': {
      const broken: Record<(typeof SYNTAX_ERRORS)[number], string> = {
        'trailing-comma': text === '{}' ? '{,}' : `${text.slice(0, -1)},}`,
        'single-quotes': text.replaceAll('"', "'") === text ? "{'a':1}" : text.replaceAll('"', "'"),
        comment: withFirstMember(text, '/* c */"c":1'),
        nan: withFirstMember(text, '"n":NaN'),
        infinity: withFirstMember(text, '"n":-Infinity'),
        'unquoted-key': withFirstMember(text, 'limit:1'),
        'trailing-garbage': `${text}x`,
        'two-documents': `${text}${text}`,
        'hex-number': withFirstMember(text, '"n":0x10'),
        'leading-plus': withFirstMember(text, '"n":+1'),
        'leading-zero': withFirstMember(text, '"n":012'),
        'raw-newline-in-string': withFirstMember(text, '"n":"a\nb"'),
        'bad-escape': withFirstMember(text, '"n":"\\x41"'),
        'short-unicode-escape': withFirstMember(text, '"n":"\\u12"'),
        'missing-colon': withFirstMember(text, '"n" 1'),
        'missing-value': withFirstMember(text, '"n":'),
        'unclosed-string': withFirstMember(text, '"n":"abc'),
      };
      return { bytes: bytes(broken[raw.variant]), cls: 'malformed' };
    }
    case 'not-object':
      return { bytes: bytes(raw.text), cls: 'not-object' };
    case 'prototype': {
      const payload = {
        account: `{"accountId":"${A.id}"}`,
        admin: '{"isAdmin":true,"role":"owner"}',
        'nested-prototype': `{"prototype":{"accountId":"${A.id}","polluted":true}}`,
      }[raw.payload];
      return { bytes: bytes(withFirstMember(text, `"${raw.key}":${payload}`)), cls: 'prototype' };
    }
    case 'duplicate': {
      const key = keys[raw.index % Math.max(1, keys.length)] ?? 'accountId';
      const value = json(sample[key] ?? 'x');
      const escaped = `\\u${(key.codePointAt(0) ?? 0x61).toString(16).padStart(4, '0')}${key.slice(1)}`;
      const fragment = {
        same: `"${key}":${value}`,
        foreign: `"${key}":"${A.id}"`,
        escaped: `"${escaped}":${value}`,
        nested: `"wrapper":{"${key}":1,"${key}":2}`,
      }[raw.variant];
      // `nested` duplicates inside a new member; the others repeat a key of the sample.
      const cls = raw.variant === 'nested' || keys.length > 0 ? 'duplicate' : 'other';
      return { bytes: bytes(withFirstMember(text, fragment)), cls };
    }
    case 'bom': {
      const bom = [0xef, 0xbb, 0xbf];
      const prefix = raw.count === 1 ? bom : [...bom, ...bom];
      // One BOM may be ignored (RFC 8259 §8.1); two are never JSON.
      return {
        bytes: new Uint8Array([...prefix, ...bytes(text)]),
        cls: raw.count === 1 ? 'other' : 'malformed',
      };
    }
    case 'utf16': {
      const body = Buffer.from(text, 'utf16le');
      if (!raw.littleEndian) body.swap16();
      const bom = raw.bom ? (raw.littleEndian ? [0xff, 0xfe] : [0xfe, 0xff]) : [];
      return { bytes: new Uint8Array([...bom, ...body]), cls: 'malformed' };
    }
    case 'invalid-utf8': {
      const marker = '"__BYTES__"';
      const withMarker = withFirstMember(text, `"${FRESH_KEY}":${marker}`);
      const [before = '', after = ''] = withMarker.split(marker);
      return {
        bytes: new Uint8Array([
          ...bytes(`${before}"`),
          ...INVALID_UTF8_BYTES[raw.bytes],
          ...bytes(`"${after}`),
        ]),
        cls: 'malformed',
      };
    }
    case 'raw-control': {
      const fragment = `"${FRESH_KEY}":"a${String.fromCharCode(raw.char)}b"`;
      return { bytes: bytes(withFirstMember(text, fragment)), cls: 'malformed' };
    }
    case 'lone-surrogate': {
      const fragment = raw.inKey ? `"${raw.escape}":1` : `"${FRESH_KEY}":"${raw.escape}"`;
      return { bytes: bytes(withFirstMember(text, fragment)), cls: 'unpaired-surrogate' };
    }
    case 'deep': {
      const open = (i: number) =>
        raw.shape === 'array' || (raw.shape === 'mixed' && i % 2 === 0) ? '[' : '{"a":';
      const close = (i: number) =>
        raw.shape === 'array' || (raw.shape === 'mixed' && i % 2 === 0) ? ']' : '}';
      let head = '';
      let tail = '';
      for (let i = 0; i < raw.depth; i += 1) {
        head += open(i);
        tail = close(i) + tail;
      }
      // The nest as the value of a member, so the body itself is an object.
      return {
        bytes: bytes(withFirstMember(text, `"${FRESH_KEY}":${head}1${tail}`)),
        cls: raw.depth > 33 ? 'too-deep' : 'other',
      };
    }
    case 'unbalanced':
      return { bytes: bytes(`{"${FRESH_KEY}":${'['.repeat(raw.depth)}`), cls: 'malformed' };
    case 'huge': {
      const target = Math.max(16, maxBodyBytes + raw.overBy);
      const shell = withFirstMember(text, `"${FRESH_KEY}":""`);
      const room = Math.max(0, target - shell.length);
      const body =
        raw.shape === 'string'
          ? withFirstMember(text, `"${FRESH_KEY}":"${'a'.repeat(room)}"`)
          : raw.shape === 'array'
            ? withFirstMember(
                text,
                `"${FRESH_KEY}":[${'1,'.repeat(Math.max(0, Math.floor((room - 1) / 2)))}1]`,
              )
            : `${' '.repeat(room)}${shell}`;
      return { bytes: bytes(body), cls: 'other' };
    }
    case 'bytes':
      return { bytes: new Uint8Array(raw.bytes), cls: 'other' };
    case 'text':
      return { bytes: bytes(raw.text), cls: 'other' };
  }
}

function materializeBody(
  ctx: FuzzContext,
  plan: BodyPlan,
  operation: string,
  partner: RigPartner,
): MaterializedBody {
  const sampleOf = (ref: AccountRef): Record<string, unknown> => {
    const account: SeedAccount = ref === 'own' ? ACCOUNT_OF[partner] : (ACCOUNTS[ref] ?? A);
    return structuredClone(ctx.samples.get(account.id)?.[operation] ?? {});
  };
  const encode = (value: unknown) => enc.encode(json(value));
  switch (plan.kind) {
    case 'empty':
      return { bytes: new Uint8Array(), cls: 'other' };
    case 'sample':
      return {
        bytes: encode(sampleOf(plan.account)),
        cls: plan.account === 'own' ? 'valid' : 'other',
      };
    case 'mutated': {
      const body = sampleOf(plan.account);
      for (const mutation of plan.mutations) applyMutation(body, mutation);
      return { bytes: encode(body), cls: 'other' };
    }
    case 'paging': {
      const body = sampleOf('own');
      const limit = plan.limit === undefined ? undefined : build(plan.limit);
      const token = plan.pageToken === undefined ? undefined : pageTokenOf(ctx, plan.pageToken);
      if (limit !== undefined) body.limit = limit;
      if (plan.pageToken !== undefined) body.pageToken = token;
      if (!PAGED.has(operation)) {
        // Paging fields on an operation without pages: unknown fields, or free attributes.
        const untouched = limit === undefined && plan.pageToken === undefined;
        return { bytes: encode(body), cls: untouched ? 'valid' : 'other' };
      }
      const limitOk =
        limit === undefined ||
        (typeof limit === 'number' &&
          Number.isInteger(limit) &&
          limit >= 1 &&
          limit <= ctx.target.maxPageLimit);
      const recorded = (index: number) => ctx.pages[index % ctx.pages.length];
      let cls: BodyClass = 'other';
      if (!limitOk) cls = 'bad-limit';
      else if (plan.pageToken === undefined) cls = 'valid';
      else if (plan.pageToken.kind === 'real') {
        // A real token of another operation or partner; of the same one, its filters differ
        // from the sample's (unless they are the same body: no expectation then).
        const page = recorded(plan.pageToken.index);
        if (page && (page.operation !== operation || page.partner !== partner)) {
          cls = 'foreign-page-token';
        }
      } else cls = 'bad-page-token';
      return { bytes: encode(body), cls };
    }
    case 'raw':
      return rawBody(sampleOf(plan.account), plan.raw, ctx.target.maxBodyBytes);
    case 'next-page': {
      const page = ctx.pages[plan.index % ctx.pages.length];
      if (page === undefined) return { bytes: encode(sampleOf('own')), cls: 'other' };
      return {
        bytes: encode({ ...page.body, pageToken: page.token }),
        cls: 'next-page',
        tokenPartner: page.partner,
        tokenOperation: page.operation,
      };
    }
  }
}

function contentTypeClass(types: readonly string[] | undefined): 'json' | 'not-json' | 'unclear' {
  if (types === undefined) return 'not-json';
  if (types.length !== 1) return 'unclear';
  const [type = ''] = types;
  if ((JSON_TYPES as readonly string[]).includes(type)) return 'json';
  if ((NOT_JSON_TYPES as readonly string[]).includes(type)) return 'not-json';
  return 'unclear';
}

/** Whether a body has anything but whitespace (an empty body counts as `{}`). */
/** Methods Node's HTTP parser reads; a request with any other is refused before routing. */
const NODE_METHODS: ReadonlySet<string> = new Set(METHODS);

/** Methods fetch normalizes to upper case (the Fetch standard's list). */
const FETCH_NORMALIZED = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

const hasContent = (bytes: Uint8Array) => bytes.some((b) => ![0x20, 0x09, 0x0a, 0x0d].includes(b));

/** The concrete request of a plan, and what the contract says its answer must be. */
export function materialize(ctx: FuzzContext, plan: FuzzCase): ConcreteRequest {
  const { target } = plan;
  const path = target.kind === 'route' ? `/v1/${target.operation}${target.query}` : target.path;
  const { operation } = target;
  const auth = authorizationOf(ctx, plan.auth);
  const bodyPartner = auth.partner ?? ('partner' in plan.auth ? plan.auth.partner : FUZZ_PARTNER);
  const body = materializeBody(ctx, plan.body, operation, bodyPartner);
  const headers: [string, string][] = [];
  for (const value of auth.values) headers.push(['authorization', value]);
  for (const type of plan.contentType ?? []) headers.push(['content-type', type]);
  if (plan.requestId !== undefined) headers.push(['x-request-id', plan.requestId]);
  // fetch upper-cases the standard methods; other spellings reach the server as written.
  const method = FETCH_NORMALIZED.has(plan.method.toUpperCase())
    ? plan.method.toUpperCase()
    : plan.method;
  // fetch sends no body with GET or HEAD; every other method carries it.
  const bodyless = method === 'GET' || method === 'HEAD';
  const sent = bodyless ? undefined : body.bytes;

  // A method outside Node's HTTP parser's list (`Patch`, `FOO`) cannot be read as a request
  // at all: API Gateway's fallback refusal (400 bad_request, no `status`) is then the answer.
  const unparsed = !NODE_METHODS.has(method);
  const expectation = ((): Expectation | undefined => {
    if (target.kind === 'non-route' && target.routes !== true) {
      return unparsed
        ? {
            statuses: [404, 400],
            codes: ['not_found', 'bad_request'],
            why: 'no such operation (and not a method Node parses)',
          }
        : { statuses: [404], codes: ['not_found'], why: 'no such operation' };
    }
    if (method !== 'POST') {
      return !unparsed
        ? { statuses: [405], codes: ['method_not_allowed'], why: 'not a POST' }
        : {
            statuses: [405, 400],
            codes: ['method_not_allowed', 'bad_request'],
            why: 'not a POST (and not a method Node parses)',
          };
    }
    if (auth.partner === undefined) {
      return {
        statuses: [401],
        codes: ['unauthorized'],
        why: `access token: ${describeAuth(plan.auth)}`,
      };
    }
    if (!ctx.granted[auth.partner].has(target.operation)) {
      return {
        statuses: [403],
        codes: ['operation_not_allowed'],
        why: `${auth.partner} is not granted ${target.operation}`,
      };
    }
    const bytes = sent ?? new Uint8Array();
    if (bytes.length > ctx.target.maxBodyBytes) {
      return { statuses: [413], codes: ['payload_too_large'], why: 'body over MAX_BODY_BYTES' };
    }
    if (!hasContent(bytes)) return undefined;
    const media = contentTypeClass(plan.contentType);
    if (media === 'not-json') {
      return {
        statuses: [415],
        codes: ['unsupported_media_type'],
        why: 'body is not application/json',
      };
    }
    if (media !== 'json') return undefined;
    const paged = PAGED.has(target.operation);
    switch (body.cls) {
      case 'valid':
        return {
          notCodes: [
            'malformed_json',
            'validation_failed',
            'invalid_page_token',
            'unsupported_media_type',
            'payload_too_large',
            'account_not_allowed',
            'action_not_allowed',
            'operation_not_allowed',
          ],
          why: "the operation's valid sample, on the partner's own account",
        };
      case 'malformed':
        return { statuses: [400], codes: ['malformed_json'], why: 'not JSON, or not UTF-8' };
      case 'duplicate':
        return { statuses: [400], codes: ['malformed_json'], why: 'a repeated object key' };
      case 'unpaired-surrogate':
        return {
          statuses: [400],
          codes: ['malformed_json', 'validation_failed'],
          why: 'an unpaired surrogate',
        };
      case 'not-object':
        return { statuses: [400], codes: ['validation_failed'], why: 'the body is not an object' };
      case 'too-deep':
        return {
          statuses: [400],
          codes: ['validation_failed'],
          why: 'nested deeper than 32 levels',
        };
      case 'prototype':
        return { statuses: [400, 403], why: 'a prototype key at the top of the body' };
      case 'bad-page-token':
        return paged
          ? {
              statuses: [400],
              codes: ['invalid_page_token', 'validation_failed'],
              why: 'an altered page token',
            }
          : undefined;
      case 'foreign-page-token':
        return paged
          ? {
              statuses: [400],
              codes: ['invalid_page_token'],
              why: 'a page token of another operation or partner',
            }
          : undefined;
      case 'bad-limit':
        return paged
          ? { statuses: [400], codes: ['validation_failed'], why: 'limit out of 1..PAGE_LIMIT_MAX' }
          : undefined;
      case 'next-page':
        if (body.tokenOperation === target.operation) {
          return body.tokenPartner === auth.partner
            ? {
                statuses: [200, 400],
                codes: ['upstream_rejected'],
                why: 'the next or previous page of a recorded page, as its partner',
              }
            : {
                statuses: [400],
                codes: ['invalid_page_token'],
                why: "another partner's page token",
              };
        }
        // Another operation's first-page body and token: refused, whichever check answers.
        return paged
          ? { statuses: [400, 403], why: 'the body and page token of another operation' }
          : undefined;
      default:
        return undefined;
    }
  })();

  return {
    method,
    path,
    headers,
    body: sent,
    partner: auth.partner,
    granted: auth.partner !== undefined && ctx.granted[auth.partner].has(operation),
    operation:
      target.kind === 'route' || target.category === 'variant' ? target.operation : undefined,
    expectation,
    bodyText: Buffer.from(sent ?? new Uint8Array()).toString('latin1'),
  };
}

/** One line naming an `Authorization` plan, for expectations and reports. */
export function describeAuth(auth: AuthPlan): string {
  switch (auth.kind) {
    case 'none':
      return 'none';
    case 'blank':
      return `blank ${JSON.stringify(auth.value)}`;
    case 'valid':
      return `valid ${auth.partner} (${JSON.stringify(auth.scheme)})`;
    case 'forged':
      return `forged ${auth.forgery} of ${auth.partner} (position ${auth.position})`;
    case 'malformed':
      return `malformed ${auth.variant} around a valid ${auth.partner} token`;
    case 'garbage':
      return `garbage ${JSON.stringify(auth.text.slice(0, 40))}`;
    case 'long':
      return `long (${auth.length} characters)`;
  }
}

// ---------------------------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------------------------

export interface ObservedResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** The ids of the seeded accounts and devices that are not the caller's. */
function foreignIds(partner: RigPartner | undefined): string[] {
  const own = partner === undefined ? undefined : ACCOUNT_OF[partner];
  return ACCOUNTS.filter((account) => account.id !== own?.id).flatMap((account) => [
    account.id,
    ...account.deviceIds,
  ]);
}

/** Every way `response` breaks the contract for `request`: empty when it keeps it. */
export function checkResponse(
  target: Pick<FuzzTarget, 'canary'>,
  request: ConcreteRequest,
  response: ObservedResponse,
): string[] {
  const problems: string[] = [];
  const { status, headers, text } = response;
  const method = request.method.toUpperCase();
  const contentType = headers.get('content-type') ?? '';
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase();

  const hasBody = method !== 'HEAD';
  let body: unknown;
  let parsed = false;
  if (hasBody) {
    try {
      body = JSON.parse(text);
      parsed = true;
    } catch {
      // Reported below.
    }
  }
  const code = isPlainObject(body) ? body.code : undefined;
  if (status >= 500 && !isModelledUpstreamFailure(request, code)) {
    problems.push(`5xx: ${status} ${String(code ?? '')}`);
  }
  const requestId = headers.get('x-request-id');
  if (!requestId) problems.push('no x-request-id header');
  const sentId = request.headers.find(([name]) => name === 'x-request-id')?.[1]?.trim();
  // Without a body (HEAD) the code, and so who answered, is unknown: no check then.
  const madeByTheProxy =
    status < 300 || (typeof code === 'string' && !GATEWAY_MADE_CODES.has(code));
  // The request id is the gateway's, never the client's; the proxy echoes a well-formed client
  // id apart, in x-client-request-id.
  if (sentId !== undefined && requestId === sentId) {
    problems.push(`x-request-id is the client's own ${JSON.stringify(sentId)}`);
  }
  const echoed = headers.get('x-client-request-id');
  const wellFormed = sentId !== undefined && WELL_FORMED_REQUEST_ID.test(sentId);
  if (madeByTheProxy && wellFormed && echoed !== sentId) {
    problems.push(`x-client-request-id ${JSON.stringify(echoed)} does not echo the client's id`);
  }
  if (echoed !== null && !wellFormed) {
    problems.push(
      `x-client-request-id ${JSON.stringify(echoed)} echoes an id that is not well formed`,
    );
  }
  if (headers.get('cache-control') !== 'no-store') {
    problems.push(`cache-control is ${JSON.stringify(headers.get('cache-control'))}, not no-store`);
  }
  if (headers.get('x-content-type-options') !== 'nosniff') {
    problems.push(
      `x-content-type-options is ${JSON.stringify(headers.get('x-content-type-options'))}, not nosniff`,
    );
  }
  const everything = `${text}\n${[...headers].map(([n, v]) => `${n}: ${v}`).join('\n')}`;
  if (everything.includes(target.canary)) problems.push('the Ioto token (canary) in the response');
  if (STACK_TRACE.test(text)) problems.push('a stack trace in the body');

  if (hasBody && !parsed) problems.push(`body is not JSON: ${JSON.stringify(text.slice(0, 80))}`);

  if (status >= 200 && status < 300) {
    if (mediaType !== 'application/json')
      problems.push(`2xx content-type ${JSON.stringify(contentType)}`);
    if (hasBody && !(isPlainObject(body) && 'data' in body)) problems.push('2xx body without data');
    if (hasBody && request.operation && PAGED.has(request.operation) && isPlainObject(body)) {
      for (const key of ['nextPageToken', 'prevPageToken']) {
        const value = body[key];
        if (!(value === null || typeof value === 'string'))
          problems.push(`2xx ${key} is ${json(value)}`);
      }
    }
    // No way around the gateway: a 2xx only for a POST with a valid token to a granted route.
    if (request.partner === undefined) problems.push('2xx without a valid access token');
    if (request.operation === undefined) problems.push('2xx for a path that is not a route');
    else if (request.partner !== undefined && !request.granted) {
      problems.push(`2xx for ${request.operation}, not granted to ${request.partner}`);
    }
    if (request.method !== 'POST') problems.push(`2xx for method ${request.method}`);
    // No other tenant's ids in an answer, unless the caller sent them.
    if (request.operation) {
      const leaked = foreignIds(request.partner).filter(
        (id) => text.includes(id) && !request.bodyText.includes(id),
      );
      if (leaked.length > 0)
        problems.push(`2xx holds another tenant's ids: ${leaked.slice(0, 3).join(', ')}`);
    }
  } else {
    if (mediaType !== 'application/problem+json') {
      problems.push(`error content-type ${JSON.stringify(contentType)}`);
    }
    if (hasBody && isPlainObject(body)) {
      const { type, title } = body;
      if (typeof code !== 'string' || !SNAKE_CASE.test(code)) {
        problems.push(`problem code ${json(code)} is not snake_case`);
      } else {
        const documented = CONTRACT_CODES[code];
        if (documented === undefined) problems.push(`problem code ${code} is not in the contract`);
        else if (documented !== 0 && documented !== status) {
          problems.push(`problem code ${code} with HTTP ${status} (contract: ${documented})`);
        }
        if (type !== `${PROBLEM_TYPE_PREFIX}${code}`) problems.push(`problem type ${json(type)}`);
      }
      if (typeof title !== 'string' || title === '') problems.push('problem without title');
      if (
        body.status !== status &&
        !(body.status === undefined && STATUS_ABSENT_BY_DESIGN.has(String(code)))
      ) {
        problems.push(`problem status ${json(body.status)} is not HTTP ${status}`);
      }
      if (typeof body.requestId !== 'string' || body.requestId === '') {
        problems.push('problem without requestId');
      } else if (requestId && body.requestId !== requestId) {
        problems.push('problem requestId is not the x-request-id header');
      }
    } else if (hasBody) {
      problems.push('problem body is not a JSON object');
    }
    if (status === 401 && headers.get('www-authenticate') !== 'Bearer') {
      problems.push('401 without WWW-Authenticate: Bearer');
    }
    if (status === 405 && headers.get('allow') !== 'POST') problems.push('405 without Allow: POST');
  }

  const expected = request.expectation;
  if (expected) {
    const statusOk = expected.statuses === undefined || expected.statuses.includes(status);
    const codeOk =
      expected.codes === undefined ||
      status < 300 ||
      (typeof code === 'string' && expected.codes.includes(code)) ||
      (!hasBody && statusOk);
    const notCodeOk = expected.notCodes === undefined || !expected.notCodes.includes(String(code));
    if (!statusOk || !codeOk || !notCodeOk) {
      const wanted = [
        expected.statuses && `status ${expected.statuses.join('|')}`,
        expected.codes && `code ${expected.codes.join('|')}`,
        expected.notCodes && `not ${expected.notCodes.join('|')}`,
      ]
        .filter(Boolean)
        .join(', ');
      problems.push(`expected ${wanted} (${expected.why}); got ${status} ${String(code ?? '')}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Running the property
// ---------------------------------------------------------------------------------------------

export interface Finding {
  /** The index of the case in the seeded sequence (`--seed S --case N` runs it alone). */
  readonly index: number;
  readonly problems: readonly string[];
  readonly request: {
    readonly method: string;
    readonly path: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly bodyBytes: number;
    readonly bodyPreview: string;
  };
  readonly response?: {
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly bodyPreview: string;
  };
  readonly plan: string;
}

export interface FuzzReport {
  readonly seed: number;
  readonly runs: number;
  readonly elapsedMs: number;
  readonly statusCounts: Readonly<Record<string, number>>;
  readonly codeCounts: Readonly<Record<string, number>>;
  readonly findings: readonly Finding[];
  /** The answer to a valid device/find after the run. */
  readonly health: { readonly ok: boolean; readonly detail: string };
  /** Real page tokens the run fetched first and fed back. */
  readonly pageTokens: number;
}

export interface FuzzOptions {
  readonly runs: number;
  readonly seed: number;
  /** Requests in flight at once (default 8). */
  readonly concurrency?: number;
  /** Cases between two restores of the simulator's seed data (default 250). */
  readonly batchSize?: number;
  /** Run only these case indexes of the sequence (reproductions). */
  readonly only?: readonly number[];
  /** Called after each batch with the cases done so far. */
  readonly onProgress?: (done: number, findings: number) => void;
}

const preview = (bytes: Uint8Array | string, max = 300): string => {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  const shown = JSON.stringify(text.slice(0, max));
  return text.length > max ? `${shown}... (${text.length} characters)` : shown;
};

/** The headers of a finding, with tokens shortened (they are long and expire anyway). */
const shownHeaders = (headers: readonly (readonly [string, string])[]) =>
  Object.fromEntries(
    headers.map(([name, value]) => [
      name,
      name === 'authorization' && value.length > 60
        ? `${value.slice(0, 40)}...(${value.length})`
        : value,
    ]),
  );

/** First pages (and one second page) the rig's partners may fetch: their tokens are fed back. */
const PAGE_SOURCES: readonly {
  partner: RigPartner;
  operation: string;
  body: Record<string, unknown>;
}[] = [
  { partner: 'acme', operation: 'device/find', body: { limit: 2 } },
  {
    partner: 'acme',
    operation: 'generic/find',
    body: { _type: 'Store', deviceId: A.deviceIds[0], limit: 1 },
  },
  { partner: 'globex', operation: 'device/find', body: { limit: 2 } },
  {
    partner: 'globex',
    operation: 'generic/find',
    body: { _type: 'Store', deviceId: B.deviceIds[0], limit: 1 },
  },
  { partner: 'globex', operation: 'alert/find', body: { limit: 1 } },
  { partner: FUZZ_PARTNER, operation: 'device/find', body: { limit: 1 } },
  { partner: FUZZ_PARTNER, operation: 'user/find', body: { limit: 1 } },
  { partner: FUZZ_PARTNER, operation: 'action/find', body: { cloudId: SEED.cloudId, limit: 1 } },
  { partner: FUZZ_PARTNER, operation: 'alert/find', body: { limit: 1 } },
];

async function post(url: string, token: string, body: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function recordPages(target: FuzzTarget, tokens: Record<RigPartner, string>) {
  const pages: RecordedPage[] = [];
  for (const source of PAGE_SOURCES) {
    const url = `${target.url}/v1/${source.operation}`;
    const first = await post(url, tokens[source.partner], source.body);
    const next = first.body.nextPageToken;
    if (first.status !== 200 || typeof next !== 'string') continue;
    pages.push({ ...source, token: next, direction: 'next' });
    // The second page has a previous page: a `prev` token.
    const second = await post(url, tokens[source.partner], { ...source.body, pageToken: next });
    const prev = second.body.prevPageToken;
    if (second.status === 200 && typeof prev === 'string') {
      pages.push({ ...source, token: prev, direction: 'prev' });
    }
  }
  if (pages.length < 4) throw new Error(`Only ${pages.length} page tokens could be recorded`);
  return pages;
}

async function prepare(target: FuzzTarget): Promise<FuzzContext> {
  const tokens = Object.fromEntries(RIG_PARTNERS.map((p) => [p, target.tokenFor(p)])) as Record<
    RigPartner,
    string
  >;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const otherKey: IssuerKey = {
    kid: target.issuerKey.kid,
    privateKey,
    publicJwk: {
      ...publicKey.export({ format: 'jwk' }),
      kid: target.issuerKey.kid,
      alg: 'ES256',
      use: 'sig',
    },
  };
  const grantsOf = (id: RigPartner): ReadonlySet<string> => {
    const partner = target.access.partners.find((p) => p.id === id);
    return partner ? grantedOperations(partner) : new Set<string>();
  };
  const granted: Record<RigPartner, ReadonlySet<string>> = {
    acme: grantsOf('acme'),
    globex: grantsOf('globex'),
    initech: grantsOf('initech'),
    [FUZZ_PARTNER]: grantsOf(FUZZ_PARTNER),
  };
  const samples = new Map(ACCOUNTS.map((account) => [account.id, sampleRequests(account)]));
  return { target, tokens, otherKey, pages: await recordPages(target, tokens), granted, samples };
}

async function send(url: string, request: ConcreteRequest): Promise<ObservedResponse> {
  const headers = new Headers();
  for (const [name, value] of request.headers) headers.append(name, value);
  const response = await fetch(`${url}${request.path}`, {
    method: request.method,
    headers,
    ...(request.body !== undefined && { body: request.body }),
    redirect: 'manual',
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Own property names of the built-in prototypes, to notice pollution in this process. */
const prototypeSnapshot = () =>
  [Object.prototype, Array.prototype, Function.prototype]
    .map((proto) => Object.getOwnPropertyNames(proto).sort().join(','))
    .join('|');

/** The answer to a valid device/find: the gateway is still up and serving. */
async function healthCheck(target: FuzzTarget): Promise<FuzzReport['health']> {
  try {
    const result = await post(`${target.url}/v1/device/find`, target.tokenFor('acme'), {
      limit: 1,
    });
    const ok = result.status === 200 && Array.isArray(result.body.data);
    return { ok, detail: `device/find as acme: ${result.status}` };
  } catch (error) {
    return { ok: false, detail: `device/find as acme failed: ${(error as Error).message}` };
  }
}

/**
 * Runs `runs` seeded cases against a started gateway and returns what it found. Cases run in
 * batches of `batchSize`, `concurrency` at a time; the simulator's seed data is restored
 * between batches, since the partners' writes change it.
 */
export async function runGatewayFuzz(
  target: FuzzTarget,
  options: FuzzOptions,
): Promise<FuzzReport> {
  const started = performance.now();
  const concurrency = options.concurrency ?? 8;
  const batchSize = options.batchSize ?? 250;
  const count = options.only ? Math.max(...options.only) + 1 : options.runs;
  const all = fuzzCases(options.seed, count);
  const indexes = options.only ?? all.map((_, i) => i);
  const ctx = await prepare(target);
  const statusCounts: Record<string, number> = {};
  const codeCounts: Record<string, number> = {};
  const findings: Finding[] = [];
  const processFailures: string[] = [];
  const onRejection = (reason: unknown) =>
    processFailures.push(`unhandled rejection: ${String(reason)}`);
  const onException = (error: Error) =>
    processFailures.push(`uncaught exception: ${error.message}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const prototypes = prototypeSnapshot();

  const runCase = async (index: number) => {
    const plan = all[index];
    if (plan === undefined) return;
    const request = materialize(ctx, plan);
    let problems: string[];
    let observed: ObservedResponse | undefined;
    try {
      observed = await send(target.url, request);
      problems = checkResponse(target, request, observed);
      statusCounts[observed.status] = (statusCounts[observed.status] ?? 0) + 1;
      const code =
        /"code":"([^"]*)"/.exec(observed.text)?.[1] ??
        (observed.status < 300 ? '(data)' : '(none)');
      codeCounts[code] = (codeCounts[code] ?? 0) + 1;
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      problems = [
        `no response: ${(error as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`,
      ];
      statusCounts['no response'] = (statusCounts['no response'] ?? 0) + 1;
    }
    if (problems.length === 0) return;
    findings.push({
      index,
      problems,
      request: {
        method: request.method,
        path: request.path,
        headers: shownHeaders(request.headers),
        bodyBytes: request.body?.length ?? 0,
        bodyPreview: preview(request.body ?? new Uint8Array()),
      },
      ...(observed && {
        response: {
          status: observed.status,
          headers: Object.fromEntries(
            [...observed.headers].filter(
              ([name]) => !['date', 'connection', 'keep-alive'].includes(name),
            ),
          ),
          bodyPreview: preview(observed.text),
        },
      }),
      plan: JSON.stringify(plan, (_key, value) =>
        typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}...` : value,
      ),
    });
  };

  try {
    for (let from = 0; from < indexes.length; from += batchSize) {
      const batch = indexes.slice(from, from + batchSize);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, batch.length) }, async () => {
          while (next < batch.length) {
            const index = batch[next] ?? 0;
            next += 1;
            await runCase(index);
          }
        }),
      );
      if (
        prototypeSnapshot() !== prototypes ||
        ({} as Record<string, unknown>).accountId !== undefined
      ) {
        processFailures.push(
          `a built-in prototype changed during cases ${batch[0]}..${batch.at(-1)}`,
        );
      }
      target.resetUpstream?.();
      options.onProgress?.(Math.min(from + batchSize, indexes.length), findings.length);
    }
  } finally {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
  const health = await healthCheck(target);
  for (const failure of processFailures) {
    findings.push({
      index: -1,
      problems: [failure],
      request: { method: '', path: '', headers: {}, bodyBytes: 0, bodyPreview: '' },
      plan: '',
    });
  }
  findings.sort((a, b) => a.index - b.index);
  return {
    seed: options.seed,
    runs: indexes.length,
    elapsedMs: performance.now() - started,
    statusCounts,
    codeCounts,
    findings,
    health,
    pageTokens: ctx.pages.length,
  };
}

/** The rule of a problem line, without its particulars: findings are grouped by it. */
export const ruleOf = (problem: string): string =>
  problem
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\(position \d+\)/g, '')
    .replace(/\d{3,}/g, 'N')
    .slice(0, 140);

/** A printable summary: counts, then each distinct rule with its first examples. */
export function formatReport(report: FuzzReport, examplesPerRule = 2): string {
  const sortedCounts = (counts: Readonly<Record<string, number>>) =>
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([key, n]) => `${key}: ${n}`)
      .join(', ');
  const lines = [
    `fuzz: seed ${report.seed}, ${report.runs} runs, ${(report.elapsedMs / 1000).toFixed(1)} s ` +
      `(${((report.runs / report.elapsedMs) * 1000).toFixed(0)} cases/s), ${report.pageTokens} real page tokens`,
    `statuses: ${sortedCounts(report.statusCounts)}`,
    `codes: ${sortedCounts(report.codeCounts)}`,
    `health after the run: ${report.health.ok ? 'ok' : 'FAILED'} (${report.health.detail})`,
    `findings: ${report.findings.length}`,
  ];
  const byRule = new Map<string, Finding[]>();
  for (const finding of report.findings) {
    for (const problem of finding.problems) {
      const rule = ruleOf(problem);
      byRule.set(rule, [...(byRule.get(rule) ?? []), finding]);
    }
  }
  for (const [rule, examples] of [...byRule].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`\n[${examples.length}x] ${rule}`);
    for (const example of examples.slice(0, examplesPerRule)) {
      lines.push(`  case ${example.index}: ${example.problems.join('; ')}`);
      lines.push(
        `    request: ${example.request.method} ${example.request.path} ${JSON.stringify(example.request.headers)}`,
      );
      lines.push(`    body (${example.request.bodyBytes} bytes): ${example.request.bodyPreview}`);
      if (example.response) {
        lines.push(
          `    response: ${example.response.status} ${JSON.stringify(example.response.headers)}`,
        );
        lines.push(`    response body: ${example.response.bodyPreview}`);
      }
      if (example.plan) lines.push(`    plan: ${example.plan.slice(0, 600)}`);
    }
  }
  return lines.join('\n');
}
