import { describeIssues } from './issues';
import { iotoOrigin } from './origin';
import { checkLimitVariables, proxyLimitVariablesShape } from './settings';
import {
  _default,
  maxLength,
  minLength,
  object,
  optional,
  pipe,
  refine,
  regex,
  string,
  superRefine,
  transform,
  url,
  type ZodMiniType,
  enum as zodEnum,
} from './zod';

/**
 * The only reader of `process.env` in ioto-bff. Each consumer parses its part once, at cold
 * start, and fails fast with a message that names the variable.
 */

/** Thrown when configuration is missing or wrong; the message names every bad variable. */
export class ConfigurationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An Ioto API base URL: HTTPS, or plain HTTP on loopback only (the simulator). */
export const iotoEndpoint = pipe(
  url({ protocol: /^https?$/ }),
  transform((text: string) => new URL(text)),
).check(
  refine((u) => u.protocol === 'https:' || LOOPBACK_HOSTS.has(u.hostname), {
    message: 'must use https (plain http is allowed on loopback only)',
  }),
  refine((u) => u.username === '' && u.password === '' && u.search === '' && u.hash === '', {
    message: 'must not hold credentials, a query or a fragment',
  }),
);

/** `raw`: `Authorization: <token>` as documented; `bearer`: as the Ioto agent sends it. */
export const iotoAuthScheme = _default(zodEnum(['raw', 'bearer']), 'raw');

/**
 * Where the deployed functions read the access configuration: an AWS AppConfig application,
 * environment and configuration profile (see `config/access-source.ts`).
 */
const accessConfigLocation = {
  ACCESS_CONFIG_APPLICATION: string().check(minLength(1)),
  ACCESS_CONFIG_ENVIRONMENT: string().check(minLength(1)),
  ACCESS_CONFIG_PROFILE: string().check(minLength(1)),
};

/** The deployed proxy: the token and the page-token key come from Secrets Manager. */
export const awsProxyEnvSchema = object({
  IOTO_ENDPOINT: iotoEndpoint,
  IOTO_AUTH_SCHEME: iotoAuthScheme,
  IOTO_ORIGIN: optional(iotoOrigin),
  ...proxyLimitVariablesShape,
  IOTO_TOKEN_SECRET_ID: string().check(minLength(1)),
  PAGE_TOKEN_SECRET_ID: string().check(minLength(1)),
  /** The DynamoDB table of idempotency records (writes with an `Idempotency-Key`). */
  IDEMPOTENCY_TABLE_NAME: string().check(minLength(3), maxLength(255)),
  ...accessConfigLocation,
}).check(superRefine(checkLimitVariables));

/** The deployed authorizer: where the access configuration is, which is all it needs. */
export const awsAuthorizerEnvSchema = object(accessConfigLocation);

/** The deployed audit forwarder: the log group it copies the proxy's audit lines into. */
export const auditForwarderEnvSchema = object({
  AUDIT_LOG_GROUP_NAME: string().check(minLength(1), maxLength(512)),
});

/**
 * The deployed docs function (`GET /docs`, `GET /openapi.json`): what the published description
 * says about paging and how partners get a token. No secret and no partner data.
 */
export const docsEnvSchema = object({
  PAGE_LIMIT_DEFAULT: proxyLimitVariablesShape.PAGE_LIMIT_DEFAULT,
  PAGE_LIMIT_MAX: proxyLimitVariablesShape.PAGE_LIMIT_MAX,
  /** The version of ioto-bff the description names (package.json, set by the stack). */
  API_VERSION: string().check(minLength(1), maxLength(64)),
  /** The OAuth 2.0 token endpoint (client credentials); unset with an external OIDC issuer. */
  OAUTH_TOKEN_URL: optional(url({ protocol: /^https$/ })),
  /** The scope every access token must carry (the access configuration's `scope`). */
  OAUTH_SCOPE: string().check(
    minLength(1),
    maxLength(256),
    regex(/^\S+$/, 'must be one scope token'),
  ),
}).check(
  refine((e) => e.PAGE_LIMIT_DEFAULT <= e.PAGE_LIMIT_MAX, {
    message: 'must not exceed PAGE_LIMIT_MAX',
    path: ['PAGE_LIMIT_DEFAULT'],
  }),
);

export type AwsProxyEnv = ReturnType<typeof awsProxyEnvSchema.parse>;

/**
 * X-Ray as Lambda and Powertools configure it: Lambda sets the daemon's address when active
 * tracing is on; Powertools' switch and service name apply as they would to its Tracer.
 */
const tracingEnvSchema = object({
  POWERTOOLS_TRACE_DISABLED: optional(string()),
  POWERTOOLS_SERVICE_NAME: optional(string().check(minLength(1))),
  AWS_XRAY_DAEMON_ADDRESS: optional(string().check(minLength(1))),
});

/** The tracing settings of a function (lambda/tracing/xray-tracer.ts). */
export interface TracingSettings {
  readonly enabled: boolean;
  readonly serviceName: string;
  readonly daemonAddress?: string;
}

/** Reads {@link TracingSettings} from `source` (default: `process.env`). */
export function readTracingEnv(
  source: Readonly<Record<string, string | undefined>> = process.env,
): TracingSettings {
  const env = readEnv(tracingEnvSchema, source);
  return {
    enabled: env.POWERTOOLS_TRACE_DISABLED?.toLowerCase() !== 'true',
    serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'service_undefined',
    ...(env.AWS_XRAY_DAEMON_ADDRESS !== undefined && {
      daemonAddress: env.AWS_XRAY_DAEMON_ADDRESS,
    }),
  };
}

/** Parses `source` (default: `process.env`) and freezes the result; throws a ConfigurationError. */
export function readEnv<T>(
  schema: ZodMiniType<T>,
  source: Readonly<Record<string, string | undefined>> = process.env,
): Readonly<T> {
  // Empty strings mean "unset", as shells and CloudFormation tend to pass them.
  const defined = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse(defined);
  if (!parsed.success) {
    throw new ConfigurationError(`Invalid configuration: ${describeIssues(parsed.error)}`);
  }
  return Object.freeze(parsed.data);
}
