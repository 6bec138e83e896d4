import {
  array,
  boolean,
  int,
  number,
  type output,
  strictObject,
  string,
  union,
  url,
  enum as zodEnum,
} from 'zod';
import { hasAssumedScope, isWildcardGrantable } from '../catalog/grants';
import { catalog, operationKey, withdrawnOperations } from '../catalog/index';
import { describeIssues } from './issues';

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
const grant = string().superRefine((value, ctx) => {
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
});

/** The operations whose account scoping Ioto does not document, by key. */
const ASSUMED_SCOPE_KEYS: ReadonlySet<string> = new Set(
  catalog.filter(hasAssumedScope).map(operationKey),
);

/** Ids as Ioto spells them; compared exactly, never trimmed or case-folded. */
const ioToId = string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must be an Ioto id (letters, digits, . _ : -)');

/**
 * An automated action's name, exactly as Ioto knows it (docs/ioto-api.md §3.2). Names are compared
 * exactly; there are no wildcards, so `*` is refused rather than silently taken literally.
 */
const actionName = string()
  .min(1)
  .max(1024)
  .refine((name) => !name.includes('*'), 'must be an exact action name (no wildcards)');

/** The operations that run automated actions: granted by exact name only, plus `actions`. */
const ACTION_OPERATIONS = catalog.filter((op) => op.scope.action !== undefined);

/** How a partner's access token is recognised: its issuer plus `client_id` or `sub`. */
export const partnerIdentitySchema = union([
  strictObject({ issuer: string().min(1), clientId: string().min(1).max(256) }),
  strictObject({ issuer: string().min(1), subject: string().min(1).max(256) }),
]);

/** API Gateway usage-plan settings for the partner (consumed by the infrastructure). */
const throttle = strictObject({
  rateLimit: number().positive().max(10_000),
  burstLimit: int().min(1).max(5_000),
});
const quota = strictObject({
  limit: int().min(1),
  period: zodEnum(['DAY', 'WEEK', 'MONTH']),
});

export const partnerSchema = strictObject({
  /** Stable id: appears in logs, page-token bindings and usage plans. */
  id: string()
    .min(2)
    .max(63)
    .regex(/^[a-z][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
  description: string().max(256).optional(),
  /**
   * Operations it may call. Deny by default. A `controller/*` wildcard grants only the
   * controller's scopable read and write operations: credential and admin operations, and those
   * that cannot be scoped to an account (see the README), need their exact name.
   */
  operations: array(grant).max(200),
  /** The Ioto accounts it may act on. */
  accounts: array(ioToId).min(1).max(50),
  /**
   * The automated actions it may run with action/invoke, by exact name. Required exactly when
   * action/invoke is granted (see {@link partnerGrantIssues}).
   */
  actions: array(actionName).min(1).max(100).optional(),
  /**
   * The operations whose account scoping the proxy assumes (the README lists them and the
   * risk) that this partner is granted anyway, by exact name: the operator's acknowledgement.
   * Each must be in `operations` (see {@link partnerGrantIssues}).
   */
  acceptAssumedScope: array(grant).max(100).optional(),
  /** Optional limit to some devices, by exact id or id prefix. */
  devices: strictObject({
    ids: array(ioToId).max(1000).optional(),
    prefixes: array(ioToId).max(100).optional(),
  })
    .refine((d) => (d.ids?.length ?? 0) + (d.prefixes?.length ?? 0) > 0, {
      message: 'list at least one device id or prefix, or leave devices out',
    })
    .optional(),
  readOnly: boolean().default(false),
  /**
   * When true, every operation that changes the device cloud must carry an `Idempotency-Key`
   * header (400 `idempotency_key_required` otherwise).
   */
  requireIdempotencyKey: boolean().default(false),
  throttle: throttle.optional(),
  quota: quota.optional(),
  identity: partnerIdentitySchema,
});

/** An issuer of partner access tokens: the stack's Cognito user pool or an external OIDC one. */
export const issuerSchema = strictObject({
  /** The exact `iss` claim. */
  issuer: string().min(1),
  /** Where its signing keys are; defaults to `{issuer}/.well-known/jwks.json`. */
  jwksUri: url({ protocol: /^https?$/ }).optional(),
  /** Required `aud` value(s), for issuers whose access tokens carry one (Cognito's do not). */
  audience: array(string().min(1)).min(1).optional(),
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
  scope: string().min(1).max(256).regex(/^\S+$/, 'must be one scope token'),
  issuers: array(issuerSchema).min(1).max(10),
  partners: array(partnerSchema).max(1_000),
  /**
   * What the API key values of this deployment's usage plans start with (see
   * {@link usageIdentifierKey}): unique per stack, since API Gateway treats equal key values in
   * one account and region as the same key.
   */
  usageKeyPrefix: string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9-]{7,62}$/, 'must be 8 to 63 letters, digits and dashes')
    .optional(),
}).superRefine((config, ctx) => {
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
});

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
