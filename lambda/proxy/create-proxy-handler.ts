import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { problemResponses } from './problem-responses';
import { createProxyCore, type ProxyDependencies } from './proxy-core';

export interface ProxyHandlerDependencies extends ProxyDependencies {
  readonly tracer: Tracer;
  readonly metrics: Metrics;
}

/** The Lambda handler type of the proxy (API Gateway REST, v1 proxy integration). */
export type ProxyHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/**
 * The proxy's middy chain, in the house order: tracer, logger, metrics, header normalizer, then
 * the problem middleware last, so its `onError` runs first. Body parsing is not a middleware:
 * the core parses after routing, so an unknown route is 404 before any media-type complaint,
 * and with our own problem codes (malformed_json, unsupported_media_type, payload_too_large).
 * Shared by the deployed handler and the local gateway.
 */
export function createProxyHandler(deps: ProxyHandlerDependencies): ProxyHandler {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(createProxyCore(deps))
    .use(captureLambdaHandler(deps.tracer, { captureResponse: false }))
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .use(logMetrics(deps.metrics))
    .use(httpHeaderNormalizer())
    .use(problemResponses({ logger: deps.logger, metrics: deps.metrics }));
}
