import { createHash } from 'node:crypto';
import { Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { compactAccessConfig } from '../lambda/config/access';
import { toEnvironment } from '../lambda/config/settings';
import { type DeploymentConfig, wafRateLimit } from './config';
import { AccessConfigStore } from './constructs/access-config-store';
import { AuditTrail } from './constructs/audit-trail';
import { BffFunction } from './constructs/bff-function';
import { IdempotencyStore } from './constructs/idempotency-store';
import { IotoSecrets } from './constructs/ioto-secrets';
import { Monitoring } from './constructs/monitoring';
import { PartnerApi } from './constructs/partner-api';
import { cognitoTokenUrl, PartnerDocs } from './constructs/partner-docs';
import { PartnerIdentity } from './constructs/partner-identity';
import { PartnerShards } from './constructs/partner-shards';
import { WebFirewall } from './constructs/web-firewall';
import { metricsNamespaceOf } from './service';

export interface IotoBffStackProps extends StackProps {
  /** The validated deployment configuration. */
  readonly config: DeploymentConfig;
}

/**
 * What the API key values of a stack start with: API Gateway treats equal key values in one
 * account and region as one key, so each stack's must differ (the stack name is unique there).
 */
export const usageKeyPrefixOf = (stackName: string): string =>
  `iotobff-${createHash('sha256').update(stackName).digest('hex').slice(0, 16)}`;

/**
 * ioto-bff in one stack: secrets, partner identity, the access configuration (in AppConfig),
 * the idempotency records (DynamoDB), the audit trail (its own log group), the authorizer and
 * proxy functions rolled out by CodeDeploy, the REST API with its usage-plan
 * tiers, the partners' keys and app clients (in nested stacks), the web firewall and monitoring.
 * Environment-agnostic: it synthesizes offline with no credentials and no lookups, and every
 * name it gives is unique per stack, so several stacks share an account and region.
 */
export class IotoBffStack extends Stack {
  readonly api: PartnerApi;
  readonly proxy: BffFunction;
  readonly authorizer: BffFunction;
  readonly secrets: IotoSecrets;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: IotoBffStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { limits } = config;
    const logRetention = config.monitoring.logRetentionDays as RetentionDays;
    const metricsNamespace = metricsNamespaceOf(this.stackName);
    const usageKeyPrefix = usageKeyPrefixOf(this.stackName);

    this.secrets = new IotoSecrets(this, 'Secrets', {
      tokenSecret: config.ioto.tokenSecret,
      breakGlassRoleArn: config.secrets.breakGlassRoleArn,
    });
    const identity = new PartnerIdentity(this, 'Identity', { identity: config.identity });
    const accessStore = new AccessConfigStore(this, 'AccessConfig');
    const idempotency = new IdempotencyStore(this, 'Idempotency');

    this.authorizer = new BffFunction(this, 'AuthorizerFunction', {
      handler: 'authorizer',
      description: 'ioto-bff: verifies partner access tokens and maps them to partners',
      memorySize: limits.authorizerMemoryMb,
      timeout: Duration.seconds(10),
      logRetention,
      metricsNamespace,
      environment: accessStore.environment,
    });

    // The schema keeps the upstream deadline below this timeout, itself below API Gateway's 29 s.
    this.proxy = new BffFunction(this, 'ProxyFunction', {
      handler: 'proxy',
      description: 'ioto-bff: validates, authorizes and forwards partner calls to Ioto',
      memorySize: limits.proxyMemoryMb,
      timeout: Duration.seconds(limits.proxyTimeoutSeconds),
      ...(limits.proxyReservedConcurrency !== undefined && {
        reservedConcurrentExecutions: limits.proxyReservedConcurrency,
      }),
      logRetention,
      metricsNamespace,
      environment: {
        IOTO_ENDPOINT: config.ioto.endpoint,
        IOTO_AUTH_SCHEME: config.ioto.authScheme,
        ...(config.ioto.origin !== undefined && { IOTO_ORIGIN: config.ioto.origin }),
        IOTO_TOKEN_SECRET_ID: this.secrets.tokenSecretId,
        PAGE_TOKEN_SECRET_ID: this.secrets.pageTokenKey.secretArn,
        ...idempotency.environment,
        ...accessStore.environment,
        ...toEnvironment(limits),
      },
    });
    // Only the proxy (and an operator's break-glass role) may read either secret; both
    // functions read the access configuration.
    this.secrets.grantRead(this.proxy.role);
    accessStore.grantRead(this.proxy.role);
    accessStore.grantRead(this.authorizer.role);
    idempotency.grantItemAccess(this.proxy.role);
    const audit = new AuditTrail(this, 'Audit', {
      proxyLogGroup: this.proxy.logGroup,
      retention: config.monitoring.auditRetentionDays as RetentionDays,
      forwarderLogRetention: logRetention,
      metricsNamespace,
    });

    this.api = new PartnerApi(this, 'PartnerApi', {
      proxy: this.proxy.alias,
      authorizer: this.authorizer.alias,
      api: config.api,
      partners: config.partners,
      logRetention,
    });
    // Open documentation on the same API and stage: GET /docs and /openapi.json.
    new PartnerDocs(this, 'Docs', {
      api: this.api.api,
      pageLimits: limits,
      scope: identity.scope,
      tokenUrl: cognitoTokenUrl(identity.clients?.pool),
      logRetention,
      metricsNamespace,
    });
    const shards = new PartnerShards(this, 'Partners', {
      partners: config.partners,
      planOf: this.api.planOf,
      usageKeyPrefix,
      ...(identity.clients && { clients: identity.clients }),
    });
    // What the functions need of the access configuration, in its compact form; the app
    // client ids resolve at deploy time inside this JSON.
    accessStore.deploy(
      this.toJsonString(
        compactAccessConfig(
          identity.accessConfig(config.partners, shards.clientIds, usageKeyPrefix),
        ),
      ),
    );

    if (config.waf.enabled) {
      new WebFirewall(this, 'Firewall', {
        api: this.api.api,
        rateLimitPer5Minutes: wafRateLimit(config),
        metricPrefix: this.stackName,
        logRetention,
      });
    } else {
      Validations.of(this.api.api).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'The operator switched the web firewall off in the deployment configuration (waf.enabled).',
      });
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      api: this.api.api,
      proxy: this.proxy.alias,
      proxyLogGroup: this.proxy.logGroup,
      auditLogGroup: audit.logGroup,
      authorizer: this.authorizer.alias,
      metricsNamespace,
      monitoring: config.monitoring,
    });
    for (const fn of [this.proxy, this.authorizer]) {
      fn.rollOut(config.rollout.strategy, this.monitoring.rollbackAlarms);
    }
  }
}
