/**
 * The one error hierarchy of ioto-bff. Every failure a partner can see is a {@link ProblemError}
 * with an HTTP status and a stable snake_case `code`; {@link toProblem} renders any error as an
 * RFC 9457 problem document (https://www.rfc-editor.org/rfc/rfc9457).
 */

/** One entry of `errors[]` on `validation_failed`: a JSON path into the body and a message. */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

export interface ProblemErrorOptions {
  /** Human-readable, partner-safe explanation. Never put upstream text or secrets here unchecked. */
  readonly detail?: string;
  readonly errors?: readonly FieldProblem[];
  /** Extra response headers, such as `Allow` on 405 or `Retry-After` on 503. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly cause?: unknown;
}

/**
 * Base class. `expose` defaults to `status < 500`: server-side failures are rendered as
 * `internal` unless a subclass opts in (upstream failures are ours, and say so safely).
 */
export class ProblemError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: readonly FieldProblem[] | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly expose: boolean;

  constructor(
    status: number,
    code: string,
    title: string,
    options: ProblemErrorOptions = {},
    expose = status < 500,
  ) {
    super(options.detail ?? title, options.cause === undefined ? {} : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.expose = expose;
  }
}

/** The body is not valid JSON. */
export class MalformedJsonError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(400, 'malformed_json', 'Malformed JSON body', {
      detail: 'The request body is not valid JSON.',
      ...options,
    });
  }
}

/** The body is JSON but does not match the operation's schema. */
export class ValidationError extends ProblemError {
  constructor(errors: readonly FieldProblem[], options?: ProblemErrorOptions) {
    super(400, 'validation_failed', 'Request validation failed', {
      detail: 'The request body does not match the operation schema; see errors.',
      errors,
      ...options,
    });
  }
}

/** A page token that does not open, has expired, or belongs to another request or partner. */
export class InvalidPageTokenError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(400, 'invalid_page_token', 'Invalid page token', {
      detail: 'The pageToken is invalid, expired, or was issued for a different request.',
      ...options,
    });
  }
}

/** No valid partner identity: a missing, invalid or expired access token. */
export class UnauthorizedError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(401, 'unauthorized', 'Unauthorized', {
      detail: 'Send a valid OAuth 2.0 access token for this API as Authorization: Bearer <token>.',
      headers: { 'www-authenticate': 'Bearer' },
      ...options,
    });
  }
}

/** The gateway's authorizer denied the call (its policy does not cover this route). */
export class ForbiddenError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(403, 'forbidden', 'Forbidden', {
      detail: 'The access token does not allow this call.',
      ...options,
    });
  }
}

/** The partner is not granted this operation (or is read-only and the operation writes). */
export class OperationNotAllowedError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(403, 'operation_not_allowed', 'Operation not allowed', {
      detail: 'Your partner configuration does not grant this operation.',
      ...options,
    });
  }
}

/** The request names an account outside the partner's scope, or names none when it must. */
export class AccountNotAllowedError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(403, 'account_not_allowed', 'Account not allowed', {
      detail: 'The request must name one of your accounts, exactly as configured.',
      ...options,
    });
  }
}

/** The request names a device outside the partner's scope. */
export class DeviceNotAllowedError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(403, 'device_not_allowed', 'Device not allowed', {
      detail: 'The device is not one of yours.',
      ...options,
    });
  }
}

/** action/invoke of an action the partner's `actions` do not list by name. */
export class ActionNotAllowedError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(403, 'action_not_allowed', 'Action not allowed', {
      detail: 'Your partner configuration does not grant this action; name one of your actions.',
      ...options,
    });
  }
}

export class NotFoundError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(404, 'not_found', 'Not found', {
      detail: 'No such operation. Routes are POST /v1/{controller}/{operation}.',
      ...options,
    });
  }
}

export class MethodNotAllowedError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(405, 'method_not_allowed', 'Method not allowed', {
      detail: 'Every operation is called with POST.',
      headers: { allow: 'POST' },
      ...options,
    });
  }
}

export class PayloadTooLargeError extends ProblemError {
  constructor(limitBytes: number, options?: ProblemErrorOptions) {
    super(413, 'payload_too_large', 'Payload too large', {
      detail: `The request body exceeds ${limitBytes} bytes.`,
      ...options,
    });
  }
}

export class UnsupportedMediaTypeError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(415, 'unsupported_media_type', 'Unsupported media type', {
      detail: 'Send the body as application/json.',
      ...options,
    });
  }
}

/** Ioto answered 400: the request was well-formed for us but Ioto refused it. */
export class UpstreamRejectedError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(400, 'upstream_rejected', 'Rejected by Ioto', {
      detail: 'Ioto rejected the request.',
      ...options,
    });
  }
}

/** Ioto failed (5xx), answered something unexpected, or could not be reached. */
export class UpstreamError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(
      502,
      'upstream_error',
      'Ioto error',
      { detail: 'Ioto failed or returned an unexpected reply.', ...options },
      true,
    );
  }
}

/** Ioto still refused our CloudAPI token after one refresh: an operator must act. */
export class UpstreamAuthFailedError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(
      502,
      'upstream_auth_failed',
      'Ioto authentication failed',
      { detail: 'The gateway could not authenticate to Ioto.', ...options },
      true,
    );
  }
}

/** Ioto is rate-limiting the gateway (429): retry later. */
export class UpstreamThrottledError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(
      503,
      'upstream_throttled',
      'Ioto is throttling requests',
      {
        detail: 'Ioto is rate-limiting requests; retry later.',
        headers: { 'retry-after': '1' },
        ...options,
      },
      true,
    );
  }
}

export class UpstreamTimeoutError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(
      504,
      'upstream_timeout',
      'Ioto timed out',
      { detail: 'Ioto did not answer in time.', ...options },
      true,
    );
  }
}

/** The Ioto token could not be read from its secret (or local source). */
export class TokenUnavailableError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(
      503,
      'token_unavailable',
      'Upstream credentials unavailable',
      { detail: 'The gateway could not load its Ioto credentials; retry later.', ...options },
      true,
    );
  }
}

/** The page-token key could not be read from its secret (paged operations only). */
export class PageTokenUnavailableError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(
      503,
      'page_token_unavailable',
      'Paging unavailable',
      { detail: 'The gateway could not load its page-token key; retry later.', ...options },
      true,
    );
  }
}

/**
 * The authorizer could not decide (its issuer's signing keys unreachable, a broken
 * configuration): API Gateway answers AUTHORIZER_FAILURE, rendered as this problem. Not the
 * partner's fault, so not a 401.
 */
export class AuthorizerUnavailableError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(
      503,
      'authorizer_unavailable',
      'Authorization unavailable',
      {
        detail: 'The gateway could not check the access token right now; retry later.',
        headers: { 'retry-after': '5' },
        ...options,
      },
      true,
    );
  }
}

/** The access configuration (who the partners are) could not be read or does not validate. */
export class AccessConfigUnavailableError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(
      503,
      'access_config_unavailable',
      'Partner configuration unavailable',
      {
        detail: 'The gateway could not load its partner configuration; retry later.',
        headers: { 'retry-after': '5' },
        ...options,
      },
      true,
    );
  }
}

/**
 * The proxy function failed or answered something API Gateway could not use (API Gateway's
 * INTEGRATION_FAILURE; the local gateway answers the same): nothing of the failure is shown.
 */
export class IntegrationFailedError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(
      502,
      'integration_failed',
      'Bad gateway',
      {
        detail:
          'The gateway could not complete the request. Quote the requestId when reporting it.',
        ...options,
      },
      true,
    );
  }
}

/**
 * Ioto answered that the operation itself failed (an automated action that failed, a device
 * that could not be provisioned), in the body of its answer: a failure, never a 200.
 */
export class UpstreamFailedError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(
      502,
      'upstream_failed',
      'Failed in Ioto',
      { detail: 'Ioto reports that the operation failed.', ...options },
      true,
    );
  }
}

/** A write that must carry an `Idempotency-Key` (the partner's `requireIdempotencyKey`) has none. */
export class IdempotencyKeyRequiredError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(400, 'idempotency_key_required', 'Idempotency-Key required', {
      detail: 'This operation changes the device cloud: send an Idempotency-Key header.',
      ...options,
    });
  }
}

/** The `Idempotency-Key` was used before by this partner for another body or operation. */
export class IdempotencyKeyReusedError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(422, 'idempotency_key_reused', 'Idempotency-Key reused', {
      detail:
        'This Idempotency-Key was used for a different request body; use a new key for a new request.',
      ...options,
    });
  }
}

/** The first call with this `Idempotency-Key` is still running: retry after it ends. */
export class IdempotencyInProgressError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(409, 'idempotency_in_progress', 'Request in progress', {
      detail: 'A request with this Idempotency-Key is still in progress; retry after it completes.',
      headers: { 'retry-after': '2' },
      ...options,
    });
  }
}

/** The idempotency store could not be read or written: nothing was forwarded. */
export class IdempotencyUnavailableError extends ProblemError {
  constructor(options?: ProblemErrorOptions) {
    super(
      503,
      'idempotency_unavailable',
      'Idempotency store unavailable',
      {
        detail:
          'The gateway could not record the Idempotency-Key, so it did not forward the request; retry later with the same key.',
        headers: { 'retry-after': '5' },
        ...options,
      },
      true,
    );
  }
}
