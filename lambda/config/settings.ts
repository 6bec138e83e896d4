import { _default, type core, int, maximum, minimum, pipe, regex, string, transform } from './zod';

/**
 * Every tunable limit of the proxy, defined once: its name in the deployment configuration
 * (`limits` in lib/config.ts, validated at synth), the environment variable that carries it to
 * the function and the local gateway (validated at cold start), its bounds and its default. A
 * bound changed here changes both validations; {@link toEnvironment} and
 * {@link fromEnvironment} move between the two forms.
 */
interface LimitSpec {
  /** The environment variable. */
  readonly env: string;
  readonly min: number;
  readonly max: number;
  readonly default: number;
  readonly description: string;
}

export const PROXY_LIMITS = {
  upstreamTimeoutMs: {
    env: 'UPSTREAM_TIMEOUT_MS',
    min: 100,
    // API Gateway waits 29 s; the Lambda timeout (at most 28 s) must exceed the deadline.
    max: 27_000,
    default: 8_000,
    description:
      'Deadline of the whole Ioto exchange of one request: ownership checks, the call, its retry (ms).',
  },
  upstreamMaxResponseBytes: {
    env: 'UPSTREAM_MAX_RESPONSE_BYTES',
    min: 1_024,
    // Lambda's synchronous response payload limit is 6 MB.
    max: 6_000_000,
    default: 1_048_576,
    description: 'Larger Ioto replies are refused (upstream_error) instead of buffered (bytes).',
  },
  upstreamRetryBaseDelayMs: {
    env: 'UPSTREAM_RETRY_BASE_DELAY_MS',
    min: 0,
    max: 5_000,
    default: 200,
    description: 'Upper bound of the full-jitter pause before the one retry (ms).',
  },
  tokenCacheSeconds: {
    env: 'TOKEN_CACHE_SECONDS',
    min: 0,
    max: 86_400,
    default: 300,
    description:
      'How long the Ioto token and the page-token key read from their secrets are reused: a rotation reaches warm instances within it (s).',
  },
  pageTokenTtlSeconds: {
    env: 'PAGE_TOKEN_TTL_SECONDS',
    min: 60,
    max: 604_800,
    default: 3_600,
    description: 'Lifetime of a page token (s).',
  },
  pageLimitDefault: {
    env: 'PAGE_LIMIT_DEFAULT',
    min: 1,
    max: 1_000,
    default: 25,
    description: 'Page size of paged operations when the request gives no `limit`.',
  },
  pageLimitMax: {
    env: 'PAGE_LIMIT_MAX',
    min: 1,
    max: 1_000,
    default: 100,
    description: 'Largest `limit` a request may ask for.',
  },
  maxBodyBytes: {
    env: 'MAX_BODY_BYTES',
    min: 1_024,
    // Lambda's synchronous request payload limit is 6 MB.
    max: 6_000_000,
    default: 262_144,
    description: 'Largest accepted request body (bytes).',
  },
  idempotencyWindowSeconds: {
    env: 'IDEMPOTENCY_WINDOW_SECONDS',
    // At least the longest a write can run; at most a week of stored answers.
    min: 60,
    max: 604_800,
    default: 86_400,
    description:
      'How long the answer to a write with an Idempotency-Key is kept and replayed for the same key (s).',
  },
} as const satisfies Record<string, LimitSpec>;

export type ProxyLimitName = keyof typeof PROXY_LIMITS;
/** The proxy's limits, as the code uses them. */
export type ProxyLimits = { readonly [K in ProxyLimitName]: number };
/** The environment variable of each limit. */
export type ProxyLimitVariable = (typeof PROXY_LIMITS)[ProxyLimitName]['env'];

const NAMES = Object.keys(PROXY_LIMITS) as ProxyLimitName[];

/**
 * The time the proxy keeps to answer after its upstream exchange: the function's timeout stays
 * this far above `UPSTREAM_TIMEOUT_MS` (checked at synth), and at run time a request's deadline
 * never reaches closer than this to the end of the function's remaining time.
 */
export const DEADLINE_MARGIN_MS = 1_000;

/** The rules between limits; `name` maps a limit to how the caller calls it in messages. */
function checkLimits(
  limits: ProxyLimits,
  ctx: core.$RefinementCtx,
  name: (limit: ProxyLimitName) => string,
): void {
  if (limits.pageLimitDefault > limits.pageLimitMax) {
    ctx.addIssue({
      code: 'custom',
      path: [name('pageLimitDefault')],
      message: `must not exceed ${name('pageLimitMax')}`,
    });
  }
}

/** A whole number within bounds, or its default when left out. */
const configInteger = (spec: LimitSpec) =>
  _default(int().check(minimum(spec.min), maximum(spec.max)), spec.default);

/**
 * The limits as the deployment configuration writes them: numbers under their camelCase names,
 * each with its default. Extend it with deployment-only fields and refine with
 * {@link checkProxyLimits}.
 */
export const proxyLimitsShape = Object.fromEntries(
  NAMES.map((name) => [name, configInteger(PROXY_LIMITS[name])]),
) as { readonly [K in ProxyLimitName]: ReturnType<typeof configInteger> };

/** The rules between limits, for a schema built on {@link proxyLimitsShape}. */
export const checkProxyLimits = (limits: ProxyLimits, ctx: core.$RefinementCtx): void =>
  checkLimits(limits, ctx, (limit) => limit);

/**
 * Whether a function timeout leaves room for the upstream deadline and its bookkeeping
 * ({@link DEADLINE_MARGIN_MS}): the deployment configuration checks it at synth.
 */
export const deadlineFits = (upstreamTimeoutMs: number, functionTimeoutSeconds: number): boolean =>
  upstreamTimeoutMs + DEADLINE_MARGIN_MS <= functionTimeoutSeconds * 1_000;

/** An environment variable holding a whole number within bounds, or its default when unset. */
const envInteger = (spec: LimitSpec) =>
  pipe(
    pipe(
      _default(string().check(regex(/^\d+$/, 'must be a whole number')), String(spec.default)),
      transform(Number),
    ),
    int().check(minimum(spec.min), maximum(spec.max)),
  );

/**
 * The limits as environment variables: a zod shape to spread into an environment schema (each
 * variable validated with the same bounds as the deployment configuration), and to check with
 * {@link checkLimitVariables}.
 */
export const proxyLimitVariablesShape = Object.fromEntries(
  NAMES.map((name) => [PROXY_LIMITS[name].env, envInteger(PROXY_LIMITS[name])]),
) as { readonly [K in ProxyLimitVariable]: ReturnType<typeof envInteger> };

/** The parsed limit variables of an environment. */
export type ProxyLimitVariables = { readonly [K in ProxyLimitVariable]: number };

/** The rules between limits, for an environment schema built on the variables shape. */
export const checkLimitVariables = (
  variables: ProxyLimitVariables,
  ctx: core.$RefinementCtx,
): void => checkLimits(fromEnvironment(variables), ctx, (limit) => PROXY_LIMITS[limit].env);

/** The environment variables that carry `limits` to a function (all of them, as text). */
export function toEnvironment(limits: ProxyLimits): Record<ProxyLimitVariable, string> {
  return Object.fromEntries(
    NAMES.map((name) => [PROXY_LIMITS[name].env, String(limits[name])]),
  ) as Record<ProxyLimitVariable, string>;
}

/** The limits of a parsed environment (see {@link proxyLimitVariablesShape}). */
export function fromEnvironment(variables: ProxyLimitVariables): ProxyLimits {
  return Object.freeze(
    Object.fromEntries(NAMES.map((name) => [name, variables[PROXY_LIMITS[name].env]])),
  ) as ProxyLimits;
}
