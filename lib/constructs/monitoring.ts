import { CfnOutput, Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  type AlarmProps,
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
import { METRICS_NAMESPACE, SERVICE_NAME } from '../service';

/** Properties of {@link Monitoring}. */
export interface MonitoringProps {
  /** The partner API: its 5XX rate and latency are alarmed on and graphed. */
  readonly api: RestApi;
  /** The proxy function: its errors, throttles and duration are alarmed on and graphed. */
  readonly proxy: IFunction;
  /** The proxy's log group: scope violations are counted from its log lines. */
  readonly proxyLogGroup: ILogGroup;
  /** The authorizer function: its errors, throttles and duration are alarmed on and graphed. */
  readonly authorizer: IFunction;
  /**
   * The monitoring section of the deployment configuration: the alarm thresholds
   * (`fiveXxRatePercent`, `latencyP99Ms`) and `alarmEmail`, an address subscribed to the alarm
   * topic when given (no subscription otherwise).
   */
  readonly monitoring: DeploymentConfig['monitoring'];
}

/** The proxy's EMF metric of problem responses, by code (see lambda/proxy/problem-responses.ts). */
export const problemMetric = (code: string, period = Duration.minutes(5)) =>
  new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: 'ProblemResponses',
    dimensionsMap: { service: SERVICE_NAME, code },
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
const apiMetric = (api: RestApi, metricName: string, statistic: string) =>
  api.metric(metricName, { statistic, period: Duration.minutes(5) });

/** The share of requests that failed with a 5XX, in percent. */
const fiveXxRate = (api: RestApi) =>
  new MathExpression({
    expression: '100 * errors / MAX([requests, 1])',
    usingMetrics: {
      errors: apiMetric(api, '5XXError', 'Sum'),
      requests: apiMetric(api, 'Count', 'Sum'),
    },
    label: '5XX rate (%)',
    period: Duration.minutes(5),
  });

/** Lambda metrics summed over the proxy and the authorizer. */
interface LambdaMetrics {
  readonly throttles: MathExpression;
  readonly errors: MathExpression;
}

/** Throttles and errors of both functions, each summed over five minutes. */
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
    errors: bothFunctions('errors', (fn) => fn.metricErrors(fiveMinutes)),
  };
}

/**
 * Alarms on what needs an operator (a 5XX rate, p99 latency, throttles, Lambda errors, a
 * refused Ioto token and Ioto data outside a partner's scope), an encrypted SNS topic for them
 * with an optional email subscription, and a CloudWatch dashboard. Every alarm treats missing
 * data as not breaching, so a quiet API raises none.
 *
 * Secure defaults: the topic is encrypted with its own customer managed KMS key (with yearly
 * rotation; CloudWatch may use it to publish) and its policy refuses requests without TLS.
 */
export class Monitoring extends Construct {
  /** The SNS topic every alarm notifies. */
  readonly topic: Topic;
  /** The alarms, in the order they are created. */
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = this.#createTopic(props.monitoring.alarmEmail);
    const lambda = lambdaMetrics(props.proxy, props.authorizer);
    this.#createAlarms(props, lambda);
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

  /** Every alarm, each notifying the topic. */
  #createAlarms(props: MonitoringProps, lambda: LambdaMetrics): void {
    const { api, proxyLogGroup, monitoring } = props;
    this.#addAlarm(
      'FiveXxRate',
      `More than ${monitoring.fiveXxRatePercent}% of requests failed with a 5XX`,
      {
        metric: fiveXxRate(api),
        threshold: monitoring.fiveXxRatePercent,
        evaluationPeriods: 2,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );
    this.#addAlarm('LatencyP99', `p99 latency above ${monitoring.latencyP99Ms} ms`, {
      metric: apiMetric(api, 'Latency', 'p99'),
      threshold: monitoring.latencyP99Ms,
      evaluationPeriods: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.#addAlarm('Throttles', 'Lambda invocations are throttled (reserved concurrency reached)', {
      metric: lambda.throttles,
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.#addAlarm('LambdaErrors', 'The proxy or authorizer function failed (unhandled errors)', {
      metric: lambda.errors,
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.#addAlarm(
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
    this.#addAlarm(
      'ScopeViolation',
      'Ioto answered a partner call with data of another account. The partner got a neutral ' +
        'answer and saw none of it; check that Ioto honours accountId (see the proxy logs).',
      {
        metric: this.#scopeViolationMetric(proxyLogGroup),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );
  }

  /** One alarm that notifies the topic and treats missing data as fine. */
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
    created.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(created);
    return created;
  }

  /** The count of scope violations, from a metric filter on the proxy's log lines. */
  #scopeViolationMetric(proxyLogGroup: ILogGroup): Metric {
    return new MetricFilter(this, 'ScopeViolations', {
      logGroup: proxyLogGroup,
      // Powertools Logger writes JSON lines with the text in `message`.
      filterPattern: FilterPattern.stringValue('$.message', '=', SCOPE_VIOLATION_LOG_MESSAGE),
      metricNamespace: METRICS_NAMESPACE,
      metricName: 'ScopeViolations',
      metricValue: '1',
    }).metric({ statistic: 'Sum', period: Duration.minutes(5) });
  }

  /** The dashboard: requests, latency, problem responses by code and the two functions. */
  #createDashboard(props: MonitoringProps, lambda: LambdaMetrics): void {
    const { api, proxy, authorizer } = props;
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
            ].map((code) => problemMetric(code)),
            width: 12,
          }),
          new GraphWidget({
            title: 'Lambda',
            left: [
              proxy.metricDuration({ statistic: 'p99' }),
              authorizer.metricDuration({ statistic: 'p99' }),
            ],
            right: [lambda.errors, lambda.throttles],
            width: 12,
          }),
        ],
      ],
    });
  }
}
