import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../problems/to-problem';
import { correlateRequest, requestIdHeaders, requestIdOf } from '../proxy/request-id';
import type { XRayTracer } from '../tracing/xray-tracer';
import { createDocsCore, type DocsDependencies } from './docs-core';
import { buildOpenApiDocument } from './openapi-document';
import { loadRedocAssets, type RedocFile } from './redoc-assets';

/**
 * What the published description says beyond the catalog: paging bounds, version, OAuth (the
 * options of {@link buildOpenApiDocument} but `servers`).
 */
export interface DocsSettings {
  readonly defaultLimit: number;
  readonly maxLimit: number;
  readonly version: string;
  /** The scope every access token must carry. */
  readonly scope: string;
  /** The OAuth 2.0 token endpoint (client credentials), when known. */
  readonly tokenUrl?: string;
}

/**
 * The description and Redoc's files, once per cold start. `read` gives a Redoc file's text: the
 * deployed function reads the copies next to its code, the local gateway node_modules.
 */
export function docsDependencies(
  settings: DocsSettings,
  read: (file: RedocFile) => string,
): DocsDependencies {
  // No `servers` here: they name the address each request came through, and are set per
  // request (docs-core.ts), so the description is built once, not once per request.
  return { document: buildOpenApiDocument(settings), assets: loadRedocAssets(read) };
}

/** The Lambda handler type of the docs function (API Gateway REST, v1 proxy integration). */
export type DocsHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

export interface DocsHandlerDependencies extends DocsDependencies {
  readonly logger: Logger;
  /**
   * Records each invocation in X-Ray, around the whole chain.
   *
   * @default none: nothing is traced (the local gateway, tests)
   */
  readonly tracer?: XRayTracer;
}

/** Headers of the docs function's problems: never cached, unlike its documents. */
const PROBLEM_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-type': PROBLEM_CONTENT_TYPE,
} as const;

/**
 * Last in the chain, so its `onError` runs first: renders any error as an RFC 9457 problem with
 * the request id, logs 5xx with their cause (4xx at info level), and never lets a cache keep it.
 * Unlike the proxy's problem middleware it counts no metrics: the docs are not the partner API,
 * and API Gateway's and Lambda's own metrics cover them.
 */
function docsProblems(logger: Logger): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: (request) => {
      const requestId = requestIdOf(request.event);
      logger.setCorrelationId(requestId);
      const problem = toProblem(request.error, requestId);
      if (problem.status >= 500) {
        logger.error('docs request failed', { status: problem.status, error: request.error });
      } else {
        logger.info('docs request refused', { code: problem.body.code, status: problem.status });
      }
      request.response = {
        statusCode: problem.status,
        headers: { ...problem.headers, ...PROBLEM_HEADERS, ...requestIdHeaders(request.event) },
        body: JSON.stringify(problem.body),
      };
    },
  };
}

/**
 * The docs function's middy chain, inside the tracer: logger, the request id as correlation id, then the
 * problem middleware last. Shared by the deployed handler and the local gateway.
 */
export function createDocsHandler(deps: DocsHandlerDependencies): DocsHandler {
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>(createDocsCore(deps))
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .use(correlateRequest(deps.logger))
    .use(docsProblems(deps.logger));
  return deps.tracer === undefined ? handler : deps.tracer.traceHandler(handler);
}
