import { encodeUpstreamQuery, type UpstreamQuery } from '../paging/upstream-query';
import {
  ProblemError,
  UpstreamAuthFailedError,
  UpstreamError,
  UpstreamFailedError,
  UpstreamRejectedError,
  UpstreamThrottledError,
  UpstreamTimeoutError,
} from '../problems/problem-error';
import {
  BodyTooLargeError,
  nodeTransport,
  type Transport,
  type TransportResponse,
} from './http-transport';
import type { TokenProvider } from './token-provider';
import { retryDelayOf, upstreamMessage } from './upstream-message';

/** How the CloudAPI token is written in `Authorization` (docs/ioto-api.md §2.2, open question §10.7). */
export type AuthScheme = 'raw' | 'bearer';

export interface IotoClientOptions {
  /** Base URL of the device cloud's API, without `/tok` (docs/ioto-api.md §2.1). */
  readonly endpoint: URL;
  readonly tokens: TokenProvider;
  /** `raw` sends `Authorization: <token>` as the reference documents; `bearer` as the agent does. */
  readonly authScheme: AuthScheme;
  /**
   * Deadline of a call that brings none of its own (`UpstreamCall.signal`), retry included.
   * The proxy gives every call of one partner request the same, shared deadline instead.
   */
  readonly deadlineMs: number;
  /** Larger replies are refused (treated as an upstream error), not buffered. */
  readonly maxResponseBytes: number;
  /** Upper bound of the full-jitter pause before the single retry. */
  readonly retryBaseDelayMs: number;
  /**
   * The `Origin` header sent with every call: the older Ioto overview asks for it on every
   * request (docs/ioto-api.md §2.2); the newer pages only for login tokens.
   * @default no `Origin` header
   */
  readonly origin?: string;
  /** @default Node's HTTP client ({@link nodeTransport}) */
  readonly transport?: Transport;
  readonly random?: () => number;
}

export interface UpstreamCall {
  readonly controller: string;
  readonly operation: string;
  readonly body: Readonly<Record<string, unknown>>;
  readonly query: UpstreamQuery;
  /** Only operations marked safe to retry are retried after a network error or a 5xx. */
  readonly retrySafe: boolean;
  /**
   * The deadline of the partner request this call belongs to, shared by every Ioto call it
   * makes (ownership checks, the call, its retry).
   * @default a deadline of `deadlineMs` for this call alone
   */
  readonly signal?: AbortSignal;
  /** Told the status of each answer Ioto gives this call (retries included), for the audit. */
  readonly onAnswer?: (status: number) => void;
  /**
   * The operation reports its own failures as `{error}` in a JSON answer (catalog
   * `errorInBody`): such an error answer is the operation's failure, not a refused request.
   */
  readonly errorInBody?: boolean;
}

/** A successful (2xx) Ioto reply, body as text: the normalizer decides what it may contain. */
export interface UpstreamReply {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

/** What the caller may log about the exchange: never headers, never bodies. */
export interface UpstreamOutcome {
  readonly attempts: number;
  readonly tokenRefreshed: boolean;
}

/** How much of an error answer is read to find its message. */
const ERROR_BODY_BYTES = 4096;

/**
 * What the proxy calls itself in `User-Agent`: its name and version (kept equal to package.json
 * by a test).
 */
export const USER_AGENT = 'ioto-bff/0.1.0';

/** A route segment as Ioto spells controllers and operations: never taken raw from a client. */
const SEGMENT = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

class RetryableFailure extends Error {}

/**
 * Forwards one call to Ioto: `POST {endpoint}/tok/{controller}/{operation}` with the CloudAPI
 * token, only our own headers, a deadline, no redirects and a size cap. Retries once (full
 * jitter, https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/) after a
 * network error or 5xx when the operation is safe to retry; after a 401/403 refreshes the
 * token once and tries again. Every failure leaves as a {@link ProblemError}.
 */
export class IotoClient {
  readonly #options: IotoClientOptions;
  readonly #transport: Transport;
  readonly #random: () => number;
  readonly #base: string;

  constructor(options: IotoClientOptions) {
    this.#options = options;
    this.#transport = options.transport ?? nodeTransport;
    this.#random = options.random ?? Math.random;
    this.#base = options.endpoint.href.replace(/\/+$/, '');
  }

  async call(call: UpstreamCall): Promise<UpstreamReply & UpstreamOutcome> {
    if (!SEGMENT.test(call.controller) || !SEGMENT.test(call.operation)) {
      // The catalog is the only source of these names; anything else is a bug, not input.
      throw new Error(
        `Refusing to call a malformed Ioto route ${call.controller}/${call.operation}`,
      );
    }
    const url = `${this.#base}/tok/${call.controller}/${call.operation}${encodeUpstreamQuery(call.query)}`;
    const payload = JSON.stringify(call.body);
    const signal = call.signal ?? AbortSignal.timeout(this.#options.deadlineMs);
    if (signal.aborted) throw new UpstreamTimeoutError({ cause: signal.reason });
    // The token read shares the deadline: a slow Secrets Manager ends the wait on time (the
    // read itself goes on and fills the cache for the next request).
    let token = await withinDeadline(this.#options.tokens.getToken(), signal);
    let attempts = 0;
    let retried = false;
    let tokenRefreshed = false;

    for (;;) {
      attempts += 1;
      try {
        const reply = await this.#send(url, payload, token, signal, call);
        if (reply.status === 401 || reply.status === 403) {
          if (tokenRefreshed) {
            throw new UpstreamAuthFailedError({
              cause: new Error(`Ioto answered ${reply.status} after a token refresh`),
            });
          }
          tokenRefreshed = true;
          token = await withinDeadline(this.#options.tokens.refreshToken(token), signal);
          continue;
        }
        return { ...reply, attempts, tokenRefreshed };
      } catch (error) {
        if (signal.aborted) throw new UpstreamTimeoutError({ cause: error });
        if (!(error instanceof RetryableFailure)) throw error;
        if (!call.retrySafe || retried) throw new UpstreamError({ cause: error.cause ?? error });
        retried = true;
        await this.#pause(signal);
      }
    }
  }

  async #send(
    url: string,
    payload: string,
    token: string,
    signal: AbortSignal,
    call: Pick<UpstreamCall, 'errorInBody' | 'onAnswer'>,
  ): Promise<UpstreamReply> {
    const errorInBody = call.errorInBody === true;
    let response: TransportResponse;
    try {
      response = await this.#transport(new URL(url), {
        headers: iotoHeaders(token, this.#options.authScheme, this.#options.origin),
        body: payload,
        signal,
      });
    } catch (error) {
      throw new RetryableFailure('Ioto could not be reached', { cause: error });
    }
    const status = response.status;
    call.onAnswer?.(status);
    const contentType = response.header('content-type') ?? '';
    // The status, and never the body, explains a failure in the log (through the cause). Made
    // only on a failure: an Error captures a stack, which a successful call must not pay for.
    const answered = () => new Error(`Ioto answered ${status}`);
    if (status === 401 || status === 403) {
      response.discard();
      return { status, contentType: '', text: '' };
    }
    if (status >= 500) {
      response.discard();
      throw new RetryableFailure(`Ioto answered ${status}`);
    }
    if (status === 429 || status === 400 || status === 409 || status === 422) {
      const text = await this.#read(response, ERROR_BODY_BYTES).catch(() => '');
      const message = upstreamMessage(text, contentType, token);
      // Ioto asks to wait (a 429, or `{error, delay}` as device/provision answers): a 503 that
      // says how long, with Ioto's reason.
      const delay = retryDelayOf(text, contentType);
      if (status === 429 || delay !== undefined) {
        throw new UpstreamThrottledError({
          headers: { 'retry-after': String(delay ?? 1) },
          ...(message !== undefined && { detail: `Ioto asks to wait: ${message}` }),
          cause: answered(),
        });
      }
      // An operation that reports its failures as `{error}` (an automated action that failed):
      // the operation failed, whatever the status it came with.
      if (errorInBody && /\bjson\b/i.test(contentType) && message !== undefined) {
        throw new UpstreamFailedError({
          detail: `Ioto reports that the operation failed: ${message}`,
          cause: answered(),
        });
      }
      // The request was refused as it stands (bad input, a conflict with the data, a rule of
      // Ioto's): the partner's to fix, so a 400 with Ioto's message when it has one.
      throw new UpstreamRejectedError({
        ...(message !== undefined && { detail: `Ioto rejected the request: ${message}` }),
        cause: answered(),
      });
    }
    if (status < 200 || status >= 300) {
      // 3xx (redirects are never followed), 404, 405 and other 4xx Ioto does not document: the
      // configured endpoint or Ioto is wrong, not the partner's request.
      response.discard();
      throw new UpstreamError({ cause: answered() });
    }
    const text = await this.#read(response, this.#options.maxResponseBytes);
    // An answer that quotes the gateway's own credential is never passed on, in any form.
    if (token !== '' && text.includes(token)) {
      throw new UpstreamError({ cause: new Error('Ioto echoed the CloudAPI token in its answer') });
    }
    return { status, contentType, text };
  }

  /** The body as text, at most `limit` bytes: larger is an upstream error, cut off a retry. */
  async #read(response: TransportResponse, limit: number): Promise<string> {
    try {
      return (await response.read(limit)).toString('utf8');
    } catch (error) {
      if (error instanceof BodyTooLargeError) throw new UpstreamError({ cause: error });
      throw new RetryableFailure('Ioto reply was cut off', { cause: error });
    }
  }

  #pause(signal: AbortSignal): Promise<void> {
    const delay = Math.floor(this.#random() * this.#options.retryBaseDelayMs);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, delay);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new UpstreamTimeoutError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * `work`, or a 504 `upstream_timeout` as soon as `signal` aborts, whichever comes first; `work`
 * itself is not cancelled (a token read that outlives the request still fills the cache).
 */
function withinDeadline<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new UpstreamTimeoutError({ cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new UpstreamTimeoutError({ cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Exactly the headers Ioto gets (HTTP itself adds host, content-length and connection): the
 * token in the configured scheme, JSON both ways, the proxy's name, and `Origin` when set.
 */
export function iotoHeaders(
  token: string,
  scheme: AuthScheme,
  origin: string | undefined,
): Record<string, string> {
  return {
    accept: 'application/json',
    authorization: scheme === 'bearer' ? `bearer ${token}` : token,
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    ...(origin !== undefined && { origin }),
  };
}
