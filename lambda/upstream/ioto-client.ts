import { encodeUpstreamQuery, type UpstreamQuery } from '../paging/upstream-query';
import {
  ProblemError,
  UpstreamAuthFailedError,
  UpstreamError,
  UpstreamRejectedError,
  UpstreamThrottledError,
  UpstreamTimeoutError,
} from '../problems/problem-error';
import type { TokenProvider } from './token-provider';

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
  readonly fetch?: typeof fetch;
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

/** Ioto error text shown to partners must be short, printable prose (docs/ioto-api.md §2.8). */
const SAFE_UPSTREAM_TEXT = /^[\p{L}\p{N} .,:;'"()_\-/#@!?]{1,200}$/u;

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
  readonly #fetch: typeof fetch;
  readonly #random: () => number;
  readonly #base: string;

  constructor(options: IotoClientOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
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
    let token = await this.#options.tokens.getToken();
    let attempts = 0;
    let retried = false;
    let tokenRefreshed = false;

    for (;;) {
      attempts += 1;
      try {
        const reply = await this.#send(url, payload, token, signal);
        if (reply.status === 401 || reply.status === 403) {
          if (tokenRefreshed) {
            throw new UpstreamAuthFailedError({
              cause: new Error(`Ioto answered ${reply.status} after a token refresh`),
            });
          }
          tokenRefreshed = true;
          token = await this.#options.tokens.refreshToken(token);
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
  ): Promise<UpstreamReply> {
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: 'POST',
        headers: {
          accept: 'application/json',
          authorization: this.#options.authScheme === 'bearer' ? `bearer ${token}` : token,
          'content-type': 'application/json',
          'user-agent': 'ioto-bff',
        },
        body: payload,
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      throw new RetryableFailure('Ioto could not be reached', { cause: error });
    }
    const status = response.status;
    if (status === 401 || status === 403) {
      await response.body?.cancel();
      return { status, contentType: '', text: '' };
    }
    if (status >= 500) {
      await response.body?.cancel();
      throw new RetryableFailure(`Ioto answered ${status}`);
    }
    if (status === 429) {
      await response.body?.cancel();
      throw new UpstreamThrottledError();
    }
    const contentType = response.headers.get('content-type') ?? '';
    if (status === 400) {
      const text = await this.#readCapped(response, 4096).catch(() => '');
      throw new UpstreamRejectedError(safeRejection(text, contentType, token));
    }
    if (status < 200 || status >= 300) {
      // 3xx (redirects are refused), 404 and other 4xx: our configuration or Ioto is wrong.
      await response.body?.cancel();
      throw new UpstreamError({ cause: new Error(`Ioto answered ${status}`) });
    }
    const text = await this.#readCapped(response, this.#options.maxResponseBytes);
    return { status, contentType, text };
  }

  /** Reads at most `limit` bytes, and aborts the transfer as soon as the reply is larger. */
  async #readCapped(response: Response, limit: number): Promise<string> {
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > limit) {
      await response.body?.cancel();
      throw new UpstreamError({
        cause: new Error(`Ioto reply of ${declared} bytes is over the cap`),
      });
    }
    if (response.body === null) return '';
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limit) {
          await reader.cancel();
          throw new UpstreamError({ cause: new Error('Ioto reply is over the size cap') });
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof ProblemError) throw error;
      throw new RetryableFailure('Ioto reply was cut off', { cause: error });
    }
    return Buffer.concat(chunks).toString('utf8');
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

/** Ioto's 400 text is passed on only when it is short, plain prose; otherwise a generic detail. */
function safeRejection(
  text: string,
  contentType: string,
  token: string,
): { detail: string } | undefined {
  const trimmed = text.trim();
  if (
    !contentType.toLowerCase().startsWith('text/plain') ||
    !SAFE_UPSTREAM_TEXT.test(trimmed) ||
    trimmed.includes(token)
  ) {
    return undefined;
  }
  return { detail: `Ioto rejected the request: ${trimmed}` };
}
