import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { PartnerDirectory } from '../auth/partner-directory';
import { createAccessTokenVerifier, createTokenAuthorizer } from '../auth/token-authorizer';
import { parseAccessConfigJson } from '../config/access';
import { awsAuthorizerEnvSchema, readEnv } from '../config/env';

/**
 * Composition root of the deployed authorizer: parses the access configuration once per cold
 * start (failing fast on a bad one) and exports the middy handler.
 */
const env = readEnv(awsAuthorizerEnvSchema);
const access = parseAccessConfigJson(env.ACCESS_CONFIG, 'ACCESS_CONFIG');
const logger = new Logger();

export const handler = middy<APIGatewayTokenAuthorizerEvent, APIGatewayAuthorizerResult>(
  createTokenAuthorizer({
    verifier: createAccessTokenVerifier(access),
    directory: new PartnerDirectory(access),
    logger,
  }),
).use(injectLambdaContext(logger, { resetKeys: true }));
