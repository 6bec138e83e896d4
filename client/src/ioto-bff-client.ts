/**
 * The partner client: one typed `call` per operation of the contract, `paginate` over paged
 * ones, problems thrown as {@link IotoBffError}, and a bounded retry of 429 and 503. It needs
 * nothing but `fetch` and `AbortSignal.any` (Node 20.3+, browsers, Deno, Bun).
 */
import { IotoBffError, parseJson, problemError } from './ioto-bff-error.js';
import type {
  OperationKey,
  PagedOperationKey,
  PageItem,
  RequestBody,
  SuccessBody,
} from './operations.js';
import { parseRetryAfter, type RetryOptions, retryDelay, retryPolicyOf } from './retry-policy.js';

/** Returns an access token; called before every attempt, so it can refresh one that expired. */
export type TokenFunction = () => string | Promise<string>;

/** How {@link createIotoBffClient} reaches the gateway. */
export interface IotoBffClientOptions {
  /**
   * The base URL of the API, stage included (`https://api.example.com/prod`, or
   * `http://127.0.0.1:3000` for `npm start`); `/v1/{controller}/{operation}` is appended.
   */
  readonly baseUrl: string | URL;
  /** An access token, or a function returning one (see `clientCredentialsToken`). */
  readonly token: string | TokenFunction;
  /**
   * The `fetch` to use.
   * @default globalThis.fetch
   */
  readonly fetch?: typeof fetch;
  /**
   * Retry of 429 and 503 (the request was not processed), honouring `Retry-After`; `false`
   * turns it off.
   * @default { maxAttempts: 3, maxDelayMs: 5000, baseDelayMs: 500 }
   */
  readonly retry?: RetryOptions | false;
  /**
   * Deadline of one attempt, answer body included (API Gateway gives up after 29 s).
   * @default 30000
   */
  readonly timeoutMs?: number;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call, including a wait before a retry; the call rejects with its reason. */
  readonly signal?: AbortSignal;
  /**
   * Your own id of the call, sent as `x-request-id`. When well-formed (8–128 characters of
   * `A-Z a-z 0-9 . _ : -`) the gateway logs it (`clientRequestId`) and echoes it in
   * `x-client-request-id`, so you can correlate with your logs; the gateway's own request id
   * (`IotoBffError.requestId`, `x-request-id` of the answer) stays its own.
   */
  readonly requestId?: string;
  /**
   * Sent as `Idempotency-Key` (1 to 255 characters of `A-Z a-z 0-9 . _ : -`), on operations that
   * change the cloud: a retry with the same key and body gets the first answer again instead of
   * a second write (the gateway's README, "Safe writes"). Reuse it for the retries of one
   * request, never for another request. The client's own 429/503 retries send it too.
   */
  readonly idempotencyKey?: string;
}

/** The body and options of a call: the body may be left out when every field is optional. */
export type CallArgs<K extends OperationKey> =
  Record<string, never> extends RequestBody<K>
    ? [body?: RequestBody<K>, options?: CallOptions]
    : [body: RequestBody<K>, options?: CallOptions];

/** A client of the ioto-bff partner API. */
export interface IotoBffClient {
  /**
   * Calls one operation and resolves to its whole success answer: `{ data }`, or for paged
   * operations `{ data, nextPageToken, prevPageToken }`. Rejects with an {@link IotoBffError}.
   */
  call<K extends OperationKey>(operation: K, ...args: CallArgs<K>): Promise<SuccessBody<K>>;
  /**
   * Every item of a paged operation, page after page: it sends the body, then the same body
   * with each `nextPageToken` as `pageToken`, until there is none. `limit` sets the page size.
   */
  paginate<K extends PagedOperationKey>(
    operation: K,
    ...args: CallArgs<K>
  ): AsyncGenerator<PageItem<K>, void, undefined>;
}

const OPERATION = /^[A-Za-z]+\/[A-Za-z]+$/;
const DEFAULT_TIMEOUT_MS = 30_000;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The message of an error and its causes: undici's `fetch failed` says why only in `cause`. */
const messageOf = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  return error.cause === undefined ? error.message : `${error.message}: ${messageOf(error.cause)}`;
};

/**
 * A client of the partner API at `baseUrl`. Every call is `POST /v1/{controller}/{operation}`
 * with a JSON body and `Authorization: Bearer <token>`.
 */
export function createIotoBffClient(options: IotoBffClientOptions): IotoBffClient {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const retry = retryPolicyOf(options.retry);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError('timeoutMs must be a positive number');
  }
  const base = `${String(options.baseUrl).replace(/\/+$/, '')}/v1/`;
  const tokenOf = async (): Promise<string> =>
    typeof options.token === 'string' ? options.token : await options.token();

  /** One attempt: the success body, or the error of the answer (thrown when there was none). */
  const attempt = async (
    url: string,
    payload: string,
    callOptions: CallOptions,
  ): Promise<Record<string, unknown> | IotoBffError> => {
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      authorization: `Bearer ${await tokenOf()}`,
      'content-type': 'application/json',
    };
    if (callOptions.requestId !== undefined) headers['x-request-id'] = callOptions.requestId;
    if (callOptions.idempotencyKey !== undefined) {
      headers['idempotency-key'] = callOptions.idempotencyKey;
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callOptions.signal ? AbortSignal.any([callOptions.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      // Never follow a redirect: the gateway sends none, and the token must not go elsewhere.
      response = await fetchFn(url, {
        method: 'POST',
        headers,
        body: payload,
        signal,
        redirect: 'error',
      });
      text = await response.text();
    } catch (cause) {
      if (callOptions.signal?.aborted) throw callOptions.signal.reason;
      if (timeout.aborted) {
        throw new IotoBffError(
          {
            status: 0,
            code: 'timeout',
            title: 'Timeout',
            detail: `No answer within ${timeoutMs} ms.`,
          },
          { cause },
        );
      }
      throw new IotoBffError(
        { status: 0, code: 'network_error', title: 'Network error', detail: messageOf(cause) },
        { cause },
      );
    }
    const requestIdHeader = response.headers.get('x-request-id');
    if (response.ok) {
      const body = parseJson(text);
      if (isRecord(body) && 'data' in body) return body;
      throw new IotoBffError({
        status: response.status,
        code: 'unexpected_response',
        title: 'Unexpected response',
        detail: `HTTP ${response.status} without a JSON {data} body.`,
        requestId: requestIdHeader ?? undefined,
      });
    }
    return problemError({
      status: response.status,
      contentType: response.headers.get('content-type'),
      requestIdHeader,
      text,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), Date.now()),
    });
  };

  const send = async (
    operation: string,
    body: unknown,
    callOptions: CallOptions = {},
  ): Promise<Record<string, unknown>> => {
    if (!OPERATION.test(operation)) {
      throw new TypeError(`not an operation of the form controller/operation: ${operation}`);
    }
    const url = `${base}${operation}`;
    const payload = JSON.stringify(body ?? {});
    for (let attempts = 1; ; attempts += 1) {
      const result = await attempt(url, payload, callOptions);
      if (!(result instanceof IotoBffError)) return result;
      const delay = retry && retryDelay(result, attempts, retry);
      if (delay === undefined) throw result;
      await retry?.sleep(delay, callOptions.signal);
    }
  };

  async function* pages(
    operation: string,
    body: unknown,
    callOptions: CallOptions | undefined,
  ): AsyncGenerator<unknown, void, undefined> {
    const fields = isRecord(body) ? body : {};
    let pageToken: unknown = fields.pageToken;
    for (;;) {
      const page = await send(
        operation,
        pageToken === undefined ? fields : { ...fields, pageToken },
        callOptions,
      );
      if (Array.isArray(page.data)) yield* page.data;
      else if (page.data !== null && page.data !== undefined) yield page.data;
      const next = page.nextPageToken;
      if (typeof next !== 'string') return;
      if (next === pageToken) {
        throw new IotoBffError({
          status: 200,
          code: 'unexpected_response',
          title: 'Unexpected response',
          detail: 'The answer names the page it answers as the next one.',
        });
      }
      pageToken = next;
    }
  }

  return {
    call: <K extends OperationKey>(operation: K, ...args: CallArgs<K>) =>
      send(operation, args[0], args[1]) as Promise<SuccessBody<K>>,
    paginate: <K extends PagedOperationKey>(operation: K, ...args: CallArgs<K>) =>
      pages(operation, args[0], args[1]) as AsyncGenerator<PageItem<K>, void, undefined>,
  };
}
