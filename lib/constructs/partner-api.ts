import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  ApiKeySourceType,
  AuthorizationType,
  EndpointType,
  IdentitySource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  Period,
  type Resource,
  RestApi,
  SecurityPolicy,
  TokenAuthorizer,
  type UsagePlan,
} from 'aws-cdk-lib/aws-apigateway';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { catalog } from '../../lambda/catalog/index';
import type { DeploymentConfig, DeploymentPartner } from '../config';
import { addProblemGatewayResponses } from './gateway-responses';
import { methodNotAllowed } from './method-not-allowed';

/** Properties of {@link PartnerApi}. */
export interface PartnerApiProps {
  /** The proxy function every route integrates with (Lambda proxy integration). */
  readonly proxy: IFunction;
  /** The TOKEN authorizer function: it verifies the bearer token and names the partner. */
  readonly authorizer: IFunction;
  /**
   * The api section of the deployment configuration: the stage name, stage-wide throttling
   * (`rateLimit`, `burstLimit`), `authorizerCacheSeconds` and, when given, `customDomain`
   * (the execute-api endpoint is then disabled; without one the API answers on it).
   */
  readonly api: DeploymentConfig['api'];
  /**
   * The partners: one usage plan per distinct throttle and quota among them (a tier), which
   * throttles each partner's API key separately (the keys are in {@link PartnerShards}).
   */
  readonly partners: readonly DeploymentPartner[];
  /** How long the access log group keeps the stage's access log lines. */
  readonly logRetention: RetentionDays;
}

/** The JSON access log line of every request (Serverless-APIGWStructuredLogging). */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  partner: '$context.authorizer.principalId',
  route: '$context.resourcePath',
  method: '$context.httpMethod',
  status: '$context.status',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integration.latency',
  authorizerLatencyMs: '$context.authorizer.integrationLatency',
  // The authorizer invocation's request id, which its log lines carry as correlation_id: joins a
  // refused token's authorizer log to this line. Empty when API Gateway answered from its cache.
  authorizerRequestId: '$context.authorizer.requestId',
  responseType: '$context.error.responseType',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  wafStatus: '$context.waf.status',
  requestTime: '$context.requestTime',
  errorMessage: '$context.error.message',
  integrationError: '$context.integrationErrorMessage',
  xrayTraceId: '$context.xrayTraceId',
};

/**
 * The partner-facing REST API: one explicit `POST /v1/{controller}/{operation}` resource per
 * catalog operation (no catch-all proxy), each behind the Lambda TOKEN authorizer and an API
 * key that the authorizer supplies (key source AUTHORIZER), so every partner's usage plan
 * throttles it without the partner ever handling a key.
 *
 * Secure defaults: a regional endpoint (TLS 1.2 on a custom domain), stage-wide throttling,
 * JSON access logs, execution logs of errors only and never of bodies, X-Ray tracing, tokens
 * refused by their shape before the authorizer runs, and API Gateway's own refusals answered
 * as the proxy's problems (see {@link addProblemGatewayResponses}).
 */
export class PartnerApi extends Construct {
  /** The REST API, with its deployment stage. */
  readonly api: RestApi;
  /** The usage plan (tier) a partner's API key belongs to. */
  readonly planOf: (partner: DeploymentPartner) => UsagePlan;

  constructor(scope: Construct, id: string, props: PartnerApiProps) {
    super(scope, id);
    this.api = this.#createRestApi(props.api, props.logRetention);
    const authorizer = this.#createAuthorizer(props.authorizer, props.api.authorizerCacheSeconds);
    this.#addRoutes(props.proxy, authorizer);
    addProblemGatewayResponses(this.api);
    this.planOf = this.#addUsagePlanTiers(props.partners);
    this.#addOutputs(props.api.customDomain);
  }

  /** The REST API and its stage: access logs, tracing, throttling, the custom domain if any. */
  #createRestApi(settings: DeploymentConfig['api'], logRetention: RetentionDays): RestApi {
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: logRetention });
    const customDomain = settings.customDomain;
    const api = new RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-partner-api`,
      description: 'ioto-bff: the EmbedThis Ioto device cloud API for partners',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      apiKeySourceType: ApiKeySourceType.AUTHORIZER,
      // The account-wide execution-log role: set by the first stack of an account and region,
      // and kept when a stack goes (another stack may rely on it).
      cloudWatchRole: settings.cloudWatchRole,
      ...(settings.cloudWatchRole && { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN }),
      disableExecuteApiEndpoint: customDomain !== undefined,
      ...(customDomain && {
        domainName: {
          domainName: customDomain.domainName,
          certificate: Certificate.fromCertificateArn(
            this,
            'Certificate',
            customDomain.certificateArn,
          ),
          endpointType: EndpointType.REGIONAL,
          securityPolicy: SecurityPolicy.TLS_1_2,
        },
      }),
      deployOptions: {
        stageName: settings.stageName,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: settings.rateLimit,
        throttlingBurstLimit: settings.burstLimit,
      },
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The account-level role that lets API Gateway write execution logs; AWS publishes this ' +
        'managed policy for exactly that role.',
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'Every body is validated by the proxy against the strict zod schema of its operation in ' +
        'the catalog (stricter than JSON-schema draft 4 models), before anything is forwarded.',
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'A Lambda TOKEN authorizer verifies the Cognito (or OIDC) access token with aws-jwt-verify, ' +
        'requires the gateway scope and maps the client to a partner, which a Cognito authorizer cannot.',
    });
    return api;
  }

  /** The TOKEN authorizer on the `Authorization` header, refusing non-JWT bearer tokens itself. */
  #createAuthorizer(handler: IFunction, cacheSeconds: number): TokenAuthorizer {
    return new TokenAuthorizer(this, 'Authorizer', {
      handler,
      identitySource: IdentitySource.header('Authorization'),
      // Cached per token; the policy covers every route, so a cached result stays right.
      resultsCacheTtl: Duration.seconds(cacheSeconds),
      validationRegex:
        '^[Bb][Ee][Aa][Rr][Ee][Rr] [A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*$',
    });
  }

  /**
   * One `POST /v1/{controller}/{operation}` method per catalog operation, all to the proxy, and
   * on the same resources an `ANY` method that answers 405 for every other method.
   */
  #addRoutes(proxy: IFunction, authorizer: TokenAuthorizer): void {
    // One permission for the whole API rather than one per method: 44 method-scoped permissions
    // put the proxy's resource policy near Lambda's 20 KB limit. The API's own execute-api ARN
    // still confines it to this API.
    const integration = new LambdaIntegration(proxy, {
      proxy: true,
      scopePermissionToMethod: false,
    });
    const notAllowed = methodNotAllowed();
    const v1 = this.api.root.addResource('v1');
    const controllers = new Map<string, Resource>();
    for (const op of catalog) {
      let controller = controllers.get(op.controller);
      if (controller === undefined) {
        controller = v1.addResource(op.controller);
        controllers.set(op.controller, controller);
      }
      const route = controller.addResource(op.operation);
      route.addMethod('POST', integration, {
        authorizer,
        apiKeyRequired: true,
        operationName: `${op.controller}.${op.operation}`,
      });
      // Open, like the 404 of an unknown route: the authorizer's policy covers POST only, and
      // the answer is fixed text that invokes nothing and reveals nothing but the route.
      const other = route.addMethod('ANY', notAllowed.integration, {
        authorizationType: AuthorizationType.NONE,
        operationName: `${op.controller}.${op.operation}.notAllowed`,
        methodResponses: notAllowed.methodResponses,
      });
      Validations.of(other).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'A mock that answers every method but POST with 405 and Allow: POST; it invokes ' +
          'nothing and returns no data, as the 404 of an unknown route does.',
      });
      Validations.of(other).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: 'The 405 mock of non-POST methods needs no identity: it serves no data.',
      });
    }
  }

  /**
   * One usage plan per distinct throttle and quota among the partners: API Gateway throttles
   * and counts each API key of a plan on its own, so partners of one tier never share a budget,
   * and the plans stay few (API Gateway allows 300 per account and region).
   */
  #addUsagePlanTiers(partners: readonly DeploymentPartner[]): (p: DeploymentPartner) => UsagePlan {
    const stackName = Stack.of(this).stackName;
    const tiers = new Map<string, UsagePlan>();
    const tierOf = (partner: DeploymentPartner) =>
      JSON.stringify([partner.throttle ?? null, partner.quota ?? null]);
    for (const partner of partners) {
      const key = tierOf(partner);
      if (tiers.has(key)) continue;
      const index = tiers.size + 1;
      const { throttle, quota } = partner;
      tiers.set(
        key,
        this.api.addUsagePlan(`Tier${index}`, {
          name: `${stackName}-tier-${index}`,
          description:
            `Partners with ${throttle ? `${throttle.rateLimit}/s, burst ${throttle.burstLimit}` : 'the stage throttle'}` +
            `${quota ? `, ${quota.limit} per ${quota.period}` : ', no quota'}`,
          apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
          ...(throttle && { throttle }),
          ...(quota && { quota: { limit: quota.limit, period: Period[quota.period] } }),
        }),
      );
    }
    return (partner) => {
      const plan = tiers.get(tierOf(partner));
      if (plan === undefined) throw new Error(`Partner ${partner.id} has no usage plan tier`);
      return plan;
    };
  }

  /** The base URL and, with a custom domain, the target of its DNS record. */
  #addOutputs(customDomain: DeploymentConfig['api']['customDomain']): void {
    new CfnOutput(this, 'Url', {
      value: customDomain ? `https://${customDomain.domainName}/` : this.api.url,
      description: 'Base URL of the partner API (POST {url}v1/{controller}/{operation})',
    });
    if (customDomain && this.api.domainName) {
      new CfnOutput(this, 'DomainTarget', {
        value: this.api.domainName.domainNameAliasDomainName,
        description: `Point a CNAME or alias record for ${customDomain.domainName} here`,
      });
    }
  }
}
