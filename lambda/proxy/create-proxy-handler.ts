import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { auditTrail } from '../audit/audit-trail';
import type { XRayTracer } from '../tracing/xray-tracer';
import { problemResponses } from './problem-responses';
import { createProxyCore, type ProxyDependencies } from './proxy-core';
import { correlateRequest } from './request-id';

export interface ProxyHandlerDependencies extends ProxyDependencies {
  /**
   * Records each invocation in X-Ray, around the whole chain.
   *
   * @default none: nothing is traced (the local gateway, tests)
   */
  readonly tracer?: XRayTracer;
  readonly metrics: Metrics;
}

/** The Lambda handler type of the proxy (API Gateway REST, v1 proxy integration). */
export type ProxyHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/**
 * The proxy's middy chain, inside the tracer: logger, metrics, the request id as the logger's correlation
 * id, the audit trail, then the problem middleware last, so its `onError` runs first (and the
 * audit line, written after it, knows the final status). Body parsing is not a
 * middleware: the core parses after routing, so an unknown route is 404 before any media-type
 * complaint, and with our own problem codes (docs/decisions, body parsing). Headers are read
 * case-insensitively where needed (`headers.ts`), so no normalizing middleware is needed.
 * Shared by the deployed handler and the local gateway.
 */
export function createProxyHandler(deps: ProxyHandlerDependencies): ProxyHandler {
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>(createProxyCore(deps))
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .use(logMetrics(deps.metrics))
    .use(correlateRequest(deps.logger))
    .use(auditTrail(deps.logger))
    .use(problemResponses({ logger: deps.logger, metrics: deps.metrics }));
  return deps.tracer === undefined ? handler : deps.tracer.traceHandler(handler);
}
