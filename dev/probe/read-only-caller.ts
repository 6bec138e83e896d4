import { catalog, type OperationKey, operationKey } from '../../lambda/catalog/index';
import { encodeUpstreamQuery, type UpstreamQuery } from '../../lambda/paging/upstream-query';
import { nodeTransport, type Transport } from '../../lambda/upstream/http-transport';
import { type AuthScheme, iotoHeaders } from '../../lambda/upstream/ioto-client';

/**
 * The only way `npm run probe` talks to Ioto: one POST of a find or get operation over the
 * proxy's own transport (`lambda/upstream/http-transport.ts`), with the headers the proxy sends
 * and its query-string encoding (`lambda/paging/upstream-query.ts`). Anything else is refused
 * before a byte is sent, so the probe cannot change a cloud whatever its checks ask for.
 */

/**
 * The operations the probe may call: the catalog's Ioto operations named `find` or `get` that
 * change nothing (account, action, alert, dashboard, device, generic and user). store/get is
 * left out: it is the proxy's translation onto generic/get, not an Ioto operation.
 */
export const READ_OPERATIONS: ReadonlySet<OperationKey> = new Set(
  catalog
    .filter(
      (op) =>
        (op.operation === 'find' || op.operation === 'get') &&
        !op.mutates &&
        op.upstream === undefined,
    )
    .map(operationKey),
);

export interface ReadRequest {
  /** `controller/operation`; must be one of {@link READ_OPERATIONS}. */
  readonly operation: OperationKey;
  readonly body: Readonly<Record<string, unknown>>;
  /** Paging options, written on the query string exactly as the proxy writes them. */
  readonly query?: UpstreamQuery;
  readonly scheme: AuthScheme;
  /** The `Origin` header to send, if any. */
  readonly origin?: string;
  /** Another token than the configured one (a made-up one, to see how Ioto refuses it). */
  readonly token?: string;
}

/** What one call came to: an answer (any status), or no answer at all. */
export type ReadOutcome =
  | {
      readonly kind: 'answered';
      readonly status: number;
      readonly contentType: string;
      readonly text: string;
    }
  | { readonly kind: 'failed'; readonly reason: string };

export interface ReadOnlyCallerOptions {
  /** Base URL of the device cloud API, without `/tok`. */
  readonly endpoint: URL;
  readonly token: string;
  /** Each call's own deadline. */
  readonly callTimeoutMs: number;
  /** Larger answers are not read (the call counts as failed). */
  readonly maxResponseBytes: number;
  /** The whole run's deadline: once it aborts, every call fails at once. */
  readonly deadline?: AbortSignal;
  /** @default Node's HTTP client, as the proxy's */
  readonly transport?: Transport;
}

/** A caller that can only read. */
export class ReadOnlyCaller {
  readonly #options: ReadOnlyCallerOptions;
  readonly #base: string;
  #calls = 0;

  constructor(options: ReadOnlyCallerOptions) {
    this.#options = options;
    this.#base = options.endpoint.href.replace(/\/+$/, '');
  }

  /** How many calls were sent so far. */
  get calls(): number {
    return this.#calls;
  }

  async read(request: ReadRequest): Promise<ReadOutcome> {
    if (!READ_OPERATIONS.has(request.operation)) {
      throw new Error(`The probe only reads; refusing to call ${request.operation}`);
    }
    const { callTimeoutMs, deadline } = this.#options;
    if (deadline?.aborted) return { kind: 'failed', reason: 'the probe ran out of time' };
    const signal =
      deadline === undefined
        ? AbortSignal.timeout(callTimeoutMs)
        : AbortSignal.any([AbortSignal.timeout(callTimeoutMs), deadline]);
    const token = request.token ?? this.#options.token;
    const url = new URL(
      `${this.#base}/tok/${request.operation}${encodeUpstreamQuery(request.query ?? {})}`,
    );
    this.#calls += 1;
    try {
      const response = await (this.#options.transport ?? nodeTransport)(url, {
        // The headers the proxy's Ioto client sends.
        headers: iotoHeaders(token, request.scheme, request.origin),
        body: JSON.stringify(request.body),
        signal,
      });
      const text = (await response.read(this.#options.maxResponseBytes)).toString('utf8');
      return {
        kind: 'answered',
        status: response.status,
        contentType: response.header('content-type') ?? '',
        text,
      };
    } catch (error) {
      if (signal.aborted) {
        return {
          kind: 'failed',
          reason: deadline?.aborted
            ? 'the probe ran out of time'
            : `no answer within ${callTimeoutMs} ms`,
        };
      }
      return { kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
    }
  }
}
