import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { AppConfigProvider } from '@aws-lambda-powertools/parameters/appconfig';
import { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import { createAuthorizerHandler } from '../auth/create-authorizer-handler';
import { authorizerContextOf } from '../auth/token-authorizer';
import { appConfigAccess } from '../config/access-source';
import { awsAuthorizerEnvSchema, readEnv } from '../config/env';

/**
 * Composition root of the deployed authorizer: reads where the access configuration is once
 * per cold start (failing fast on a bad environment), and the configuration itself from AWS
 * AppConfig, cached, on every invocation.
 */
const env = readEnv(awsAuthorizerEnvSchema);
const access = appConfigAccess(
  new AppConfigProvider({
    application: env.ACCESS_CONFIG_APPLICATION,
    environment: env.ACCESS_CONFIG_ENVIRONMENT,
    // Bounded, so a hung AppConfig fails the authorization in time (503), not the function.
    awsSdkV3Client: new AppConfigDataClient({
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
    }),
  }),
  env.ACCESS_CONFIG_PROFILE,
);

export const handler = createAuthorizerHandler({
  context: authorizerContextOf(access),
  logger: new Logger(),
  // Namespace and service come from the environment the stack sets.
  metrics: new Metrics(),
});
