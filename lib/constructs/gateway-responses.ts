import { ResponseType, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  AuthorizerUnavailableError,
  ForbiddenError,
  IntegrationFailedError,
  NotFoundError,
  PayloadTooLargeError,
  ProblemError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  UpstreamTimeoutError,
} from '../../lambda/problems/problem-error';
import {
  PROBLEM_CONTENT_TYPE,
  type ProblemDocument,
  toProblem,
} from '../../lambda/problems/to-problem';

/** API Gateway's own refusals that the proxy never produces, as problems of the same shape. */
const gatewayOnly = (status: number, code: string, title: string, detail: string) =>
  new ProblemError(status, code, title, { detail }, true);

/**
 * `429 throttled`: a client sends faster than it may. Shared by API Gateway's THROTTLED response
 * (a partner above its usage plan's rate) and the web firewall's rate-based rule (a client IP
 * above its 5-minute limit), so both answer with the same code and title.
 *
 * @param detail what was exceeded, partner-safe
 * @param retryAfterSeconds the `Retry-After` hint, in seconds
 */
export const throttledError = (detail: string, retryAfterSeconds: number): ProblemError =>
  new ProblemError(
    429,
    'throttled',
    'Too many requests',
    { detail, headers: { 'retry-after': String(retryAfterSeconds) } },
    true,
  );

/** One API Gateway response type, answered as a problem. */
export interface GatewayProblem {
  /** The API Gateway response type this entry replaces. */
  readonly type: ResponseType;
  /**
   * The status API Gateway answers this type with when nobody overrides it
   * (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html);
   * `undefined` for DEFAULT_4XX and DEFAULT_5XX, which have none of their own.
   */
  readonly gatewayStatus: number | undefined;
  /**
   * The status the gateway response sets: `error.status` as the proxy renders it, or `undefined`
   * for DEFAULT_4XX and DEFAULT_5XX. A status on either of those would replace the status of
   * every 4XX or 5XX response type not defined explicitly (API Gateway's documented fallback
   * behaviour), so they set none: API Gateway's real status goes out, and their body has no
   * `status` member, since no gateway response template variable carries the status
   * (`$context.status` exists in access logs only).
   */
  readonly status: number | undefined;
  /** The problem API Gateway answers with, rendered as the proxy would render it. */
  readonly error: ProblemError;
  /** Why `status` differs from `gatewayStatus`, where it does: the contract's reason. */
  readonly why?: string;
}

/** An entry whose status is API Gateway's own. */
const same = (type: ResponseType, gatewayStatus: number, error: ProblemError): GatewayProblem => {
  if (toProblem(error, '').status !== gatewayStatus) {
    throw new Error(`${type.responseType}: ${error.code} is not ${gatewayStatus}; say why`);
  }
  return { type, gatewayStatus, status: gatewayStatus, error };
};

/** An entry whose status our contract changes, with the reason. */
const changed = (
  type: ResponseType,
  gatewayStatus: number,
  error: ProblemError,
  why: string,
): GatewayProblem => ({
  type,
  gatewayStatus,
  status: toProblem(error, '').status,
  error,
  why,
});

/** A fallback entry: no status of its own, API Gateway's real one goes out. */
const fallback = (type: ResponseType, error: ProblemError): GatewayProblem => ({
  type,
  gatewayStatus: undefined,
  status: undefined,
  error,
});

/**
 * Every API Gateway response type (aws-cdk-lib's `ResponseType` list), each rendered by the
 * proxy's own `toProblem` from the proxy's own error classes, so codes, titles and details cannot
 * drift, with `$context.requestId`, the id API Gateway hands the Lambda too. Each keeps API
 * Gateway's own status unless `why` says otherwise; the two fallbacks set none.
 */
export const GATEWAY_PROBLEMS: readonly GatewayProblem[] = [
  same(ResponseType.ACCESS_DENIED, 403, new ForbiddenError()),
  // Unexposed: renders as the proxy's bare `internal` problem (a broken deployment).
  same(
    ResponseType.API_CONFIGURATION_ERROR,
    500,
    new ProblemError(500, 'internal', 'Internal error'),
  ),
  changed(
    ResponseType.AUTHORIZER_CONFIGURATION_ERROR,
    500,
    new AuthorizerUnavailableError(),
    'API Gateway could not reach or use the authorizer: a passing outage on our side, not the ' +
      "partner's fault, so 503 with Retry-After rather than a bare 500.",
  ),
  changed(
    ResponseType.AUTHORIZER_FAILURE,
    500,
    new AuthorizerUnavailableError(),
    'The authorizer failed (signing keys unreachable, a broken configuration) instead of ' +
      'deciding: the token may well be valid, so 503 with Retry-After, never 401 or a bare 500.',
  ),
  // No request validators are configured (the proxy validates bodies); kept for completeness.
  same(
    ResponseType.BAD_REQUEST_PARAMETERS,
    400,
    gatewayOnly(400, 'bad_request', 'Bad request', 'The request parameters were refused.'),
  ),
  same(
    ResponseType.BAD_REQUEST_BODY,
    400,
    gatewayOnly(400, 'bad_request', 'Bad request', 'The request body was refused.'),
  ),
  // AWS (SigV4) credentials that expired; partners authenticate with OAuth tokens instead.
  same(
    ResponseType.EXPIRED_TOKEN,
    403,
    new ForbiddenError({ detail: 'The security token of the request has expired.' }),
  ),
  changed(
    ResponseType.INTEGRATION_FAILURE,
    504,
    new IntegrationFailedError(),
    'The proxy function failed or answered something API Gateway could not use: a bad ' +
      'gateway (502), not a timeout (504). Nothing of the failure is shown, as with `internal`.',
  ),
  same(
    ResponseType.INTEGRATION_TIMEOUT,
    504,
    new UpstreamTimeoutError({ detail: 'The request did not complete in time.' }),
  ),
  same(ResponseType.INVALID_API_KEY, 403, new ForbiddenError()),
  same(
    ResponseType.INVALID_SIGNATURE,
    403,
    new ForbiddenError({ detail: 'The request signature is not valid.' }),
  ),
  changed(
    ResponseType.MISSING_AUTHENTICATION_TOKEN,
    403,
    new NotFoundError(),
    'API Gateway answers MISSING_AUTHENTICATION_TOKEN for routes and methods that do not ' +
      'exist (every real route has the authorizer): the contract calls that 404 not_found.',
  ),
  same(
    ResponseType.QUOTA_EXCEEDED,
    429,
    gatewayOnly(
      429,
      'quota_exceeded',
      'Quota exceeded',
      'The quota of your usage plan is used up for this period.',
    ),
  ),
  // API Gateway's own payload limit is 10 MB; the proxy's configured limit is lower.
  same(ResponseType.REQUEST_TOO_LARGE, 413, new PayloadTooLargeError(10 * 1024 * 1024)),
  same(ResponseType.RESOURCE_NOT_FOUND, 404, new NotFoundError()),
  same(
    ResponseType.THROTTLED,
    429,
    throttledError('The rate limit of your usage plan is exceeded; retry later.', 1),
  ),
  same(ResponseType.UNAUTHORIZED, 401, new UnauthorizedError()),
  same(ResponseType.UNSUPPORTED_MEDIA_TYPE, 415, new UnsupportedMediaTypeError()),
  // A WAF rule's custom response (the rate-based rule's 429) takes precedence over this one.
  same(
    ResponseType.WAF_FILTERED,
    403,
    new ForbiddenError({
      detail: 'The request was blocked by the web application firewall.',
    }),
  ),
  fallback(
    ResponseType.DEFAULT_4XX,
    gatewayOnly(400, 'bad_request', 'Bad request', 'The request was refused by the gateway.'),
  ),
  // Unexposed: renders as the proxy's bare `internal` problem.
  fallback(ResponseType.DEFAULT_5XX, new ProblemError(500, 'internal', 'Internal error')),
];

/** Header names as API Gateway writes them in a gateway response. */
const GATEWAY_HEADER_NAMES: Readonly<Record<string, string>> = {
  'www-authenticate': 'WWW-Authenticate',
  'retry-after': 'Retry-After',
};

/**
 * The body of one gateway response: the problem as the proxy renders it, with
 * `$context.requestId`; without `status` where the response keeps API Gateway's own status.
 */
export function gatewayProblemBody(entry: GatewayProblem): Partial<ProblemDocument> {
  const { status, ...rest } = toProblem(entry.error, '$context.requestId').body;
  return entry.status === undefined ? rest : { ...rest, status };
}

/**
 * Adds every gateway response of {@link GATEWAY_PROBLEMS} to the API: the problem's status
 * (none on the two fallbacks), its `application/problem+json` body, its headers, `x-request-id`,
 * `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`, as the proxy sends them.
 *
 * @param api the REST API whose gateway responses to replace
 */
export function addProblemGatewayResponses(api: RestApi): void {
  for (const entry of GATEWAY_PROBLEMS) {
    const problem = toProblem(entry.error, '$context.requestId');
    // Gateway response headers take quoted literals.
    const extra = Object.fromEntries(
      Object.entries(problem.headers).map(([name, value]) => [
        GATEWAY_HEADER_NAMES[name] ?? name,
        `'${value}'`,
      ]),
    );
    api.addGatewayResponse(`Problem${entry.type.responseType}`, {
      type: entry.type,
      ...(entry.status !== undefined && { statusCode: String(entry.status) }),
      responseHeaders: {
        'Content-Type': `'${PROBLEM_CONTENT_TYPE}'`,
        'x-request-id': 'context.requestId',
        'Cache-Control': "'no-store'",
        'X-Content-Type-Options': "'nosniff'",
        ...extra,
      },
      templates: { 'application/json': JSON.stringify(gatewayProblemBody(entry)) },
    });
  }
}
