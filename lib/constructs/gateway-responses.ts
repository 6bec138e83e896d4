import { ResponseType, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from '../../lambda/problems/to-problem';

/**
 * API Gateway's own answers (before or instead of the proxy Lambda), rewritten as RFC 9457
 * problems with the codes the proxy uses and `$context.requestId`, the id API Gateway hands the
 * Lambda too (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
 */
export const GATEWAY_PROBLEMS: readonly {
  readonly type: ResponseType;
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly headers?: Readonly<Record<string, string>>;
}[] = [
  {
    type: ResponseType.UNAUTHORIZED,
    status: 401,
    code: 'unauthorized',
    title: 'Unauthorized',
    detail: 'Send a valid OAuth 2.0 access token for this API as Authorization: Bearer <token>.',
    headers: { 'WWW-Authenticate': "'Bearer'" },
  },
  {
    type: ResponseType.ACCESS_DENIED,
    status: 403,
    code: 'forbidden',
    title: 'Forbidden',
    detail: 'The access token does not allow this call.',
  },
  {
    type: ResponseType.INVALID_API_KEY,
    status: 403,
    code: 'forbidden',
    title: 'Forbidden',
    detail: 'The access token does not allow this call.',
  },
  {
    type: ResponseType.WAF_FILTERED,
    status: 403,
    code: 'forbidden',
    title: 'Forbidden',
    detail: 'The request was blocked by the web application firewall.',
  },
  {
    // API Gateway answers this for routes and methods that do not exist.
    type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
    status: 404,
    code: 'not_found',
    title: 'Not found',
    detail: 'No such operation. Routes are POST /v1/{controller}/{operation}.',
  },
  {
    type: ResponseType.REQUEST_TOO_LARGE,
    status: 413,
    code: 'payload_too_large',
    title: 'Payload too large',
    detail: 'The request body is too large.',
  },
  {
    type: ResponseType.THROTTLED,
    status: 429,
    code: 'throttled',
    title: 'Too many requests',
    detail: 'The rate limit of your usage plan is exceeded; retry later.',
    headers: { 'Retry-After': "'1'" },
  },
  {
    type: ResponseType.QUOTA_EXCEEDED,
    status: 429,
    code: 'quota_exceeded',
    title: 'Quota exceeded',
    detail: 'The quota of your usage plan is used up for this period.',
  },
  {
    type: ResponseType.INTEGRATION_TIMEOUT,
    status: 504,
    code: 'upstream_timeout',
    title: 'Timed out',
    detail: 'The request did not complete in time.',
  },
  {
    type: ResponseType.DEFAULT_4XX,
    status: 400,
    code: 'bad_request',
    title: 'Bad request',
    detail: 'The request was refused by the gateway.',
  },
  {
    type: ResponseType.DEFAULT_5XX,
    status: 500,
    code: 'internal',
    title: 'Internal error',
    detail: 'An internal error occurred. Quote the requestId when reporting it.',
  },
];

/** Adds every gateway response of {@link GATEWAY_PROBLEMS} to the API. */
export function addProblemGatewayResponses(api: RestApi): void {
  for (const problem of GATEWAY_PROBLEMS) {
    const body = JSON.stringify({
      type: `${PROBLEM_TYPE_PREFIX}${problem.code}`,
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      code: problem.code,
      requestId: '$context.requestId',
    });
    api.addGatewayResponse(`Problem${problem.type.responseType}`, {
      type: problem.type,
      statusCode: String(problem.status),
      responseHeaders: {
        'Content-Type': `'${PROBLEM_CONTENT_TYPE}'`,
        'x-request-id': 'context.requestId',
        'Cache-Control': "'no-store'",
        ...problem.headers,
      },
      templates: { 'application/json': body },
    });
  }
}
