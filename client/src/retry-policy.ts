/**
 * When the client calls again: only on 429 and 503, the two statuses of the contract that mean
 * the request was not processed (README, "Errors"): API Gateway's `throttled` 429 and the 503s
 * `upstream_throttled` (Ioto refused it with its own 429), `authorizer_unavailable`,
 * `access_config_unavailable`, `token_unavailable` and `page_token_unavailable` are all answered
 * before Ioto acts. That makes a retry safe for every operation, writes included. Everything
 * else (a 502 or 504 may come after Ioto acted, a 4xx will not change) is never retried.
 */
import type { IotoBffError } from './ioto-bff-error.js';

/** Waits `ms` milliseconds, or rejects with the signal's reason when it aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** How the client retries 429 and 503; every field has a small default. */
export interface RetryOptions {
  /**
   * Attempts in all, the first included.
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * The longest single wait. An answer asking for longer (`Retry-After: 60` of the firewall) is
   * thrown at once instead of being waited for.
   * @default 5000
   */
  readonly maxDelayMs?: number;
  /**
   * Without `Retry-After`: the upper bound of the first full-jitter pause, doubled per retry.
   * @default 500
   */
  readonly baseDelayMs?: number;
  /** How to wait; tests pass one that records the wait and resolves at once. */
  readonly sleep?: Sleep;
}

/** A retry policy with every field set. */
export type RetryPolicy = Required<RetryOptions>;

/** The statuses that mean "not processed, try again later". */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** Waits with `setTimeout`, stopping early when `signal` aborts. */
export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  maxDelayMs: 5_000,
  baseDelayMs: 500,
  sleep,
};

/** The policy of the client options: the defaults, `false` for none, or the defaults overridden. */
export function retryPolicyOf(options: RetryOptions | false | undefined): RetryPolicy | undefined {
  if (options === false) return undefined;
  const policy = { ...DEFAULT_RETRY, ...options };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new RangeError('retry.maxAttempts must be an integer of 1 or more');
  }
  for (const name of ['maxDelayMs', 'baseDelayMs'] as const) {
    if (!Number.isFinite(policy[name]) || policy[name] < 0) {
      throw new RangeError(`retry.${name} must be a non-negative number`);
    }
  }
  return policy;
}

/**
 * A `Retry-After` value in milliseconds: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), a
 * date in the past being no wait. Anything else is undefined.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  const text = value?.trim();
  if (text === undefined || text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const date = Date.parse(text);
  // Date.parse also reads ISO strings and bare numbers; an HTTP-date names a weekday.
  if (Number.isNaN(date) || !/^[A-Za-z]{3,9},? /.test(text)) return undefined;
  return Math.max(0, date - nowMs);
}

/**
 * How long to wait before attempt `attempt + 1` after `error` ended attempt `attempt` (from 1),
 * or undefined when the call must not be made again: not a 429 or 503, a quota that is used
 * up (it lasts until the next day, week or month), no attempts left, or a wait over the bound.
 */
export function retryDelay(
  error: IotoBffError,
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (!RETRY_STATUSES.has(error.status) || error.code === 'quota_exceeded') return undefined;
  if (attempt >= policy.maxAttempts) return undefined;
  // Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter") when the answer
  // names no wait.
  const delay =
    error.retryAfterMs ??
    Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)));
  return delay > policy.maxDelayMs ? undefined : delay;
}
