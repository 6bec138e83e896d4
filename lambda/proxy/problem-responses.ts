import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../problems/to-problem';
import { requestIdHeaders, requestIdOf } from './request-id';

export interface ProblemResponsesOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * Headers on every response, success or problem; the local gateway puts the same on the
 * responses it makes itself, as the stack's gateway responses do.
 */
export const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/**
 * Last in the middy chain, so its `onError` runs first: turns every error into an RFC 9457
 * problem response, logs it with the request id (the cause goes to the log, never to the
 * partner), counts it by code, and stamps `x-request-id` on every response.
 */
export function problemResponses(
  options: ProblemResponsesOptions,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const { logger, metrics } = options;
  return {
    after: (request) => {
      const response = request.response;
      if (response === undefined || response === null) return;
      metrics.addMetric('SuccessfulRequests', MetricUnit.Count, 1);
      response.headers = {
        ...response.headers,
        ...COMMON_HEADERS,
        ...requestIdHeaders(request.event),
      };
    },
    onError: (request) => {
      const requestId = requestIdOf(request.event);
      // Also when the failure came before `correlateRequest` ran: every line carries the id.
      logger.setCorrelationId(requestId);
      const problem = toProblem(request.error, requestId);
      const code = problem.body.code;
      // 5xx: our failure or Ioto's; the error and its cause go to the log, never to the partner.
      if (problem.status >= 500) {
        logger.error('request failed', {
          code,
          status: problem.status,
          error: request.error,
        });
      } else {
        logger.info('request refused', { code, status: problem.status });
      }
      metrics.addDimensions({ code });
      metrics.addMetric('ProblemResponses', MetricUnit.Count, 1);
      request.response = {
        statusCode: problem.status,
        headers: {
          ...problem.headers,
          ...COMMON_HEADERS,
          'content-type': PROBLEM_CONTENT_TYPE,
          ...requestIdHeaders(request.event),
        },
        body: JSON.stringify(problem.body),
      };
    },
  };
}
