import { Logger } from '@aws-lambda-powertools/logger';
import { createAuthorizerHandler } from '../auth/create-authorizer-handler';
import { PartnerDirectory } from '../auth/partner-directory';
import { createAccessTokenVerifier } from '../auth/token-authorizer';
import { parseAccessConfigJson } from '../config/access';
import { awsAuthorizerEnvSchema, readEnv } from '../config/env';

/**
 * Composition root of the deployed authorizer: parses the access configuration once per cold
 * start (failing fast on a bad one) and exports the middy handler.
 */
const env = readEnv(awsAuthorizerEnvSchema);
const access = parseAccessConfigJson(env.ACCESS_CONFIG, 'ACCESS_CONFIG');

export const handler = createAuthorizerHandler({
  verifier: createAccessTokenVerifier(access),
  directory: new PartnerDirectory(access),
  logger: new Logger(),
});
