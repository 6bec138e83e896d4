import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  ApiKey,
  ApiKeySourceType,
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
} from 'aws-cdk-lib/aws-apigateway';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { catalog } from '../../lambda/catalog/index';
import { usageIdentifierKey } from '../../lambda/config/access';
import type { DeploymentConfig } from '../config';
import { addProblemGatewayResponses } from './gateway-responses';

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
  /** The partners: each gets a usage plan (its throttle and quota) and the API key of the plan. */
  readonly partners: DeploymentConfig['partners'];
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
  responseType: '$context.error.responseType',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  wafStatus: '$context.waf.status',
  requestTime: '$context.requestTime',
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

  constructor(scope: Construct, id: string, props: PartnerApiProps) {
    super(scope, id);
    this.api = this.#createRestApi(props.api, props.logRetention);
    const authorizer = this.#createAuthorizer(props.authorizer, props.api.authorizerCacheSeconds);
    this.#addRoutes(props.proxy, authorizer);
    addProblemGatewayResponses(this.api);
    this.#addUsagePlans(props.partners);
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
      cloudWatchRole: true,
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

  /** One `POST /v1/{controller}/{operation}` method per catalog operation, all to the proxy. */
  #addRoutes(proxy: IFunction, authorizer: TokenAuthorizer): void {
    // One permission per method, scoped to it; no extra permissions for console test calls.
    const integration = new LambdaIntegration(proxy, { proxy: true, allowTestInvoke: false });
    const v1 = this.api.root.addResource('v1');
    const controllers = new Map<string, Resource>();
    for (const op of catalog) {
      let controller = controllers.get(op.controller);
      if (controller === undefined) {
        controller = v1.addResource(op.controller);
        controllers.set(op.controller, controller);
      }
      controller.addResource(op.operation).addMethod('POST', integration, {
        authorizer,
        apiKeyRequired: true,
        operationName: `${op.controller}.${op.operation}`,
      });
    }
  }

  /** A usage plan per partner, with the API key the authorizer names for that partner. */
  #addUsagePlans(partners: DeploymentConfig['partners']): void {
    for (const partner of partners) {
      const plan = this.api.addUsagePlan(`Plan-${partner.id}`, {
        name: `ioto-bff-${partner.id}`,
        description: `Usage plan of partner ${partner.id}`,
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
        ...(partner.throttle && { throttle: partner.throttle }),
        ...(partner.quota && {
          quota: { limit: partner.quota.limit, period: Period[partner.quota.period] },
        }),
      });
      // The key's value is an identifier the authorizer derives from the partner id, not a
      // secret: with key source AUTHORIZER partners cannot present keys at all.
      plan.addApiKey(
        new ApiKey(this, `Key-${partner.id}`, {
          apiKeyName: `ioto-bff-${partner.id}`,
          value: usageIdentifierKey(partner.id),
          enabled: true,
        }),
      );
    }
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
