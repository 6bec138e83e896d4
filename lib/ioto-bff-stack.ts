import { Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { compactAccessConfig } from '../lambda/config/access';
import { toEnvironment } from '../lambda/config/settings';
import { type DeploymentConfig, DeploymentConfigError } from './config';
import { BffFunction } from './constructs/bff-function';
import { IotoSecrets } from './constructs/ioto-secrets';
import { Monitoring } from './constructs/monitoring';
import { PartnerApi } from './constructs/partner-api';
import { PartnerIdentity } from './constructs/partner-identity';
import { WebFirewall } from './constructs/web-firewall';

/** Lambda allows 4 KB of environment variables per function, names and values together. */
const LAMBDA_ENVIRONMENT_BYTES = 4096;
/** What the proxy's other variables take, generously (ARNs, endpoint, limits, Powertools). */
const OTHER_VARIABLES_BYTES = 900;
/** A deploy-time value: a region (≤ 14), a pool id (≤ 24), a client id (26), with margin. */
const RESOLVED_TOKEN_BYTES = 32;

/**
 * The access configuration travels to both functions as `ACCESS_CONFIG`; fail the synth, not
 * the deployment, when the partners no longer fit Lambda's environment limit.
 */
function checkEnvironmentSize(access: Record<string, unknown>): void {
  const bytes = Buffer.byteLength(
    JSON.stringify(access).replace(/\$\{Token\[[^\]]+\]\}/g, 'x'.repeat(RESOLVED_TOKEN_BYTES)),
  );
  if (bytes + OTHER_VARIABLES_BYTES > LAMBDA_ENVIRONMENT_BYTES) {
    throw new DeploymentConfigError(
      `Invalid deployment configuration: partners: the access configuration needs about ${bytes} bytes, ` +
        `more than the ${LAMBDA_ENVIRONMENT_BYTES - OTHER_VARIABLES_BYTES} bytes left in the Lambda ` +
        'environment (4 KB); use wildcards in operations or fewer partners per stack.',
    );
  }
}

export interface IotoBffStackProps extends StackProps {
  /** The validated deployment configuration. */
  readonly config: DeploymentConfig;
}

/**
 * ioto-bff in one stack: secrets, partner identity, the authorizer and proxy functions, the
 * REST API with its usage plans, the web firewall and monitoring. Environment-agnostic: it
 * synthesizes offline with no credentials and no lookups.
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

    this.secrets = new IotoSecrets(this, 'Secrets', { tokenSecret: config.ioto.tokenSecret });
    const identity = new PartnerIdentity(this, 'Identity', {
      identity: config.identity,
      partners: config.partners,
    });
    // What the functions need of the access configuration, in its compact form.
    const runtimeAccess = compactAccessConfig(identity.access);
    checkEnvironmentSize(runtimeAccess);
    // Tokens (client ids, the pool id) resolve at deploy time inside this JSON.
    const accessConfig = this.toJsonString(runtimeAccess);

    this.authorizer = new BffFunction(this, 'AuthorizerFunction', {
      handler: 'authorizer',
      description: 'ioto-bff: verifies partner access tokens and maps them to partners',
      memorySize: limits.authorizerMemoryMb,
      timeout: Duration.seconds(10),
      logRetention,
      environment: { ACCESS_CONFIG: accessConfig },
    });

    // The schema keeps the upstream deadline below this timeout, itself below API Gateway's 29 s.
    this.proxy = new BffFunction(this, 'ProxyFunction', {
      handler: 'proxy',
      description: 'ioto-bff: validates, authorizes and forwards partner calls to Ioto',
      memorySize: limits.proxyMemoryMb,
      timeout: Duration.seconds(limits.proxyTimeoutSeconds),
      reservedConcurrentExecutions: limits.proxyReservedConcurrency,
      logRetention,
      environment: {
        IOTO_ENDPOINT: config.ioto.endpoint,
        IOTO_AUTH_SCHEME: config.ioto.authScheme,
        IOTO_TOKEN_SECRET_ID: this.secrets.tokenSecretId,
        PAGE_TOKEN_SECRET_ID: this.secrets.pageTokenKey.secretArn,
        ACCESS_CONFIG: accessConfig,
        ...toEnvironment(limits),
      },
    });
    // Only the proxy may read either secret.
    this.secrets.token.grantRead(this.proxy.role);
    this.secrets.pageTokenKey.grantRead(this.proxy.role);

    this.api = new PartnerApi(this, 'PartnerApi', {
      proxy: this.proxy.function,
      authorizer: this.authorizer.function,
      api: config.api,
      partners: config.partners,
      logRetention,
    });

    if (config.waf.enabled) {
      new WebFirewall(this, 'Firewall', {
        api: this.api.api,
        rateLimitPer5Minutes: config.waf.rateLimitPer5Minutes,
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
      proxy: this.proxy.function,
      proxyLogGroup: this.proxy.logGroup,
      authorizer: this.authorizer.function,
      monitoring: config.monitoring,
    });
  }
}
