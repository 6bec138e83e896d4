import { number, object, prefault, string, url, type ZodType, enum as zodEnum } from 'zod';
import { describeIssues } from './issues';

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

const integer = (min: number, max: number, fallback: number) =>
  prefault(string().regex(/^\d+$/, 'must be a whole number'), String(fallback))
    .transform(Number)
    .pipe(number().int().min(min).max(max));

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An Ioto API base URL: HTTPS, or plain HTTP on loopback only (the simulator). */
const endpoint = url({ protocol: /^https?$/ })
  .transform((text) => new URL(text))
  .refine((u) => u.protocol === 'https:' || LOOPBACK_HOSTS.has(u.hostname), {
    message: 'must use https (plain http is allowed on loopback only)',
  })
  .refine((u) => u.username === '' && u.password === '' && u.search === '' && u.hash === '', {
    message: 'must not hold credentials, a query or a fragment',
  });

/** Settings of the proxy function shared by every deployment. */
const proxyTuning = {
  IOTO_ENDPOINT: endpoint,
  /** `raw`: `Authorization: <token>` as documented; `bearer`: as the Ioto agent sends it. */
  IOTO_AUTH_SCHEME: zodEnum(['raw', 'bearer']).default('raw'),
  UPSTREAM_TIMEOUT_MS: integer(100, 28_000, 8_000),
  UPSTREAM_MAX_RESPONSE_BYTES: integer(1_024, 6_000_000, 1_048_576),
  UPSTREAM_RETRY_BASE_DELAY_MS: integer(0, 5_000, 200),
  TOKEN_CACHE_SECONDS: integer(0, 86_400, 300),
  PAGE_TOKEN_TTL_SECONDS: integer(60, 604_800, 3_600),
  PAGE_LIMIT_DEFAULT: integer(1, 1_000, 25),
  PAGE_LIMIT_MAX: integer(1, 1_000, 100),
  MAX_BODY_BYTES: integer(1_024, 10_485_760, 262_144),
};

const checkLimits = (e: { PAGE_LIMIT_DEFAULT: number; PAGE_LIMIT_MAX: number }) =>
  e.PAGE_LIMIT_DEFAULT <= e.PAGE_LIMIT_MAX;
const limitsMessage = {
  message: 'PAGE_LIMIT_DEFAULT must not exceed PAGE_LIMIT_MAX',
  path: ['PAGE_LIMIT_DEFAULT'],
};

/** The deployed proxy: the token and the page-token key come from Secrets Manager. */
export const awsProxyEnvSchema = object({
  ...proxyTuning,
  IOTO_TOKEN_SECRET_ID: string().min(1),
  PAGE_TOKEN_SECRET_ID: string().min(1),
  /** The access configuration as JSON (see `config/access.ts`); parsed by the handler. */
  ACCESS_CONFIG: string().min(2),
}).refine(checkLimits, limitsMessage);

/** The deployed authorizer: the access configuration is all it needs. */
export const awsAuthorizerEnvSchema = object({
  ACCESS_CONFIG: string().min(2),
});

/**
 * The local gateway. With `IOTO_ENDPOINT` unset it starts the embedded simulator; the token
 * comes from `IOTO_TOKEN` or `IOTO_TOKEN_FILE` (required when `IOTO_ENDPOINT` is set).
 */
export const localGatewayEnvSchema = object({
  ...proxyTuning,
  IOTO_ENDPOINT: endpoint.optional(),
  IOTO_TOKEN: string().min(1).optional(),
  IOTO_TOKEN_FILE: string().min(1).optional(),
  PORT: integer(0, 65_535, 3_000),
  SIMULATOR_PORT: integer(0, 65_535, 0),
  /** The access configuration file; the shipped development partners by default. */
  ACCESS_CONFIG_FILE: string().min(1).default('bin/local/dev-access.json'),
})
  .refine(checkLimits, limitsMessage)
  .refine((e) => e.IOTO_ENDPOINT === undefined || e.IOTO_TOKEN || e.IOTO_TOKEN_FILE, {
    message: 'set IOTO_TOKEN or IOTO_TOKEN_FILE to call a real Ioto cloud',
    path: ['IOTO_TOKEN'],
  });

export type AwsProxyEnv = ReturnType<typeof awsProxyEnvSchema.parse>;
export type LocalGatewayEnv = ReturnType<typeof localGatewayEnvSchema.parse>;

/** Parses `source` (default: `process.env`) and freezes the result; throws a ConfigurationError. */
export function readEnv<T>(
  schema: ZodType<T>,
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
