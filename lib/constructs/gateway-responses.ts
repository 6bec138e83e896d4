import { ResponseType, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  ProblemError,
  UnauthorizedError,
  UpstreamTimeoutError,
} from '../../lambda/problems/problem-error';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../../lambda/problems/to-problem';

/** API Gateway's own refusals that the proxy never produces, as problems of the same shape. */
const gatewayOnly = (status: number, code: string, title: string, detail: string) =>
  new ProblemError(status, code, title, { detail }, true);

/**
 * API Gateway's own answers (before or instead of the proxy Lambda), rendered by the proxy's
 * own `toProblem` from the proxy's own error classes, so codes, titles and details cannot drift,
 * with `$context.requestId`, the id API Gateway hands the Lambda too
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
 */
export const GATEWAY_PROBLEMS: readonly {
  /** The API Gateway response type this entry replaces. */
  readonly type: ResponseType;
  /** The problem API Gateway answers with, rendered as the proxy would render it. */
  readonly error: ProblemError;
}[] = [
  { type: ResponseType.UNAUTHORIZED, error: new UnauthorizedError() },
  { type: ResponseType.ACCESS_DENIED, error: new ForbiddenError() },
  { type: ResponseType.INVALID_API_KEY, error: new ForbiddenError() },
  {
    type: ResponseType.WAF_FILTERED,
    error: new ForbiddenError({
      detail: 'The request was blocked by the web application firewall.',
    }),
  },
  // API Gateway answers this for routes and methods that do not exist.
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, error: new NotFoundError() },
  // API Gateway's own payload limit is 10 MB; the proxy's configured limit is lower.
  { type: ResponseType.REQUEST_TOO_LARGE, error: new PayloadTooLargeError(10 * 1024 * 1024) },
  {
    type: ResponseType.THROTTLED,
    error: new ProblemError(
      429,
      'throttled',
      'Too many requests',
      {
        detail: 'The rate limit of your usage plan is exceeded; retry later.',
        headers: { 'retry-after': '1' },
      },
      true,
    ),
  },
  {
    type: ResponseType.QUOTA_EXCEEDED,
    error: gatewayOnly(
      429,
      'quota_exceeded',
      'Quota exceeded',
      'The quota of your usage plan is used up for this period.',
    ),
  },
  {
    type: ResponseType.INTEGRATION_TIMEOUT,
    error: new UpstreamTimeoutError({ detail: 'The request did not complete in time.' }),
  },
  {
    type: ResponseType.DEFAULT_4XX,
    error: gatewayOnly(
      400,
      'bad_request',
      'Bad request',
      'The request was refused by the gateway.',
    ),
  },
  // Unexposed: renders as the proxy's bare `internal` problem.
  { type: ResponseType.DEFAULT_5XX, error: new ProblemError(500, 'internal', 'Internal error') },
];

/** Header names as API Gateway writes them in a gateway response. */
const GATEWAY_HEADER_NAMES: Readonly<Record<string, string>> = {
  'www-authenticate': 'WWW-Authenticate',
  'retry-after': 'Retry-After',
};

/**
 * Adds every gateway response of {@link GATEWAY_PROBLEMS} to the API: the problem's status,
 * its `application/problem+json` body, its headers, `x-request-id` and `Cache-Control: no-store`.
 *
 * @param api the REST API whose gateway responses to replace
 */
export function addProblemGatewayResponses(api: RestApi): void {
  for (const { type, error } of GATEWAY_PROBLEMS) {
    const problem = toProblem(error, '$context.requestId');
    // Gateway response headers take quoted literals.
    const extra = Object.fromEntries(
      Object.entries(problem.headers).map(([name, value]) => [
        GATEWAY_HEADER_NAMES[name] ?? name,
        `'${value}'`,
      ]),
    );
    api.addGatewayResponse(`Problem${type.responseType}`, {
      type,
      statusCode: String(problem.status),
      responseHeaders: {
        'Content-Type': `'${PROBLEM_CONTENT_TYPE}'`,
        'x-request-id': 'context.requestId',
        'Cache-Control': "'no-store'",
        ...extra,
      },
      templates: { 'application/json': JSON.stringify(problem.body) },
    });
  }
}
