import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MockIntegration, ResponseType, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Alias, Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { AuthorizerUnavailableError } from '../../lambda/problems/problem-error';
import { PROBLEM_TYPE_PREFIX } from '../../lambda/problems/to-problem';
import {
  addProblemGatewayResponses,
  GATEWAY_PROBLEMS,
  gatewayProblemBody,
} from '../../lib/constructs/gateway-responses';
import { Monitoring } from '../../lib/constructs/monitoring';
import { WebFirewall } from '../../lib/constructs/web-firewall';
import { SERVICE_NAME } from '../../lib/service';

/**
 * The operational fixes of the web firewall, the gateway responses and the monitoring, on the
 * constructs themselves: a small stack with a REST API of one method, two inline functions and
 * a log group stands in for the rest of ioto-bff.
 */
const PREFIX = 'OpsTest';
const NAMESPACE = `IotoBff/${PREFIX}`;

type Resource = { Type: string; Properties: Record<string, unknown> };

/** The small stack with the three constructs under test; functions or their aliases. */
function build(options: { aliases?: boolean } = {}) {
  const app = new App();
  const stack = new Stack(app, PREFIX);
  const api = new RestApi(stack, 'Api', { deployOptions: { stageName: 'prod' } });
  api.root.addResource('v1').addMethod('POST', new MockIntegration());
  const fn = (id: string) =>
    new LambdaFunction(stack, id, {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
    });
  const proxyFn = fn('ProxyFunction');
  const authorizerFn = fn('AuthorizerFunction');
  const live = (f: LambdaFunction) =>
    new Alias(stack, `${f.node.id}Live`, { aliasName: 'live', version: f.currentVersion });
  const proxy = options.aliases ? live(proxyFn) : proxyFn;
  const authorizer = options.aliases ? live(authorizerFn) : authorizerFn;
  addProblemGatewayResponses(api);
  new WebFirewall(stack, 'Firewall', {
    api,
    rateLimitPer5Minutes: 3000,
    metricPrefix: PREFIX,
    logRetention: RetentionDays.THREE_MONTHS,
  });
  const monitoring = new Monitoring(stack, 'Monitoring', {
    api,
    proxy,
    proxyLogGroup: new LogGroup(stack, 'ProxyLogs'),
    auditLogGroup: new LogGroup(stack, 'AuditLogs'),
    authorizer,
    metricsNamespace: NAMESPACE,
    monitoring: {
      logRetentionDays: 90,
      auditRetentionDays: 365,
      refusalSpikePer5Minutes: 50,
      fiveXxRatePercent: 5,
      latencyP99Ms: 5000,
    },
  });
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const idOf = (f: LambdaFunction) => stack.getLogicalId(f.node.defaultChild as CfnElement);
  return { app, template, ofType, monitoring, idOf, proxyFn, authorizerFn };
}

const built = build();
const { template, ofType } = built;
const [, webAcl] = ofType('AWS::WAFv2::WebACL')[0] ?? [];
const aclProps = webAcl?.Properties as {
  VisibilityConfig: Record<string, unknown>;
  CustomResponseBodies: Record<string, { ContentType: string; Content: string }>;
  Rules: { Name: string; Action?: unknown; VisibilityConfig: Record<string, unknown> }[];
};
const alarms = ofType('AWS::CloudWatch::Alarm');
const alarmNamed = (name: string) => {
  const found = alarms.find(([id]) => id.startsWith(`Monitoring${name}`));
  if (found === undefined) throw new Error(`no alarm ${name}`);
  return found[1].Properties;
};

describe('the web firewall', () => {
  it('answers the rate-based rule with 429, the throttled problem body and Retry-After', () => {
    const rule = aclProps.Rules.find((r) => r.Name === 'RatePerClientIp');
    expect(rule?.Action).toEqual({
      Block: {
        CustomResponse: {
          ResponseCode: 429,
          CustomResponseBodyKey: 'throttled',
          ResponseHeaders: expect.arrayContaining([
            { Name: 'retry-after', Value: '60' },
            { Name: 'cache-control', Value: 'no-store' },
          ]),
        },
      },
    });
    const body = aclProps.CustomResponseBodies.throttled;
    expect(body?.ContentType).toBe('APPLICATION_JSON');
    expect(JSON.parse(body?.Content ?? '{}')).toEqual({
      type: `${PROBLEM_TYPE_PREFIX}throttled`,
      title: 'Too many requests',
      status: 429,
      detail: expect.stringContaining('retry later'),
      code: 'throttled',
    });
  });

  it("answers with the same type and title as API Gateway's THROTTLED response", () => {
    const gateway = GATEWAY_PROBLEMS.find((p) => p.type === ResponseType.THROTTLED);
    const waf = JSON.parse(aclProps.CustomResponseBodies.throttled?.Content ?? '{}');
    expect(gateway && gatewayProblemBody(gateway)).toMatchObject({
      type: waf.type,
      title: waf.title,
      status: waf.status,
      code: waf.code,
    });
  });

  it('keeps the rate limit it is given, per client IP', () => {
    const rule = aclProps.Rules.find((r) => r.Name === 'RatePerClientIp') as unknown as {
      Statement: unknown;
    };
    expect(rule.Statement).toEqual({ RateBasedStatement: { Limit: 3000, AggregateKeyType: 'IP' } });
  });

  it('turns sampled requests off on the web ACL and every rule, and prefixes every metric', () => {
    const configs = [aclProps.VisibilityConfig, ...aclProps.Rules.map((r) => r.VisibilityConfig)];
    expect(configs).toHaveLength(4);
    for (const config of configs) {
      expect(config).toMatchObject({
        SampledRequestsEnabled: false,
        CloudWatchMetricsEnabled: true,
        MetricName: expect.stringMatching(new RegExp(`^${PREFIX}-[a-z-]+$`)),
      });
    }
    expect(new Set(configs.map((c) => c.MetricName)).size).toBe(4);
  });

  it('logs to a log group named aws-waf-logs-<prefix>-<stack uuid>, with retention', () => {
    const [[id, group]] = ofType('AWS::Logs::LogGroup').filter(([id]) =>
      id.startsWith('Firewall'),
    ) as [[string, Resource]];
    expect(group.Properties.RetentionInDays).toBe(90);
    expect(group.Properties.LogGroupName).toEqual({
      'Fn::Join': [
        '',
        [
          `aws-waf-logs-${PREFIX}-`,
          { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
        ],
      ],
    });
    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      ResourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FirewallWebAcl'), 'Arn'] },
      LogDestinationConfigs: [
        {
          'Fn::Join': ['', Match.arrayWith([':log-group:', { Ref: id }])],
        },
      ],
    });
  });

  it('gives WAF the log group ARN without the trailing :*', () => {
    const [, logging] = ofType('AWS::WAFv2::LoggingConfiguration')[0] ?? [];
    const [arn] = (logging?.Properties.LogDestinationConfigs ?? []) as {
      'Fn::Join': [string, unknown[]];
    }[];
    const parts = arn?.['Fn::Join'][1] ?? [];
    expect(parts.at(-1)).toEqual({ Ref: expect.stringMatching(/^FirewallLogs/) });
  });

  it('redacts the authorization header from the logs', () => {
    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      RedactedFields: [{ SingleHeader: { Name: 'authorization' } }],
    });
  });

  it('refuses a metric prefix WAF cannot use', () => {
    const stack = new Stack(new App(), 'Bad');
    const api = new RestApi(stack, 'Api');
    api.root.addMethod('POST', new MockIntegration());
    const firewall = (metricPrefix: string) => () =>
      new WebFirewall(stack, `Firewall${metricPrefix.length}`, {
        api,
        rateLimitPer5Minutes: 2000,
        metricPrefix,
        logRetention: RetentionDays.ONE_MONTH,
      });
    expect(firewall('my stack')).toThrow(/metricPrefix/);
    expect(firewall('x'.repeat(118))).toThrow(/at most 117/);
    expect(firewall('x'.repeat(117))).not.toThrow();
  });
});

/**
 * The status every response type must answer with: API Gateway's own
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html)
 * except where the contract says otherwise; none on the two fallbacks.
 */
const EXPECTED_STATUS: Readonly<Record<string, string | undefined>> = {
  ACCESS_DENIED: '403',
  API_CONFIGURATION_ERROR: '500',
  AUTHORIZER_CONFIGURATION_ERROR: '503', // API Gateway: 500
  AUTHORIZER_FAILURE: '503', // API Gateway: 500
  BAD_REQUEST_PARAMETERS: '400',
  BAD_REQUEST_BODY: '400',
  DEFAULT_4XX: undefined,
  DEFAULT_5XX: undefined,
  EXPIRED_TOKEN: '403',
  INTEGRATION_FAILURE: '502', // API Gateway: 504
  INTEGRATION_TIMEOUT: '504',
  INVALID_API_KEY: '403',
  INVALID_SIGNATURE: '403',
  MISSING_AUTHENTICATION_TOKEN: '404', // API Gateway: 403
  QUOTA_EXCEEDED: '429',
  REQUEST_TOO_LARGE: '413',
  RESOURCE_NOT_FOUND: '404',
  THROTTLED: '429',
  UNAUTHORIZED: '401',
  UNSUPPORTED_MEDIA_TYPE: '415',
  WAF_FILTERED: '403',
};

/** API Gateway's own default statuses, from the same page. */
const API_GATEWAY_STATUS: Readonly<Record<string, number | undefined>> = {
  ...Object.fromEntries(Object.entries(EXPECTED_STATUS).map(([type, s]) => [type, Number(s)])),
  AUTHORIZER_CONFIGURATION_ERROR: 500,
  AUTHORIZER_FAILURE: 500,
  INTEGRATION_FAILURE: 504,
  MISSING_AUTHENTICATION_TOKEN: 403,
  DEFAULT_4XX: undefined,
  DEFAULT_5XX: undefined,
};

const gatewayResponses = Object.fromEntries(
  ofType('AWS::ApiGateway::GatewayResponse').map(([, r]) => [
    String(r.Properties.ResponseType),
    r.Properties as {
      StatusCode?: string;
      ResponseParameters: Record<string, string>;
      ResponseTemplates: Record<string, string>;
    },
  ]),
);
const bodyOf = (type: string) =>
  JSON.parse(gatewayResponses[type]?.ResponseTemplates['application/json'] ?? '{}');

describe('the gateway responses', () => {
  /** Every response type aws-cdk-lib knows, from its static members. */
  const allTypes = Object.values(ResponseType)
    .filter((value): value is ResponseType => value instanceof ResponseType)
    .map((type) => type.responseType);

  it("define every response type of aws-cdk-lib's ResponseType, once", () => {
    expect(allTypes.length).toBeGreaterThanOrEqual(21);
    expect(Object.keys(gatewayResponses).sort()).toEqual([...allTypes].sort());
    expect(GATEWAY_PROBLEMS.map((p) => p.type.responseType).sort()).toEqual([...allTypes].sort());
    expect(Object.keys(EXPECTED_STATUS).sort()).toEqual([...allTypes].sort());
  });

  it.each(Object.entries(EXPECTED_STATUS))('answer %s with status %s', (type, status) => {
    expect(gatewayResponses[type]?.StatusCode).toBe(status);
    const body = bodyOf(type);
    expect(body.requestId).toBe('$context.requestId');
    if (status === undefined) expect(body).not.toHaveProperty('status');
    else expect(body.status).toBe(Number(status));
    expect(body.type).toBe(`${PROBLEM_TYPE_PREFIX}${body.code}`);
  });

  it("name API Gateway's own status and say why wherever the contract differs", () => {
    for (const entry of GATEWAY_PROBLEMS) {
      const type = entry.type.responseType;
      expect([type, entry.gatewayStatus]).toEqual([type, API_GATEWAY_STATUS[type]]);
      const differs = entry.status !== entry.gatewayStatus;
      expect([type, differs, entry.why !== undefined]).toEqual([type, differs, differs]);
    }
  });

  it('carry the shared headers on every response', () => {
    for (const [type, response] of Object.entries(gatewayResponses)) {
      expect([type, response.ResponseParameters]).toEqual([
        type,
        expect.objectContaining({
          'gatewayresponse.header.Content-Type': "'application/problem+json'",
          'gatewayresponse.header.Cache-Control': "'no-store'",
          'gatewayresponse.header.X-Content-Type-Options': "'nosniff'",
          'gatewayresponse.header.x-request-id': 'context.requestId',
        }),
      ]);
    }
  });

  it('answer an authorizer that failed as 503 authorizer_unavailable with Retry-After', () => {
    const expected = new AuthorizerUnavailableError();
    for (const type of ['AUTHORIZER_FAILURE', 'AUTHORIZER_CONFIGURATION_ERROR']) {
      expect(bodyOf(type)).toMatchObject({
        code: 'authorizer_unavailable',
        title: expected.title,
        detail: expected.detail,
      });
      expect(gatewayResponses[type]?.ResponseParameters).toMatchObject({
        'gatewayresponse.header.Retry-After': `'${expected.headers['retry-after']}'`,
      });
    }
  });

  it('answer timeouts, integration failures, unknown routes and the fallbacks with their codes', () => {
    expect(bodyOf('INTEGRATION_TIMEOUT').code).toBe('upstream_timeout');
    expect(bodyOf('INTEGRATION_FAILURE')).toMatchObject({
      code: 'integration_failed',
      detail: expect.not.stringMatching(/lambda|function|exception/i),
    });
    expect(bodyOf('MISSING_AUTHENTICATION_TOKEN').code).toBe('not_found');
    expect(bodyOf('DEFAULT_4XX').code).toBe('bad_request');
    expect(bodyOf('DEFAULT_5XX')).toMatchObject({ code: 'internal', title: 'Internal error' });
  });
});

describe('the monitoring', () => {
  const topicId = ofType('AWS::SNS::Topic')[0]?.[0] ?? '';

  it('lets CloudWatch alarms of the stack account publish to the topic, besides the TLS deny', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':cloudwatch:',
                      { Ref: 'AWS::Region' },
                      ':',
                      { Ref: 'AWS::AccountId' },
                      ':alarm:*',
                    ],
                  ],
                },
              },
            },
          }),
        ]),
      },
    });
  });

  it('notifies the topic from every operator alarm when it fires and when it recovers', () => {
    // The Rollout* alarms are CodeDeploy's only (they look at one minute, for canaries).
    const operators = alarms.filter(([id]) => !/Rollout/.test(id));
    expect(operators.length).toBeGreaterThanOrEqual(7);
    for (const [id, alarm] of operators) {
      expect([id, alarm.Properties.AlarmActions]).toEqual([id, [{ Ref: topicId }]]);
      expect([id, alarm.Properties.OKActions]).toEqual([id, [{ Ref: topicId }]]);
    }
  });

  it('watches only the proxy with the LambdaErrors alarm', () => {
    const text = JSON.stringify(alarmNamed('LambdaErrors'));
    expect(text).toContain(built.idOf(built.proxyFn));
    expect(text).not.toContain(built.idOf(built.authorizerFn));
    expect(alarmNamed('LambdaErrors')).toMatchObject({
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
    });
  });

  it("alarms on the authorizer's failures, in the stack's namespace", () => {
    expect(alarmNamed('AuthorizerFailures')).toMatchObject({
      Namespace: NAMESPACE,
      MetricName: 'AuthorizerFailures',
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(JSON.stringify(alarms)).not.toContain('AuthorizerRefusals');
  });

  it('graphs refused tokens on the dashboard', () => {
    const [, dashboard] = ofType('AWS::CloudWatch::Dashboard')[0] ?? [];
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    expect(body).toContain('AuthorizerRefusals');
    expect(body).toContain('AuthorizerFailures');
  });

  it("publishes and reads every custom metric in the stack's namespace only", () => {
    const custom = alarms
      .map(([, a]) => a.Properties)
      .flatMap((a) => [
        a.Namespace,
        ...((a.Metrics as { MetricStat?: { Metric: { Namespace: string } } }[]) ?? []).map(
          (m) => m.MetricStat?.Metric.Namespace,
        ),
      ])
      .filter((ns): ns is string => typeof ns === 'string' && !ns.startsWith('AWS/'));
    expect(custom.length).toBeGreaterThanOrEqual(3);
    expect(new Set(custom)).toEqual(new Set([NAMESPACE]));
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      MetricTransformations: [Match.objectLike({ MetricNamespace: NAMESPACE })],
    });
    const [, dashboard] = ofType('AWS::CloudWatch::Dashboard')[0] ?? [];
    const namespaces = [
      ...JSON.stringify(dashboard?.Properties.DashboardBody).matchAll(/\\"(IotoBff[^\\"]*)\\"/g),
    ].map((m) => m[1]);
    expect(namespaces.length).toBeGreaterThan(0);
    expect(new Set(namespaces)).toEqual(new Set([NAMESPACE]));
  });

  it('offers the 5XX rate, proxy errors, authorizer failures and p99 latency as rollback alarms', () => {
    expect(built.monitoring.rollbackAlarms.map((a) => a.node.id)).toEqual([
      'FiveXxRate',
      'LambdaErrors',
      'AuthorizerFailures',
      'LatencyP99',
      'RolloutProxyErrors',
      'RolloutAuthorizerFailures',
      'RolloutFiveXxRate',
    ]);
  });

  it('lets rollouts roll back within a minute, without paging the operator', () => {
    const rollout = alarms.filter(([id]) => /Rollout/.test(id));
    expect(rollout).toHaveLength(3);
    for (const [, alarm] of rollout) {
      expect(alarm.Properties).toMatchObject({ EvaluationPeriods: 1 });
      expect(alarm.Properties.AlarmActions).toBeUndefined();
      const periods = JSON.stringify(alarm.Properties).match(/"Period":(\d+)/g) ?? [];
      expect(periods.length).toBeGreaterThan(0);
      for (const period of periods) expect(period).toBe('"Period":60');
    }
  });

  it('watches the aliases when given aliases', () => {
    const withAliases = build({ aliases: true });
    const resources = withAliases.template.toJSON().Resources as Record<string, Resource>;
    const [, errors] =
      Object.entries(resources).find(([id]) => id.startsWith('MonitoringLambdaErrors')) ?? [];
    expect(errors?.Properties.Dimensions).toEqual(
      expect.arrayContaining([expect.objectContaining({ Name: 'Resource' })]),
    );
  });
});

describe('cdk-nag', () => {
  it('reports nothing unacknowledged on the web firewall or the monitoring', () => {
    const paths = [AwsSolutionsChecks, ServerlessChecks].flatMap((Pack) =>
      new Pack()
        .validateScope(built.app)
        .violations.flatMap((v) =>
          v.violatingResources.map(
            (r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`,
          ),
        ),
    );
    expect(paths.filter((p) => /\/(Firewall|Monitoring)\//.test(p))).toEqual([]);
  });
});
