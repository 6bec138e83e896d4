import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from 'aws-lambda';
import type { PartnerDirectory } from './partner-directory';
import { type AccessTokenVerifier, createTokenAuthorizer } from './token-authorizer';

export interface AuthorizerHandlerDependencies {
  readonly verifier: AccessTokenVerifier;
  readonly directory: PartnerDirectory;
  readonly logger: Logger;
}

/** The Lambda handler type of the TOKEN authorizer. */
export type AuthorizerHandler = (
  event: APIGatewayTokenAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;

/**
 * The authorizer's middy chain, shared by the deployed handler and the local gateway: the token
 * authorizer core with the Lambda context on every log line (reset between invocations).
 */
export function createAuthorizerHandler(deps: AuthorizerHandlerDependencies): AuthorizerHandler {
  return middy<APIGatewayTokenAuthorizerEvent, APIGatewayAuthorizerResult>(
    createTokenAuthorizer(deps),
  ).use(injectLambdaContext(deps.logger, { resetKeys: true }));
}
