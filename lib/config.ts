import { readFileSync } from 'node:fs';
import {
  array,
  boolean,
  int,
  literal,
  optional,
  type output,
  strictObject,
  string,
  union,
  url,
  enum as zodEnum,
} from 'zod';
import {
  issuerSchema,
  MAX_TOKEN_LIFETIME_SECONDS,
  partnerGrantIssues,
  partnerIdentitySchema,
  partnerSchema,
} from '../lambda/config/access';
import { describeIssues } from '../lambda/config/issues';
import { iotoOrigin } from '../lambda/config/origin';
import {
  checkProxyLimits,
  DEADLINE_MARGIN_MS,
  deadlineFits,
  proxyLimitsShape,
} from '../lambda/config/settings';
import { extend } from '../lambda/config/zod';

/**
 * The deployment configuration of the ioto-bff stack: one zod schema, validated when the CDK
 * app synthesizes. Every setting has a documented default except the Ioto endpoint, the
 * identity provider's domain and the partners.
 */

/** Log retention periods CloudWatch Logs accepts, in days. */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** The most partners one deployment holds (their resources go to nested stacks, see the README). */
export const MAX_PARTNERS = 1_000;

/** The traffic-shifting strategies offered for the functions (CodeDeploy configurations). */
export const ROLLOUT_STRATEGIES = [
  'canary-10-percent-5-minutes',
  'canary-10-percent-15-minutes',
  'linear-10-percent-every-1-minute',
  'linear-10-percent-every-3-minutes',
  'all-at-once',
] as const;

/** A KMS key ARN. */
const kmsKeyArn = string().regex(
  /^arn:aws[\w-]*:kms:[\w-]+:\d{12}:key\/[\w-]+$/,
  'must be a KMS key ARN',
);

/**
 * An IAM role ARN, with its path if it has one (`aws:PrincipalArn` of a role's sessions is
 * exactly that): no wildcard, no user, no assumed-role session ARN.
 */
const iamRoleArn = string().regex(
  /^arn:aws[\w-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/,
  'must be an IAM role ARN (arn:aws:iam::<account>:role/<path/><name>)',
);

/**
 * A partner as deployed: with Cognito the stack creates its client, so `identity` is optional.
 * The access configuration's schemas are zod/mini ones (lambda/config/zod.ts): they have no
 * methods, so they are composed with functions. Both flavours share zod's core, so the classic
 * schemas of this file contain them as they would contain their own.
 */
const deploymentPartnerSchema = extend(partnerSchema, {
  identity: optional(partnerIdentitySchema),
});

/** `resource-server/scope`, as Cognito writes custom scopes. */
const scope = string()
  .regex(/^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/, 'must be "<resource server>/<scope name>"')
  .default('ioto-bff/partner-api');

const cognitoIdentity = strictObject({
  type: literal('cognito'),
  /** Prefix of the Cognito hosted domain that serves `/oauth2/token`: unique in the region. */
  domainPrefix: string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'must be lower-case letters, digits and dashes'),
  scope,
  /** Lifetime of partner access tokens (Cognito allows 5 minutes to 1 day). */
  accessTokenMinutes: int().min(5).max(1440).default(60),
});

/** The token rules of an external issuer: the access configuration's issuer fields. */
const issuerRules = issuerSchema.shape;

const oidcIdentity = strictObject({
  type: literal('oidc'),
  issuer: url({ protocol: /^https$/ }),
  jwksUri: url({ protocol: /^https$/ }).optional(),
  audience: array(string().min(1)).min(1).optional(),
  audienceWaiver: issuerRules.audienceWaiver,
  jwksRefreshSeconds: issuerRules.jwksRefreshSeconds,
  maxTokenLifetimeSeconds: issuerRules.maxTokenLifetimeSeconds,
  clockSkewSeconds: issuerRules.clockSkewSeconds,
  requireTyp: issuerRules.requireTyp,
  scope,
});

export const deploymentConfigSchema = strictObject({
  ioto: strictObject({
    /** Base URL of the device cloud API, without `/tok`. */
    endpoint: url({ protocol: /^https$/ }),
    authScheme: zodEnum(['raw', 'bearer']).default('raw'),
    /**
     * The `Origin` header sent with every Ioto call (the device app's domain), for a cloud that
     * asks for it on every request as Ioto's older overview says: `https://host[:port]`.
     */
    origin: optional(iotoOrigin),
    /**
     * An existing secret holding the CloudAPI token (by name or full ARN), with the customer
     * managed KMS key that encrypts it when it is not the AWS managed `aws/secretsmanager` key
     * (the proxy is granted decrypt on exactly that key); without one the stack creates an
     * empty secret, encrypted with a key of its own, for the operator to fill.
     */
    tokenSecret: union([
      strictObject({ name: string().min(1).max(512), kmsKeyArn: kmsKeyArn.optional() }),
      strictObject({
        arn: string().regex(
          /^arn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:.+$/,
          'must be a secret ARN',
        ),
        kmsKeyArn: kmsKeyArn.optional(),
      }),
    ]).optional(),
  }),
  /**
   * Who besides the proxy may read the secrets. Both secrets the stack creates carry a resource
   * policy that denies `secretsmanager:GetSecretValue` to every principal but the proxy's role
   * and this operator role, whatever their IAM policies allow.
   */
  secrets: strictObject({
    /**
     * An operator's break-glass role (its ARN, with its path) left out of that denial, for
     * incident response. No routine task needs it: the page-token key is rotated through its
     * version stages without anyone reading it. It still needs its own IAM permissions.
     */
    breakGlassRoleArn: iamRoleArn.optional(),
  }).prefault({}),
  identity: union([cognitoIdentity, oidcIdentity]),
  partners: array(deploymentPartnerSchema).min(1).max(MAX_PARTNERS),
  limits: strictObject({
    /** The proxy's limits: bounds and defaults shared with its environment (lambda/config/settings.ts). */
    ...proxyLimitsShape,
    /** Proxy Lambda timeout: above the upstream deadline, below API Gateway's 29 s. */
    proxyTimeoutSeconds: int().min(3).max(28).default(12),
    proxyMemoryMb: int().min(256).max(4_096).default(512),
    authorizerMemoryMb: int().min(128).max(2_048).default(256),
    /**
     * Reserved concurrency of the proxy, a ceiling that protects the Ioto cloud from bursts.
     * Unset by default: reserving takes concurrency from the account's pool, and a new account's
     * quota (as low as 10) leaves nothing to reserve.
     */
    proxyReservedConcurrency: int().min(1).max(1_000).optional(),
  })
    .superRefine(checkProxyLimits)
    .prefault({}),
  api: strictObject({
    /** Stage-wide default throttling (per-partner limits come from the partner's usage plan). */
    rateLimit: int().min(1).max(10_000).default(100),
    burstLimit: int().min(1).max(5_000).default(200),
    /** API Gateway's cache of authorizer results, per token (0 disables it). */
    authorizerCacheSeconds: int().min(0).max(3_600).default(300),
    /**
     * Whether the stack sets the account-wide role that lets API Gateway write execution logs
     * (`AWS::ApiGateway::Account`, one per account and region). Leave it on for the first stack
     * of an account and region; turn it off for every further stack, which then uses the role
     * already set (the role is retained when a stack is deleted).
     */
    cloudWatchRole: boolean().default(true),
    /** The stage: URLs are `https://{api}.execute-api.{region}.amazonaws.com/{stage}/v1/...`. */
    stageName: string()
      .regex(/^[A-Za-z0-9_]+$/)
      .default('prod'),
    /** A custom domain (its ACM certificate must exist); the execute-api endpoint is disabled. */
    customDomain: strictObject({
      domainName: string().regex(
        /^(?=.{1,253}$)([a-z0-9-]+\.)+[a-z]{2,}$/,
        'must be a domain name',
      ),
      certificateArn: string().regex(
        /^arn:aws[\w-]*:acm:[\w-]+:\d{12}:certificate\/.+$/,
        'must be an ACM certificate ARN',
      ),
    }).optional(),
  }).prefault({}),
  waf: strictObject({
    enabled: boolean().default(true),
    /**
     * Requests per 5 minutes per client IP before the rate-based rule answers 429. At least what
     * the fastest partner's usage plan allows in 5 minutes; by default twice that (see
     * {@link wafRateFloor}), so the firewall never refuses a partner within what it pays for.
     */
    rateLimitPer5Minutes: int().min(100).max(2_000_000_000).optional(),
  }).prefault({}),
  rollout: strictObject({
    /**
     * How CodeDeploy shifts traffic to a new version of the functions; it rolls back when a
     * rollback alarm fires during the shift.
     */
    strategy: zodEnum(ROLLOUT_STRATEGIES).default('canary-10-percent-5-minutes'),
  }).prefault({}),
  monitoring: strictObject({
    alarmEmail: string().email().optional(),
    logRetentionDays: union(RETENTION_DAYS.map((d) => literal(d))).default(30),
    /** How long the audit log group keeps the partners' audit lines. */
    auditRetentionDays: union(RETENTION_DAYS.map((d) => literal(d))).default(365),
    /** Refusals of one partner within five minutes above which the refusal alarm fires. */
    refusalSpikePer5Minutes: int().min(1).max(1_000_000).default(50),
    /** Alarm thresholds. */
    fiveXxRatePercent: int().min(1).max(100).default(5),
    latencyP99Ms: int().min(100).max(29_000).default(5_000),
  }).prefault({}),
}).superRefine((config, ctx) => {
  const { limits } = config;
  // The proxy must outlive one upstream deadline plus its bookkeeping.
  if (!deadlineFits(limits.upstreamTimeoutMs, limits.proxyTimeoutSeconds)) {
    ctx.addIssue({
      code: 'custom',
      path: ['limits', 'upstreamTimeoutMs'],
      message: `must be at least ${DEADLINE_MARGIN_MS / 1_000} s below limits.proxyTimeoutSeconds`,
    });
  }
  // A cached authorization must not outlive the longest token it can be given for.
  const lifetime = maxTokenLifetimeSeconds(config.identity);
  if (config.api.authorizerCacheSeconds > lifetime.seconds) {
    ctx.addIssue({
      code: 'custom',
      path: ['api', 'authorizerCacheSeconds'],
      message: `must be at most ${lifetime.seconds} s: ${lifetime.why}, and a cached authorization must not outlive its token`,
    });
  }
  const floor = wafRateFloor(config);
  if (config.waf.rateLimitPer5Minutes !== undefined && config.waf.rateLimitPer5Minutes < floor) {
    ctx.addIssue({
      code: 'custom',
      path: ['waf', 'rateLimitPer5Minutes'],
      message: `must be at least ${floor}: what the fastest partner's usage plan allows in 5 minutes`,
    });
  }
  config.partners.forEach((partner, index) => {
    for (const issue of partnerGrantIssues(partner)) {
      ctx.addIssue({
        code: 'custom',
        path: ['partners', index, ...issue.path],
        message: issue.message,
      });
    }
    if (config.identity.type === 'oidc' && partner.identity === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['partners', index, 'identity'],
        message: 'is required with an external OIDC issuer (clientId or subject)',
      });
    }
    if (config.identity.type === 'cognito' && partner.identity !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['partners', index, 'identity'],
        message: 'must be left out with Cognito: the stack creates each partner its app client',
      });
    }
  });
});

export type DeploymentConfig = output<typeof deploymentConfigSchema>;
export type RolloutStrategy = (typeof ROLLOUT_STRATEGIES)[number];

/**
 * The longest a partner's access token lives: with Cognito, the lifetime the stack gives its app
 * clients (`identity.accessTokenMinutes`); with an external issuer, the longest the authorizer
 * accepts (the access configuration's `maxTokenLifetimeSeconds`, whose default the stack keeps).
 */
export function maxTokenLifetimeSeconds(identity: DeploymentConfig['identity']): {
  readonly seconds: number;
  readonly why: string;
} {
  return identity.type === 'cognito'
    ? {
        seconds: identity.accessTokenMinutes * 60,
        why: `the partners' access tokens live ${identity.accessTokenMinutes} minutes (identity.accessTokenMinutes)`,
      }
    : {
        seconds: identity.maxTokenLifetimeSeconds ?? MAX_TOKEN_LIFETIME_SECONDS.default,
        why: 'the authorizer accepts tokens that live at most that long (identity.maxTokenLifetimeSeconds)',
      };
}

/**
 * Requests per 5 minutes the fastest partner may make under its usage plan (the stage-wide
 * rate for partners without a throttle of their own): the web firewall's per-IP limit must not
 * refuse a partner below that.
 */
export function wafRateFloor(config: {
  readonly api: { readonly rateLimit: number };
  readonly partners: readonly { readonly throttle?: { readonly rateLimit: number } | undefined }[];
}): number {
  const fastest = Math.max(
    ...config.partners.map((partner) => partner.throttle?.rateLimit ?? config.api.rateLimit),
  );
  return Math.ceil(fastest * 300);
}

/** The web firewall's per-IP limit: as configured, or twice the partners' floor. */
export const wafRateLimit = (config: DeploymentConfig): number =>
  config.waf.rateLimitPer5Minutes ?? Math.max(100, 2 * wafRateFloor(config));
export type DeploymentPartner = DeploymentConfig['partners'][number];

/** Raised when the deployment configuration does not parse; names every bad field. */
export class DeploymentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeploymentConfigError';
  }
}

/** Validates a deployment configuration; throws DeploymentConfigError naming the fields. */
export function parseDeploymentConfig(
  value: unknown,
  source = 'deployment configuration',
): DeploymentConfig {
  const parsed = deploymentConfigSchema.safeParse(value);
  if (!parsed.success) {
    throw new DeploymentConfigError(`Invalid ${source}: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * Reads the deployment configuration from CDK context: `config` (an object, for tests and
 * pipelines) or else the JSON file named by `configFile` (cdk.json names the sample).
 */
export function loadDeploymentConfig(context: (key: string) => unknown): DeploymentConfig {
  const inline = context('config');
  if (inline !== undefined) return parseDeploymentConfig(inline, 'context "config"');
  const file = context('configFile');
  if (typeof file !== 'string') {
    throw new DeploymentConfigError(
      'Name a deployment configuration: cdk synth -c configFile=<file>.json',
    );
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DeploymentConfigError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DeploymentConfigError(`Invalid ${file}: not JSON (${(error as Error).message})`);
  }
  return parseDeploymentConfig(value, file);
}
