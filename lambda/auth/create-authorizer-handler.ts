import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { createTokenAuthorizer, type TokenAuthorizerOptions } from './token-authorizer';

export interface AuthorizerHandlerDependencies extends TokenAuthorizerOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** The Lambda handler type of the TOKEN authorizer. */
export type AuthorizerHandler = (
  event: APIGatewayTokenAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;

/**
 * The invocation's request id as the logger's correlation id (`correlation_id` on every log line,
 * the key the proxy's lines carry theirs in). A TOKEN authorizer's event holds only `type`,
 * `authorizationToken` and `methodArn`, not API Gateway's request id, so the id is the Lambda
 * request id (`context.awsRequestId`), which API Gateway's access log can name beside its own
 * (`$context.authorizer.requestId`). Use it after `injectLambdaContext` with `resetKeys`, which
 * clears it when the invocation ends.
 */
function correlateInvocation(
  logger: Logger,
): MiddlewareObj<APIGatewayTokenAuthorizerEvent, APIGatewayAuthorizerResult, Error, Context> {
  return {
    before: (request) => {
      logger.setCorrelationId(request.context.awsRequestId);
    },
  };
}

/**
 * The authorizer's middy chain, shared by the deployed handler and the local gateway: the token
 * authorizer core with the Lambda context and its request id (as correlation id) on every log
 * line (reset between invocations), and its refusal and failure counts flushed as EMF after
 * every invocation, also when it throws (as it does for every token it does not allow).
 */
export function createAuthorizerHandler(deps: AuthorizerHandlerDependencies): AuthorizerHandler {
  return middy<APIGatewayTokenAuthorizerEvent, APIGatewayAuthorizerResult>(
    createTokenAuthorizer(deps),
  )
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .use(correlateInvocation(deps.logger))
    .use(logMetrics(deps.metrics));
}
