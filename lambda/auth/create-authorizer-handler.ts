import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
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
 * The authorizer's middy chain, shared by the deployed handler and the local gateway: the token
 * authorizer core with the Lambda context on every log line (reset between invocations), and its
 * refusal and failure counts flushed as EMF after every invocation, also when it throws (as it
 * does for every token it does not allow).
 */
export function createAuthorizerHandler(deps: AuthorizerHandlerDependencies): AuthorizerHandler {
  return middy<APIGatewayTokenAuthorizerEvent, APIGatewayAuthorizerResult>(
    createTokenAuthorizer(deps),
  )
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .use(logMetrics(deps.metrics));
}
