import { hasAssumedScope, isWildcardGrantable } from '../catalog/grants';
import { catalog, operationKey, withdrawnOperations } from '../catalog/index';
import { describeIssues } from './issues';
import {
  _default,
  array,
  boolean,
  int,
  maximum,
  maxLength,
  minimum,
  minLength,
  number,
  optional,
  type output,
  positive,
  refine,
  regex,
  strictObject,
  string,
  superRefine,
  trim,
  union,
  url,
  enum as zodEnum,
} from './zod';

/**
 * Who may call ioto-bff, and what each partner may do: the one schema of the access
 * configuration, validated when the CDK app synthesizes and when the local gateway or a Lambda
 * starts. A bad configuration fails with a message naming the field, e.g.
 * `partners[1].operations[0]: unknown operation "device/remove"`.
 */

const CONTROLLERS = new Set(catalog.map((op) => op.controller));
const OPERATION_KEYS = new Set(catalog.map(operationKey));
const WITHDRAWN: ReadonlyMap<string, string | undefined> = new Map(
  withdrawnOperations.map((op) => [operationKey(op), op.withdrawn]),
);

/** `controller/operation` exactly as in the catalog, or `controller/*`. */
const grant = string().check(
  superRefine((value, ctx) => {
    const [controller = '', operation] = value.split('/');
    const withdrawn = WITHDRAWN.get(value);
    if (withdrawn !== undefined) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not offered: ${withdrawn}` });
      return;
    }
    const known =
      operation === '*'
        ? CONTROLLERS.has(controller)
        : OPERATION_KEYS.has(value as `${string}/${string}`);
    if (!known) ctx.addIssue({ code: 'custom', message: `unknown operation "${value}"` });
  }),
);

/** The operations whose account scoping Ioto does not document, by key. */
const ASSUMED_SCOPE_KEYS: ReadonlySet<string> = new Set(
  catalog.filter(hasAssumedScope).map(operationKey),
);

/** Ids as Ioto spells them; compared exactly, never trimmed or case-folded. */
const ioToId = string().check(
  minLength(1),
  maxLength(128),
  regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must be an Ioto id (letters, digits, . _ : -)'),
);

/**
 * An automated action's name, exactly as Ioto knows it (docs/ioto-api.md §3.2). Names are compared
 * exactly; there are no wildcards, so `*` is refused rather than silently taken literally.
 */
const actionName = string().check(
  minLength(1),
  maxLength(1024),
  refine((name) => !name.includes('*'), 'must be an exact action name (no wildcards)'),
);

/** The operations that run automated actions: granted by exact name only, plus `actions`. */
const ACTION_OPERATIONS = catalog.filter((op) => op.scope.action !== undefined);

/** How a partner's access token is recognised: its issuer plus `client_id` or `sub`. */
export const partnerIdentitySchema = union([
  strictObject({
    issuer: string().check(minLength(1)),
    clientId: string().check(minLength(1), maxLength(256)),
  }),
  strictObject({
    issuer: string().check(minLength(1)),
    subject: string().check(minLength(1), maxLength(256)),
  }),
]);

/** API Gateway usage-plan settings for the partner (consumed by the infrastructure). */
const throttle = strictObject({
  rateLimit: number().check(positive(), maximum(10_000)),
  burstLimit: int().check(minimum(1), maximum(5_000)),
});
const quota = strictObject({
  limit: int().check(minimum(1)),
  period: zodEnum(['DAY', 'WEEK', 'MONTH']),
});

export const partnerSchema = strictObject({
  /** Stable id: appears in logs, page-token bindings and usage plans. */
  id: string().check(
    minLength(2),
    maxLength(63),
    regex(/^[a-z][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
  ),
  description: optional(string().check(maxLength(256))),
  /**
   * Operations it may call. Deny by default. A `controller/*` wildcard grants only the
   * controller's scopable read and write operations: credential and admin operations, and those
   * that cannot be scoped to an account (see the README), need their exact name.
   */
  operations: array(grant).check(maxLength(200)),
  /** The Ioto accounts it may act on. */
  accounts: array(ioToId).check(minLength(1), maxLength(50)),
  /**
   * The automated actions it may run with action/invoke, by exact name. Required exactly when
   * action/invoke is granted (see {@link partnerGrantIssues}).
   */
  actions: optional(array(actionName).check(minLength(1), maxLength(100))),
  /**
   * The operations whose account scoping the proxy assumes (the README lists them and the
   * risk) that this partner is granted anyway, by exact name: the operator's acknowledgement.
   * Each must be in `operations` (see {@link partnerGrantIssues}).
   */
  acceptAssumedScope: optional(array(grant).check(maxLength(100))),
  /** Optional limit to some devices, by exact id or id prefix. */
  devices: optional(
    strictObject({
      ids: optional(array(ioToId).check(maxLength(1000))),
      prefixes: optional(array(ioToId).check(maxLength(100))),
    }).check(
      refine((d) => (d.ids?.length ?? 0) + (d.prefixes?.length ?? 0) > 0, {
        message: 'list at least one device id or prefix, or leave devices out',
      }),
    ),
  ),
  readOnly: _default(boolean(), false),
  /**
   * When true, every operation that changes the device cloud must carry an `Idempotency-Key`
   * header (400 `idempotency_key_required` otherwise).
   */
  requireIdempotencyKey: _default(boolean(), false),
  throttle: optional(throttle),
  quota: optional(quota),
  identity: partnerIdentitySchema,
});

/**
 * How often an issuer's signing keys are read again, so that a key the issuer withdraws stops
 * verifying (besides a read whenever a token names a key id not yet seen). 60 s at least, so
 * warm authorizers do not hammer the issuer; an hour at most, so a withdrawn key is honoured
 * no longer than an authorizer cache period.
 */
export const JWKS_REFRESH_SECONDS = { min: 60, max: 3_600, default: 300 } as const;

/**
 * The longest an access token may be valid (`exp - iat`). Cognito issues 5 minutes to 1 day;
 * a longer-lived access token is a credential nobody can take back, so a day is the ceiling.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = { min: 300, max: 86_400, default: 86_400 } as const;

/** How far in the future `iat` may lie, for clocks that disagree a little. */
export const CLOCK_SKEW_SECONDS = { min: 0, max: 300, default: 60 } as const;

/**
 * The `iss` of an Amazon Cognito user pool (`https://cognito-idp.<region>.amazonaws.com/<pool
 * id>`, `.amazonaws.com.cn` in China). Its access tokens carry no `aud` (the partner is matched
 * by `client_id`, the API by the resource-server scope). Region and pool id are matched loosely
 * because the stack names its own pool with CloudFormation tokens, resolved at deployment; the
 * host stays under amazonaws.com, which only AWS serves.
 */
const COGNITO_ISSUER =
  /^https:\/\/cognito-idp\.[^/\\?#@:\s]+\.amazonaws\.com(?:\.cn)?\/[^/\\?#@:\s]+$/;

/** Whether `issuer` names an Amazon Cognito user pool (see {@link COGNITO_ISSUER}). */
export const isCognitoIssuer = (issuer: string): boolean => COGNITO_ISSUER.test(issuer);

/**
 * Whether `issuer` is an OAuth/OIDC issuer whose access tokens must name their audience: any
 * issuer identified by an http(s) URL (OpenID Connect Discovery 1.0 §2 and RFC 8414 §2 make
 * issuer identifiers https URLs) but Cognito's. An identifier that is no URL, such as the
 * local issuer's `urn:ioto-bff:local-issuer`, names no discoverable issuer; the deployment
 * configuration admits none (its external issuers are https URLs).
 */
export function requiresAudience(issuer: string): boolean {
  if (isCognitoIssuer(issuer)) return false;
  try {
    return ['http:', 'https:'].includes(new URL(issuer).protocol);
  } catch {
    return false;
  }
}

/** An issuer of partner access tokens: the stack's Cognito user pool or an external OIDC one. */
export const issuerSchema = strictObject({
  /** The exact `iss` claim. */
  issuer: string().check(minLength(1)),
  /** Where its signing keys are; defaults to `{issuer}/.well-known/jwks.json`. */
  jwksUri: optional(url({ protocol: /^https?$/ })),
  /**
   * Required `aud` value(s) (one must match). Required for every issuer but Cognito (whose
   * access tokens carry none), unless `audienceWaiver` says why not: without it, a token the
   * issuer minted for another API that happens to carry the scope would pass.
   */
  audience: optional(array(string().check(minLength(1))).check(minLength(1))),
  /**
   * The operator's explicit acceptance of an issuer that puts no `aud` in its access tokens,
   * with the reason (kept with the configuration for the next reviewer).
   */
  audienceWaiver: optional(
    strictObject({ reason: string().check(trim(), minLength(20), maxLength(500)) }),
  ),
  /** Seconds between reads of its JWKS (see {@link JWKS_REFRESH_SECONDS}). */
  jwksRefreshSeconds: optional(
    int().check(minimum(JWKS_REFRESH_SECONDS.min), maximum(JWKS_REFRESH_SECONDS.max)),
  ),
  /** The longest `exp - iat` accepted (see {@link MAX_TOKEN_LIFETIME_SECONDS}). */
  maxTokenLifetimeSeconds: optional(
    int().check(minimum(MAX_TOKEN_LIFETIME_SECONDS.min), maximum(MAX_TOKEN_LIFETIME_SECONDS.max)),
  ),
  /** How far in the future `iat` may lie (see {@link CLOCK_SKEW_SECONDS}). */
  clockSkewSeconds: optional(
    int().check(minimum(CLOCK_SKEW_SECONDS.min), maximum(CLOCK_SKEW_SECONDS.max)),
  ),
  /**
   * When true, the token's header must say `typ: at+jwt` (RFC 9068 §2.1, §4), for issuers that
   * type their access tokens so: their ID and logout tokens, signed with the same keys, are
   * then refused by type. Default false: Cognito's access tokens have no `typ`, and many
   * issuers write `JWT` (see `acceptedTokenType` in the authorizer).
   */
  requireTyp: optional(boolean()),
}).check(
  superRefine((issuer, ctx) => {
    const needsAudience = requiresAudience(issuer.issuer);
    if (needsAudience && issuer.audience === undefined && issuer.audienceWaiver === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['audience'],
        message:
          'is required for an issuer other than Cognito (the API identifier its access tokens carry in aud), or give audienceWaiver with the reason',
      });
    }
    if (issuer.audienceWaiver !== undefined && issuer.audience !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['audienceWaiver'],
        message: 'cannot go with audience: give one or the other',
      });
    } else if (issuer.audienceWaiver !== undefined && !needsAudience) {
      ctx.addIssue({
        code: 'custom',
        path: ['audienceWaiver'],
        message: 'waives nothing: this issuer needs no audience',
      });
    }
  }),
);

/** An issuer of the access configuration. */
export type IssuerConfig = output<typeof issuerSchema>;

/** An issuer's token rules, with their defaults applied. */
export interface IssuerRules {
  readonly jwksRefreshSeconds: number;
  readonly maxTokenLifetimeSeconds: number;
  readonly clockSkewSeconds: number;
  readonly requireTyp: boolean;
}

/** The token rules of `issuer`: what it configures, else the defaults. */
export const issuerRules = (issuer: IssuerConfig): IssuerRules => ({
  jwksRefreshSeconds: issuer.jwksRefreshSeconds ?? JWKS_REFRESH_SECONDS.default,
  maxTokenLifetimeSeconds: issuer.maxTokenLifetimeSeconds ?? MAX_TOKEN_LIFETIME_SECONDS.default,
  clockSkewSeconds: issuer.clockSkewSeconds ?? CLOCK_SKEW_SECONDS.default,
  requireTyp: issuer.requireTyp ?? false,
});

/** The partner fields {@link partnerGrantIssues} reads (the deployment schema has them too). */
interface GrantFields {
  readonly operations: readonly string[];
  readonly readOnly: boolean;
  readonly actions?: readonly string[] | undefined;
  readonly acceptAssumedScope?: readonly string[] | undefined;
}

type GrantIssue = { readonly path: PropertyKey[]; readonly message: string };

/**
 * Cross-field rules of one partner, as zod issues relative to the partner:
 * - a `controller/*` wildcard must grant something (see `isWildcardGrantable`);
 * - an operation whose account scoping is assumed is granted only with the partner's
 *   acknowledgement in `acceptAssumedScope`, and that list names only such operations, each
 *   granted by its exact name;
 * - `actions` is given exactly when an operation that runs actions (action/invoke) is granted,
 *   by its exact name (wildcards never include it) and not taken away by `readOnly`.
 */
export function partnerGrantIssues(partner: GrantFields): GrantIssue[] {
  return [...wildcardIssues(partner), ...assumedScopeIssues(partner), ...actionIssues(partner)];
}

function wildcardIssues(partner: GrantFields): GrantIssue[] {
  return partner.operations.flatMap((grant, index) => {
    if (!grant.endsWith('/*')) return [];
    const controller = grant.slice(0, -2);
    const ops = catalog.filter((op) => op.controller === controller);
    if (ops.length === 0 || ops.some(isWildcardGrantable)) return [];
    return [
      {
        path: ['operations', index],
        message: `"${grant}" grants nothing: every ${controller} operation needs its exact name (${ops.map(operationKey).join(', ')})`,
      },
    ];
  });
}

function assumedScopeIssues(partner: GrantFields): GrantIssue[] {
  const accepted = new Set(partner.acceptAssumedScope ?? []);
  const issues: GrantIssue[] = [];
  partner.operations.forEach((grant, index) => {
    if (ASSUMED_SCOPE_KEYS.has(grant) && !accepted.has(grant)) {
      issues.push({
        path: ['operations', index],
        message: `"${grant}" relies on account scoping Ioto does not document: list it in acceptAssumedScope to accept the risk (see the README)`,
      });
    }
  });
  (partner.acceptAssumedScope ?? []).forEach((grant, index) => {
    const path = ['acceptAssumedScope', index];
    if (!ASSUMED_SCOPE_KEYS.has(grant)) {
      issues.push({ path, message: `"${grant}" has no assumed account scoping to accept` });
    } else if (!partner.operations.includes(grant)) {
      issues.push({ path, message: `"${grant}" is not in operations` });
    }
  });
  return issues;
}

function actionIssues(partner: GrantFields): GrantIssue[] {
  const runsActions = ACTION_OPERATIONS.some(
    (op) => partner.operations.includes(operationKey(op)) && !(partner.readOnly && op.mutates),
  );
  const names = ACTION_OPERATIONS.map(operationKey).join(', ');
  if (runsActions && partner.actions === undefined) {
    return [{ path: ['actions'], message: `is required with ${names}: list the action names` }];
  }
  if (!runsActions && partner.actions !== undefined) {
    return [
      {
        path: ['actions'],
        message: `needs ${names} in operations (and readOnly false), or leave actions out`,
      },
    ];
  }
  return [];
}

export const accessConfigSchema = strictObject({
  /**
   * The OAuth scope an access token must carry to call the gateway, so that ID tokens and tokens
   * minted for other APIs are refused.
   */
  scope: string().check(minLength(1), maxLength(256), regex(/^\S+$/, 'must be one scope token')),
  issuers: array(issuerSchema).check(minLength(1), maxLength(10)),
  partners: array(partnerSchema).check(maxLength(1_000)),
  /**
   * What the API key values of this deployment's usage plans start with (see
   * {@link usageIdentifierKey}): unique per stack, since API Gateway treats equal key values in
   * one account and region as the same key.
   */
  usageKeyPrefix: optional(
    string().check(
      regex(/^[A-Za-z0-9][A-Za-z0-9-]{7,62}$/, 'must be 8 to 63 letters, digits and dashes'),
    ),
  ),
}).check(
  superRefine((config, ctx) => {
    const ids = new Set<string>();
    const identities = new Set<string>();
    const issuers = new Set(config.issuers.map((i) => i.issuer));
    config.partners.forEach((partner, index) => {
      for (const issue of partnerGrantIssues(partner)) {
        ctx.addIssue({
          code: 'custom',
          path: ['partners', index, ...issue.path],
          message: issue.message,
        });
      }
      if (ids.has(partner.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['partners', index, 'id'],
          message: `duplicate partner id "${partner.id}"`,
        });
      }
      ids.add(partner.id);
      const who = identityKey(partner.identity);
      if (identities.has(who)) {
        ctx.addIssue({
          code: 'custom',
          path: ['partners', index, 'identity'],
          message: 'another partner has the same identity',
        });
      }
      identities.add(who);
      if (!issuers.has(partner.identity.issuer)) {
        ctx.addIssue({
          code: 'custom',
          path: ['partners', index, 'identity', 'issuer'],
          message: 'is not one of the configured issuers',
        });
      }
    });
  }),
);

export type AccessConfig = output<typeof accessConfigSchema>;
export type PartnerConfig = output<typeof partnerSchema>;
export type PartnerIdentity = PartnerConfig['identity'];

/** The lookup key of a partner identity: issuer plus `client_id` or `sub`. */
export function identityKey(identity: PartnerIdentity): string {
  return 'clientId' in identity
    ? JSON.stringify(['client_id', identity.issuer, identity.clientId])
    : JSON.stringify(['sub', identity.issuer, identity.subject]);
}

/** Raised when the access configuration does not parse; the message names every bad field. */
export class AccessConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccessConfigError';
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * With exactly one issuer, a partner identity may leave its `issuer` out: it is that issuer.
 * This is the compact form the stack passes to the functions (see {@link compactAccessConfig}).
 */
function withSoleIssuer(value: unknown): unknown {
  if (!isRecord(value) || !Array.isArray(value.issuers) || value.issuers.length !== 1) return value;
  if (!Array.isArray(value.partners)) return value;
  const [only] = value.issuers as unknown[];
  const issuer = isRecord(only) ? only.issuer : undefined;
  return {
    ...value,
    partners: value.partners.map((partner: unknown) =>
      isRecord(partner) && isRecord(partner.identity) && !Object.hasOwn(partner.identity, 'issuer')
        ? { ...partner, identity: { issuer, ...partner.identity } }
        : partner,
    ),
  };
}

/**
 * The access configuration as the functions need it (the stack deploys it to AWS AppConfig):
 * usage-plan settings (API Gateway's business) and descriptions are left out, and so is each
 * identity's issuer when there is only one. {@link parseAccessConfig} reads it.
 */
export function compactAccessConfig(access: AccessConfig): Record<string, unknown> {
  const sole = access.issuers.length === 1 ? access.issuers[0]?.issuer : undefined;
  return {
    ...access,
    partners: access.partners.map(({ throttle, quota, description, identity, ...partner }) => {
      const { issuer, ...who } = identity;
      return { ...partner, identity: issuer === sole ? who : identity };
    }),
  };
}

/** Validates an access configuration (already parsed from JSON); throws AccessConfigError. */
export function parseAccessConfig(value: unknown, source = 'access configuration'): AccessConfig {
  const parsed = accessConfigSchema.safeParse(withSoleIssuer(value));
  if (!parsed.success) {
    throw new AccessConfigError(`Invalid ${source}: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

/** Parses JSON text, then validates it; JSON syntax errors are AccessConfigErrors too. */
export function parseAccessConfigJson(text: string, source = 'access configuration'): AccessConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AccessConfigError(`Invalid ${source}: not JSON (${(error as Error).message})`);
  }
  return parseAccessConfig(value, source);
}

/**
 * The API Gateway API key value of a partner's usage plan. With API key source `AUTHORIZER` the
 * key never leaves AWS: the authorizer returns it as `usageIdentifierKey` and the stack creates
 * the key with the same value, so both sides derive it from the partner id. It is an identifier,
 * not a secret (partners cannot present it).
 */
export function usageIdentifierKey(
  partnerId: string,
  prefix: string = DEFAULT_USAGE_KEY_PREFIX,
): string {
  // API Gateway API keys are 20 to 128 characters long: a prefix of 8 to 63 and an id of 2 to 63.
  return `${prefix}-${partnerId}`.padEnd(20, '-');
}

/** The prefix of usage-plan key values when the access configuration names none (locally). */
export const DEFAULT_USAGE_KEY_PREFIX = 'ioto-bff-usage-plan-key';
