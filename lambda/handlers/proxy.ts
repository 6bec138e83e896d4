import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { AppConfigProvider } from '@aws-lambda-powertools/parameters/appconfig';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { appConfigAccess } from '../config/access-source';
import { awsProxyEnvSchema, readEnv, readTracingEnv } from '../config/env';
import { loadPageTokenSealer } from '../paging/page-token-key-source';
import { createProxyHandler } from '../proxy/create-proxy-handler';
import { buildProxyDependencies, proxySettingsOf } from '../proxy/proxy-dependencies';
import { XRayTracer } from '../tracing/xray-tracer';
import { nodeTransport } from '../upstream/http-transport';
import { secretsManagerTokenSource } from '../upstream/secrets-token-source';

/**
 * Composition root of the deployed proxy function: reads its environment once, wires Secrets
 * Manager through Powertools Parameters and the idempotency records to DynamoDB, and exports
 * the middy handler.
 */
const env = readEnv(awsProxyEnvSchema);
// X-Ray: the invocation, each AWS SDK call and each Ioto call (lambda/tracing/xray-tracer.ts).
const tracer = new XRayTracer(readTracingEnv());
/**
 * AWS calls the proxy makes before it can answer: bounded, so a hung connection to Secrets
 * Manager or AppConfig surfaces as a 503 while the function still has time, not as a Lambda
 * timeout (the SDK's own retries, 3 attempts, apply on top).
 */
const AWS_CALL_TIMEOUTS = { requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 } };

const secrets = new SecretsProvider({
  awsSdkV3Client: tracer.instrumentAwsClient(new SecretsManagerClient(AWS_CALL_TIMEOUTS)),
});

/**
 * The DynamoDB store of idempotency records, made on the first write with an Idempotency-Key
 * (proxy-dependencies.ts loads it once): most invocations never need the DynamoDB client, whose
 * load would lengthen every cold start (`npm run bench`). The stack's bundler turns these
 * `import()`s into `require` (lib/constructs/bff-function.ts), so the runtime's SDK is found as
 * every other require finds it (test/infra/bundle.test.ts).
 */
const loadIdempotencyStore = async (): Promise<BasePersistenceLayer> => {
  const [{ DynamoDBClient }, { DynamoDBPersistenceLayer }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-lambda-powertools/idempotency/dynamodb'),
  ]);
  return new DynamoDBPersistenceLayer({
    tableName: env.IDEMPOTENCY_TABLE_NAME,
    awsSdkV3Client: tracer.instrumentAwsClient(new DynamoDBClient(AWS_CALL_TIMEOUTS)),
  });
};

export const handler = createProxyHandler({
  ...buildProxyDependencies(proxySettingsOf(env), {
    tokenSource: secretsManagerTokenSource(
      secrets,
      env.IOTO_TOKEN_SECRET_ID,
      env.TOKEN_CACHE_SECONDS,
    ),
    // Once the sealer is TOKEN_CACHE_SECONDS old: the AWSCURRENT, AWSPENDING and AWSPREVIOUS
    // stages of the key secret, read afresh (page-token-key-source.ts has the rotation).
    loadSealer: () =>
      loadPageTokenSealer(secrets, env.PAGE_TOKEN_SECRET_ID, {
        ttlSeconds: env.PAGE_TOKEN_TTL_SECONDS,
      }),
    transport: tracer.traceTransport(nodeTransport),
    logger: new Logger(),
    idempotencyStore: loadIdempotencyStore,
    access: appConfigAccess(
      new AppConfigProvider({
        application: env.ACCESS_CONFIG_APPLICATION,
        environment: env.ACCESS_CONFIG_ENVIRONMENT,
        awsSdkV3Client: tracer.instrumentAwsClient(new AppConfigDataClient(AWS_CALL_TIMEOUTS)),
      }),
      env.ACCESS_CONFIG_PROFILE,
    ),
  }),
  tracer,
  metrics: new Metrics(),
});
