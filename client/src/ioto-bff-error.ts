/**
 * The one error the client throws for a failed call: an RFC 9457 problem of the gateway as it
 * came, or a stand-in with a client-side `code` when there was no problem document to read.
 */

/** One entry of a problem's `errors[]`: a JSON Pointer into the request body and a message. */
export interface ProblemFieldError {
  readonly path: string;
  readonly message: string;
}

/**
 * Codes the client itself sets, next to the gateway's own (`validation_failed`,
 * `operation_not_allowed`, ...: see the README's error table):
 * - `unexpected_response`: an answer that is not the contract's (no problem document, such as a
 *   bare 502 page of a load balancer, or a success that is not `{data}` JSON);
 * - `network_error`: no answer at all (connection refused or reset, DNS); `status` is 0;
 * - `timeout`: no answer within the client's `timeoutMs`; `status` is 0;
 * - `token_request_failed`: the OAuth token endpoint refused or failed (`clientCredentialsToken`).
 */
export type ClientErrorCode =
  | 'unexpected_response'
  | 'network_error'
  | 'timeout'
  | 'token_request_failed';

/** What an {@link IotoBffError} is made of. */
export interface IotoBffErrorInit {
  /** The HTTP status; 0 when no answer arrived. */
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly requestId?: string | undefined;
  readonly errors?: readonly ProblemFieldError[];
  /** The problem's `type` URI, when the answer was a problem document. */
  readonly type?: string | undefined;
  /** The wait the answer asked for (`Retry-After`), in milliseconds. */
  readonly retryAfterMs?: number | undefined;
}

/**
 * A call that did not succeed. `code` is stable and is what to branch on; quote `requestId`
 * when asking the operator about a failure.
 */
export class IotoBffError extends Error {
  override readonly name = 'IotoBffError';
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly requestId: string | undefined;
  readonly errors: readonly ProblemFieldError[];
  readonly type: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(init: IotoBffErrorInit, options?: { cause?: unknown }) {
    const request = init.requestId === undefined ? '' : ` (request ${init.requestId})`;
    super(`${init.status} ${init.code}: ${init.detail}${request}`, options);
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.requestId = init.requestId;
    this.errors = init.errors ?? [];
    this.type = init.type;
    this.retryAfterMs = init.retryAfterMs;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stringOr = (value: unknown, fallback: string): string =>
  typeof value === 'string' && value !== '' ? value : fallback;

const fieldErrorsOf = (value: unknown): ProblemFieldError[] =>
  Array.isArray(value)
    ? value.filter(
        (item): item is ProblemFieldError =>
          isRecord(item) && typeof item.path === 'string' && typeof item.message === 'string',
      )
    : [];

/** The parts of a failed answer {@link problemError} reads. */
export interface FailedAnswer {
  readonly status: number;
  readonly contentType: string | null;
  /** `x-request-id`: every answer of the gateway carries it. */
  readonly requestIdHeader: string | null;
  readonly text: string;
  readonly retryAfterMs?: number | undefined;
}

/**
 * The error of a failed answer: the problem document when the body is one (JSON with a `code`),
 * otherwise `unexpected_response` with the HTTP status. The body of a non-problem answer is not
 * kept: it may be a large HTML page, and it is nobody's contract.
 */
export function problemError(answer: FailedAnswer): IotoBffError {
  const requestIdHeader = answer.requestIdHeader ?? undefined;
  const common = { status: answer.status, retryAfterMs: answer.retryAfterMs };
  const body = /^application\/(problem\+)?json\b/i.test(answer.contentType ?? '')
    ? parseJson(answer.text)
    : undefined;
  if (isRecord(body) && typeof body.code === 'string' && body.code !== '') {
    const title = stringOr(body.title, `HTTP ${answer.status}`);
    return new IotoBffError({
      ...common,
      code: body.code,
      title,
      detail: stringOr(body.detail, title),
      // The problem's own id first: API Gateway's rewritten responses carry it in the body.
      requestId: typeof body.requestId === 'string' ? body.requestId : requestIdHeader,
      errors: fieldErrorsOf(body.errors),
      type: typeof body.type === 'string' ? body.type : undefined,
    });
  }
  return new IotoBffError({
    ...common,
    code: 'unexpected_response',
    title: 'Unexpected response',
    detail: `HTTP ${answer.status} without a problem document (content-type ${answer.contentType ?? 'none'}).`,
    requestId: requestIdHeader,
  });
}

/** The JSON value of a text, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
