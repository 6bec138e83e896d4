import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  type AlarmProps,
  CfnInsightRule,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, type ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';
import { SERVICE_NAME } from '../service';

/** Properties of {@link Monitoring}. */
export interface MonitoringProps {
  /** The partner API: its 5XX rate and latency are alarmed on and graphed. */
  readonly api: RestApi;
  /**
   * The proxy function (or its alias): its errors, throttles and duration are alarmed on and
   * graphed.
   */
  readonly proxy: IFunction;
  /** The proxy's log group: scope violations are counted from its log lines. */
  readonly proxyLogGroup: ILogGroup;
  /**
   * The audit log group: a Contributor Insights rule ranks partners by refusals there, and an
   * alarm fires when one partner's refusals spike.
   */
  readonly auditLogGroup: ILogGroup;
  /**
   * The authorizer function (or its alias): its throttles are alarmed on, its duration graphed.
   * Its Lambda `Errors` are not alarmed on: API Gateway's design makes every refused token an
   * error of the function; the authorizer's own `AuthorizerFailures` metric counts real failures.
   */
  readonly authorizer: IFunction;
  /**
   * The CloudWatch namespace of the stack's custom metrics: the functions' EMF metrics (the
   * functions' `POWERTOOLS_METRICS_NAMESPACE`) and the scope-violation metric filter. Unique per
   * stack (e.g. `IotoBff/<stack name>`), so one stack's failures never fire another's alarms.
   */
  readonly metricsNamespace: string;
  /**
   * The monitoring section of the deployment configuration: the alarm thresholds
   * (`fiveXxRatePercent`, `latencyP99Ms`) and `alarmEmail`, an address subscribed to the alarm
   * topic when given (no subscription otherwise).
   */
  readonly monitoring: DeploymentConfig['monitoring'];
}

/**
 * The proxy's EMF metric of problem responses, by code (see lambda/proxy/problem-responses.ts).
 *
 * @param namespace the stack's metrics namespace ({@link MonitoringProps.metricsNamespace})
 * @param code the problem code
 * @param period the period of the sum
 */
export const problemMetric = (namespace: string, code: string, period = Duration.minutes(5)) =>
  new Metric({
    namespace,
    metricName: 'ProblemResponses',
    dimensionsMap: { service: SERVICE_NAME, code },
    statistic: 'Sum',
    period,
  });

/**
 * One of the authorizer's EMF metrics: `AuthorizerAllowed` (a token allowed, once per API
 * Gateway cache period), `AuthorizerRefusals` (a partner token refused: the partner's business,
 * not an outage) or `AuthorizerFailures` (signing keys unreachable, a broken configuration, an
 * unexpected error: API Gateway answers 503 `authorizer_unavailable`).
 *
 * @param namespace the stack's metrics namespace ({@link MonitoringProps.metricsNamespace})
 * @param metricName the metric
 */
export const authorizerMetric = (
  namespace: string,
  metricName: 'AuthorizerAllowed' | 'AuthorizerRefusals' | 'AuthorizerFailures',
  period = Duration.minutes(5),
) =>
  new Metric({
    namespace,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    statistic: 'Sum',
    period,
  });

/**
 * The message the proxy logs when Ioto answers with data outside a partner's scope
 * (`SCOPE_VIOLATION_MESSAGE` in lambda/auth/scoped-partner-policy.ts; a test keeps them equal).
 * Partners get a neutral answer then, so only this log line tells the operator.
 */
export const SCOPE_VIOLATION_LOG_MESSAGE =
  'scope violation: Ioto returned data outside the partner scope';

/** One API Gateway metric of the API over five minutes. */
const apiMetric = (
  api: RestApi,
  metricName: string,
  statistic: string,
  period = Duration.minutes(5),
) => api.metric(metricName, { statistic, period });

/** The share of requests that failed with a 5XX, in percent. */
const fiveXxRate = (api: RestApi, period = Duration.minutes(5)) =>
  new MathExpression({
    expression: '100 * errors / MAX([requests, 1])',
    usingMetrics: {
      errors: apiMetric(api, '5XXError', 'Sum', period),
      requests: apiMetric(api, 'Count', 'Sum', period),
    },
    label: '5XX rate (%)',
    period,
  });

/** The Lambda metrics alarmed on. */
interface LambdaMetrics {
  /** Throttles of both functions. */
  readonly throttles: MathExpression;
  /** Errors of the proxy only (the authorizer's count every refused token). */
  readonly proxyErrors: Metric;
}

/** Throttles of both functions and errors of the proxy, each summed over five minutes. */
function lambdaMetrics(proxy: IFunction, authorizer: IFunction): LambdaMetrics {
  /** The sum of one Lambda metric over both functions (ids unique within a graph). */
  const bothFunctions = (name: string, metric: (fn: IFunction) => Metric) =>
    new MathExpression({
      expression: `${name}Proxy + ${name}Authorizer`,
      usingMetrics: {
        [`${name}Proxy`]: metric(proxy),
        [`${name}Authorizer`]: metric(authorizer),
      },
      label: `Lambda ${name}`,
      period: Duration.minutes(5),
    });
  const fiveMinutes = { period: Duration.minutes(5) };
  return {
    throttles: bothFunctions('throttles', (fn) => fn.metricThrottles(fiveMinutes)),
    proxyErrors: proxy.metricErrors(fiveMinutes),
  };
}

/**
 * Alarms on what needs an operator (a 5XX rate, p99 latency, throttles, proxy errors, authorizer
 * failures, a refused Ioto token and Ioto data outside a partner's scope), an encrypted SNS topic
 * for them with an optional email subscription, and a CloudWatch dashboard. Every alarm notifies
 * the topic when it fires and when it recovers, and treats missing data as not breaching, so a
 * quiet API raises none.
 *
 * Secure defaults: the topic is encrypted with its own customer managed KMS key (with yearly
 * rotation; CloudWatch may use it to publish); its policy refuses requests without TLS and lets
 * CloudWatch publish only for alarms of the stack's own account and region.
 */
export class Monitoring extends Construct {
  /** The SNS topic every alarm notifies. */
  readonly topic: Topic;
  /** The alarms, in the order they are created. */
  readonly alarms: Alarm[] = [];
  /**
   * The alarms a deployment of the functions (a CodeDeploy traffic shift to new versions) rolls
   * back on: the 5XX rate, the proxy's Lambda errors, the authorizer's failures and the p99
   * latency.
   */
  readonly rollbackAlarms: IAlarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = this.#createTopic(props.monitoring.alarmEmail);
    this.#allowAlarmsToPublish(this.topic);
    const lambda = lambdaMetrics(props.proxy, props.authorizer);
    this.#createAlarms(props, lambda);
    this.#createRefusalSpikeAlarm(props.auditLogGroup, props.monitoring.refusalSpikePer5Minutes);
    this.#createDashboard(props, lambda);
    new CfnOutput(this, 'AlarmTopic', {
      value: this.topic.topicArn,
      description: 'SNS topic of the alarms',
    });
  }

  /** The alarm topic, encrypted with its own key, with the operator's email subscribed. */
  #createTopic(alarmEmail: string | undefined): Topic {
    const key = new Key(this, 'TopicKey', {
      description: 'Encrypts the ioto-bff alarm topic',
      enableKeyRotation: true,
    });
    // CloudWatch alarms publish to an encrypted topic only when they may use its key.
    key.grant(
      new ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    const topic = new Topic(this, 'Alarms', {
      displayName: 'ioto-bff alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (alarmEmail) topic.addSubscription(new EmailSubscription(alarmEmail));
    return topic;
  }

  /**
   * Lets CloudWatch alarms of this account and region publish to the topic. `enforceSSL` gives
   * the topic a policy, and a topic with a policy accepts only what the policy allows: without
   * this statement it holds a Deny alone, and no alarm could notify anyone. The alarm ARN is
   * built from the stack's account and region, not from the alarms, so the policy does not
   * depend on them (they depend on the topic).
   */
  #allowAlarmsToPublish(topic: Topic): void {
    const stack = Stack.of(this);
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
          },
        },
      }),
    );
  }

  /** Every alarm, each notifying the topic; the rollback alarms among them. */
  #createAlarms(props: MonitoringProps, lambda: LambdaMetrics): void {
    const { api, proxyLogGroup, monitoring, metricsNamespace } = props;
    const fiveXx = this.#addAlarm(
      'FiveXxRate',
      `More than ${monitoring.fiveXxRatePercent}% of requests failed with a 5XX`,
      {
        metric: fiveXxRate(api),
        threshold: monitoring.fiveXxRatePercent,
        evaluationPeriods: 2,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );
    const latency = this.#addAlarm(
      'LatencyP99',
      `p99 latency above ${monitoring.latencyP99Ms} ms`,
      {
        metric: apiMetric(api, 'Latency', 'p99'),
        threshold: monitoring.latencyP99Ms,
        evaluationPeriods: 3,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );
    this.#addAlarm('Throttles', 'Lambda invocations are throttled (a concurrency limit reached)', {
      metric: lambda.throttles,
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    const proxyErrors = this.#addAlarm(
      'LambdaErrors',
      'The proxy function failed (unhandled errors); partners got a 5XX.',
      {
        metric: lambda.proxyErrors,
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );
    const authorizerFailures = this.#addAlarm(
      'AuthorizerFailures',
      'The authorizer could not decide (issuer signing keys unreachable, a broken configuration ' +
        'or an unexpected error): partners got 503 authorizer_unavailable. See its logs.',
      {
        metric: authorizerMetric(metricsNamespace, 'AuthorizerFailures'),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );
    this.#addAlarm(
      'UpstreamAuthFailed',
      'Ioto refuses the CloudAPI token even after a refresh: it was rotated, revoked or expired. ' +
        'Put a valid token into the Ioto token secret.',
      {
        metric: problemMetric(metricsNamespace, 'upstream_auth_failed'),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );
    this.#addAlarm(
      'ScopeViolation',
      'Ioto answered a partner call with data of another account. The partner saw none of it ' +
        '(a neutral answer, or a 502 for an operation of assumed account scoping); check that ' +
        'Ioto honours accountId (see the proxy logs and npm run probe).',
      {
        metric: this.#scopeViolationMetric(proxyLogGroup, metricsNamespace),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );
    this.rollbackAlarms.push(
      fiveXx,
      proxyErrors,
      authorizerFailures,
      latency,
      ...this.#createRolloutAlarms(props),
    );
  }

  /**
   * Alarms for CodeDeploy only (they notify nobody): the operator's alarms above look at five
   * minutes, two or three times, which a 5-minute canary can outlast. These look at each minute
   * once, so a bad version is rolled back while it still takes a tenth of the traffic.
   */
  #createRolloutAlarms(props: MonitoringProps): Alarm[] {
    const minute = Duration.minutes(1);
    const quick = (id: string, description: string, metric: IMetric, threshold: number) =>
      new Alarm(this, id, {
        alarmDescription: `For rollouts only (CodeDeploy rolls back): ${description}`,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    return [
      quick(
        'RolloutProxyErrors',
        'the proxy failed within the last minute',
        props.proxy.metricErrors({ period: minute }),
        0,
      ),
      quick(
        'RolloutAuthorizerFailures',
        'the authorizer could not decide within the last minute',
        authorizerMetric(props.metricsNamespace, 'AuthorizerFailures', minute),
        0,
      ),
      quick(
        'RolloutFiveXxRate',
        `more than ${props.monitoring.fiveXxRatePercent}% 5XX within the last minute`,
        fiveXxRate(props.api, minute),
        props.monitoring.fiveXxRatePercent,
      ),
    ];
  }

  /**
   * Refusals by partner, from the audit lines (a Contributor Insights rule), and an alarm when
   * the partner with the most refusals in five minutes passes `threshold`: one partner probing
   * other tenants, or a broken integration, without an alarm per partner.
   */
  #createRefusalSpikeAlarm(auditLogGroup: ILogGroup, threshold: number): void {
    const stack = Stack.of(this);
    const rule = new CfnInsightRule(this, 'RefusalsByPartner', {
      ruleName: `${stack.stackName}-refusals-by-partner`,
      ruleState: 'ENABLED',
      ruleBody: stack.toJsonString({
        Schema: { Name: 'CloudWatchLogRule', Version: 1 },
        LogGroupNames: [auditLogGroup.logGroupName],
        LogFormat: 'JSON',
        Contribution: {
          Keys: ['$.partnerId'],
          Filters: [{ Match: '$.outcome', In: ['refused'] }],
        },
        AggregateOn: 'Count',
      }),
    });
    this.#addAlarm(
      'PartnerRefusalSpike',
      `One partner was refused more than ${threshold} times in five minutes: a partner probing ` +
        "other tenants' data, or a broken integration. The Contributor Insights rule names it; " +
        'the audit log group has its calls.',
      {
        metric: new MathExpression({
          expression: `INSIGHT_RULE_METRIC("${rule.attrRuleName}", "MaxContributorValue")`,
          period: Duration.minutes(5),
          label: 'Refusals of the most refused partner',
        }),
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );
  }

  /** One alarm that notifies the topic when it fires and when it recovers. */
  #addAlarm(
    id: string,
    description: string,
    alarmProps: Omit<AlarmProps, 'alarmDescription' | 'treatMissingData'>,
  ): Alarm {
    const created = new Alarm(this, id, {
      ...alarmProps,
      alarmDescription: description,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const notify = new SnsAction(this.topic);
    created.addAlarmAction(notify);
    created.addOkAction(notify);
    this.alarms.push(created);
    return created;
  }

  /** The count of scope violations, from a metric filter on the proxy's log lines. */
  #scopeViolationMetric(proxyLogGroup: ILogGroup, metricsNamespace: string): Metric {
    return new MetricFilter(this, 'ScopeViolations', {
      logGroup: proxyLogGroup,
      // Powertools Logger writes JSON lines with the text in `message`.
      filterPattern: FilterPattern.stringValue('$.message', '=', SCOPE_VIOLATION_LOG_MESSAGE),
      metricNamespace: metricsNamespace,
      metricName: 'ScopeViolations',
      metricValue: '1',
    }).metric({ statistic: 'Sum', period: Duration.minutes(5) });
  }

  /** The dashboard: requests, latency, problem responses by code, the functions, the authorizer. */
  #createDashboard(props: MonitoringProps, lambda: LambdaMetrics): void {
    const { api, proxy, authorizer, metricsNamespace } = props;
    new Dashboard(this, 'Dashboard', {
      widgets: [
        [new TextWidget({ markdown: '# ioto-bff', width: 24, height: 1 })],
        [
          new GraphWidget({
            title: 'Requests and errors',
            left: [
              apiMetric(api, 'Count', 'Sum'),
              apiMetric(api, '4XXError', 'Sum'),
              apiMetric(api, '5XXError', 'Sum'),
            ],
            width: 12,
          }),
          new GraphWidget({
            title: 'Latency (ms)',
            left: [
              apiMetric(api, 'Latency', 'p50'),
              apiMetric(api, 'Latency', 'p99'),
              apiMetric(api, 'IntegrationLatency', 'p99'),
            ],
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Problem responses by code',
            left: [
              'upstream_auth_failed',
              'upstream_error',
              'upstream_timeout',
              'token_unavailable',
              'operation_not_allowed',
              'account_not_allowed',
              'device_not_allowed',
              'validation_failed',
            ].map((code) => problemMetric(metricsNamespace, code)),
            width: 12,
          }),
          new GraphWidget({
            title: 'Lambda',
            left: [
              proxy.metricDuration({ statistic: 'p99' }),
              authorizer.metricDuration({ statistic: 'p99' }),
            ],
            right: [lambda.proxyErrors, lambda.throttles],
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Authorizer: allowed and refused tokens, failures',
            left: [
              authorizerMetric(metricsNamespace, 'AuthorizerAllowed'),
              authorizerMetric(metricsNamespace, 'AuthorizerRefusals'),
              authorizerMetric(metricsNamespace, 'AuthorizerFailures'),
            ],
            width: 12,
          }),
        ],
      ],
    });
  }
}
