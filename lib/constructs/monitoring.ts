import { CfnOutput, Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, type ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';

export interface MonitoringProps {
  readonly api: RestApi;
  readonly proxy: IFunction;
  /** The proxy's log group: scope violations are counted from its log lines. */
  readonly proxyLogGroup: ILogGroup;
  readonly authorizer: IFunction;
  readonly monitoring: DeploymentConfig['monitoring'];
}

/** The proxy's EMF metric of problem responses, by code (see lambda/proxy/problem-responses.ts). */
export const problemMetric = (code: string, period = Duration.minutes(5)) =>
  new Metric({
    namespace: 'IotoBff',
    metricName: 'ProblemResponses',
    dimensionsMap: { service: 'ioto-bff', code },
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

/**
 * Alarms on what needs an operator (a 5XX rate, p99 latency, throttles, Lambda errors, a
 * refused Ioto token and Ioto data outside a partner's scope), an encrypted SNS topic for them with an optional email subscription, and
 * a CloudWatch dashboard.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { api, proxy, proxyLogGroup, authorizer, monitoring } = props;
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
    this.topic = new Topic(this, 'Alarms', {
      displayName: 'ioto-bff alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (monitoring.alarmEmail)
      this.topic.addSubscription(new EmailSubscription(monitoring.alarmEmail));

    const apiMetric = (metricName: string, statistic: string) =>
      api.metric(metricName, { statistic, period: Duration.minutes(5) });
    const fiveXxRate = new MathExpression({
      expression: '100 * errors / MAX([requests, 1])',
      usingMetrics: { errors: apiMetric('5XXError', 'Sum'), requests: apiMetric('Count', 'Sum') },
      label: '5XX rate (%)',
      period: Duration.minutes(5),
    });
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
    const throttles = bothFunctions('throttles', (fn) => fn.metricThrottles(fiveMinutes));
    const errors = bothFunctions('errors', (fn) => fn.metricErrors(fiveMinutes));

    const alarm = (
      name: string,
      description: string,
      props: ConstructorParameters<typeof Alarm>[2],
    ) => {
      const created = new Alarm(this, name, {
        ...props,
        alarmDescription: description,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new SnsAction(this.topic));
      this.alarms.push(created);
      return created;
    };
    alarm(
      'FiveXxRate',
      `More than ${monitoring.fiveXxRatePercent}% of requests failed with a 5XX`,
      {
        metric: fiveXxRate,
        threshold: monitoring.fiveXxRatePercent,
        evaluationPeriods: 2,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );
    alarm('LatencyP99', `p99 latency above ${monitoring.latencyP99Ms} ms`, {
      metric: apiMetric('Latency', 'p99'),
      threshold: monitoring.latencyP99Ms,
      evaluationPeriods: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    alarm('Throttles', 'Lambda invocations are throttled (reserved concurrency reached)', {
      metric: throttles,
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    alarm('LambdaErrors', 'The proxy or authorizer function failed (unhandled errors)', {
      metric: errors,
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    alarm(
      'UpstreamAuthFailed',
      'Ioto refuses the CloudAPI token even after a refresh: it was rotated, revoked or expired. ' +
        'Put a valid token into the Ioto token secret.',
      {
        metric: problemMetric('upstream_auth_failed'),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );

    const scopeViolations = new MetricFilter(this, 'ScopeViolations', {
      logGroup: proxyLogGroup,
      // Powertools Logger writes JSON lines with the text in `message`.
      filterPattern: FilterPattern.stringValue('$.message', '=', SCOPE_VIOLATION_LOG_MESSAGE),
      metricNamespace: 'IotoBff',
      metricName: 'ScopeViolations',
      metricValue: '1',
    }).metric({ statistic: 'Sum', period: Duration.minutes(5) });
    alarm(
      'ScopeViolation',
      'Ioto answered a partner call with data of another account. The partner got a neutral ' +
        'answer and saw none of it; check that Ioto honours accountId (see the proxy logs).',
      {
        metric: scopeViolations,
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );

    new Dashboard(this, 'Dashboard', {
      widgets: [
        [new TextWidget({ markdown: '# ioto-bff', width: 24, height: 1 })],
        [
          new GraphWidget({
            title: 'Requests and errors',
            left: [
              apiMetric('Count', 'Sum'),
              apiMetric('4XXError', 'Sum'),
              apiMetric('5XXError', 'Sum'),
            ],
            width: 12,
          }),
          new GraphWidget({
            title: 'Latency (ms)',
            left: [
              apiMetric('Latency', 'p50'),
              apiMetric('Latency', 'p99'),
              apiMetric('IntegrationLatency', 'p99'),
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
            ].map((code) => problemMetric(code)),
            width: 12,
          }),
          new GraphWidget({
            title: 'Lambda',
            left: [
              proxy.metricDuration({ statistic: 'p99' }),
              authorizer.metricDuration({ statistic: 'p99' }),
            ],
            right: [errors, throttles],
            width: 12,
          }),
        ],
      ],
    });
    new CfnOutput(this, 'AlarmTopic', {
      value: this.topic.topicArn,
      description: 'SNS topic of the alarms',
    });
  }
}
