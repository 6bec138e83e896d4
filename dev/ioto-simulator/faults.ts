/**
 * Switchable upstream failures, so integration tests can drive the proxy's retry, timeout,
 * size-limit and error-mapping paths against a real socket.
 */

/**
 * The statuses `failNext` can answer: Ioto's 500 and 403 (docs/ioto-api.md §2.8), API Gateway's
 * 401, 429, 502 and 503 in front of it, and statuses Ioto does not document (404, 418) that a
 * proxy must still survive.
 */
export type FaultStatus = 401 | 403 | 404 | 418 | 429 | 500 | 502 | 503;

/**
 * Faults to inject. Queued faults apply in the order they were queued; each request whose path
 * starts with `/tok/` consumes at most one. `delayMs` applies to every response.
 */
export interface SimulatorFaults {
  /** Milliseconds to wait before every response (and before a reset); 0 by default. */
  delayMs: number;
  /** The next `count` requests get `status` with a `text/plain` body. */
  failNext(count: number, status?: FaultStatus, body?: string): void;
  /**
   * The next `count` requests get `status` with `body` as JSON: the shapes Ioto reports some
   * failures in (`{error}`, `{error, delay}`, docs/ioto-api.md §2.8), with any status. With
   * `operation` (`controller/operation`), only requests to it count (others pass unfaulted).
   */
  jsonNext(count: number, status: number, body: unknown, operation?: string): void;
  /** The next `count` requests get a 302 to `location` (a client must not follow it). */
  redirectNext(count: number, location: string): void;
  /**
   * Milliseconds to wait before every response to one operation (`controller/operation`), on
   * top of `delayMs`; 0 removes it.
   */
  delayOperation(operation: string, ms: number): void;
  /** The next `count` requests: the socket is destroyed without any response. */
  resetNext(count: number): void;
  /** The next `count` requests get 200 `application/json` with a truncated body. */
  malformedNext(count: number): void;
  /** The next `count` requests get 200 `application/json` with a valid body of `bytes` bytes. */
  oversizeNext(count: number, bytes: number): void;
  /** Drops queued faults and sets `delayMs` back to 0. */
  clear(): void;
}

/** One queued fault, as the server applies it. */
export type Fault =
  | { readonly kind: 'fail'; readonly status: FaultStatus; readonly body: string }
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'json'; readonly status: number; readonly body: string }
  | { readonly kind: 'reset' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'oversize'; readonly bytes: number };

/** The body `malformedNext` answers: JSON cut off mid-array. */
export const MALFORMED_BODY = '{"data": [';

/** Upper bound for `oversizeNext`, so a typo cannot make the simulator stream gigabytes. */
export const MAX_OVERSIZE_BYTES = 256 * 1024 * 1024;

const DEFAULT_FAIL_BODY: Readonly<Record<FaultStatus, string>> = {
  401: 'Unauthorized',
  403: 'Authentication failed',
  404: 'Not found',
  418: "I'm a teapot",
  429: 'Too many requests',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
};

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError('count must be a non-negative integer');
  }
}

/** The queue behind {@link SimulatorFaults}: runs of the same fault, consumed one by one. */
export class FaultQueue implements SimulatorFaults {
  private delay = 0;
  private readonly operationDelays = new Map<string, number>();
  private readonly runs: { fault: Fault; remaining: number; operation?: string }[] = [];

  get delayMs(): number {
    return this.delay;
  }

  set delayMs(value: number) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError('delayMs must be a non-negative number');
    }
    this.delay = value;
  }

  failNext(count: number, status: FaultStatus = 500, body?: string): void {
    if (!Object.hasOwn(DEFAULT_FAIL_BODY, status)) {
      throw new RangeError(`status must be one of ${Object.keys(DEFAULT_FAIL_BODY).join(', ')}`);
    }
    this.enqueue(count, { kind: 'fail', status, body: body ?? DEFAULT_FAIL_BODY[status] });
  }

  jsonNext(count: number, status: number, body: unknown, operation?: string): void {
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError('status must be an HTTP status from 200 to 599');
    }
    this.enqueue(count, { kind: 'json', status, body: JSON.stringify(body) }, operation);
  }

  redirectNext(count: number, location: string): void {
    this.enqueue(count, { kind: 'redirect', location });
  }

  delayOperation(operation: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('ms must be a non-negative number');
    if (ms === 0) this.operationDelays.delete(operation);
    else this.operationDelays.set(operation, ms);
  }

  /** The wait before answering `operation`: `delayMs` plus its own delay. */
  delayOf(operation: string | undefined): number {
    return this.delay + (operation === undefined ? 0 : (this.operationDelays.get(operation) ?? 0));
  }

  resetNext(count: number): void {
    this.enqueue(count, { kind: 'reset' });
  }

  malformedNext(count: number): void {
    this.enqueue(count, { kind: 'malformed' });
  }

  oversizeNext(count: number, bytes: number): void {
    if (!Number.isInteger(bytes) || bytes < 0 || bytes > MAX_OVERSIZE_BYTES) {
      throw new RangeError(`bytes must be an integer from 0 to ${MAX_OVERSIZE_BYTES}`);
    }
    this.enqueue(count, { kind: 'oversize', bytes });
  }

  clear(): void {
    this.runs.length = 0;
    this.delay = 0;
    this.operationDelays.clear();
  }

  /** The fault for the next `/tok/` request, if one is queued. */
  take(operation?: string): Fault | undefined {
    const index = this.runs.findIndex(
      (run) => run.operation === undefined || run.operation === operation,
    );
    const run = this.runs[index];
    if (run === undefined) return undefined;
    run.remaining -= 1;
    if (run.remaining === 0) this.runs.splice(index, 1);
    return run.fault;
  }

  private enqueue(count: number, fault: Fault, operation?: string): void {
    checkCount(count);
    if (count > 0) this.runs.push({ fault, remaining: count, ...(operation && { operation }) });
  }
}

/**
 * A valid JSON text of exactly `bytes` bytes, so oversize answers exercise size limits, not
 * parsing: `{"data":"xxx…"}` from 11 bytes, a JSON string from 2, `0` for 1, nothing for 0.
 */
export function oversizeParts(bytes: number): { head: string; fill: number; tail: string } {
  if (bytes >= 11) return { head: '{"data":"', fill: bytes - 11, tail: '"}' };
  if (bytes >= 2) return { head: '"', fill: bytes - 2, tail: '"' };
  return { head: bytes === 1 ? '0' : '', fill: 0, tail: '' };
}
