import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  type CfnLogGroup,
  FilterPattern,
  type ILogGroup,
  LogGroup,
  QueryDefinition,
  QueryString,
  type RetentionDays,
  SubscriptionFilter,
} from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { Construct } from 'constructs';
import { BffFunction } from './bff-function';

/**
 * The `message` of the proxy's audit lines (`AUDIT_MESSAGE` in lambda/audit/audit-trail.ts; a
 * test keeps them equal): the subscription filter routes exactly these.
 */
export const AUDIT_LOG_MESSAGE = 'audit';

/** Properties of an {@link AuditTrail}. */
export interface AuditTrailProps {
  /** The proxy's log group, where the audit lines are written first. */
  readonly proxyLogGroup: ILogGroup;
  /** How long the audit log group keeps its lines (the deployment default: one year). */
  readonly retention: RetentionDays;
  /** How long the forwarder's own log group keeps its lines. */
  readonly forwarderLogRetention: RetentionDays;
  readonly metricsNamespace: string;
}

/**
 * The partners' audit trail: the proxy's `audit` lines copied into a log group of their own,
 * with a longer retention than the proxy's, by a small function behind a subscription filter
 * on the proxy's log group (CloudWatch Logs cannot route lines between groups by itself), and a
 * saved Logs Insights query for "what did partner X do".
 */
export class AuditTrail extends Construct {
  readonly logGroup: LogGroup;
  readonly forwarder: BffFunction;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.retention });
    this.forwarder = new BffFunction(this, 'Forwarder', {
      handler: 'audit-forwarder',
      description: "ioto-bff: copies the proxy's audit lines into the audit log group",
      memorySize: 256,
      timeout: Duration.seconds(30),
      logRetention: props.forwarderLogRetention,
      metricsNamespace: props.metricsNamespace,
      environment: { AUDIT_LOG_GROUP_NAME: this.logGroup.logGroupName },
    });
    this.forwarder.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn, `${this.logGroup.logGroupArn}:log-stream:*`],
      }),
    );
    Validations.of(this.forwarder.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.logGroup.node.defaultChild as CfnLogGroup)}.Arn>:log-stream:*]`,
      reason:
        'The forwarder creates its log stream at run time (one per container), so it may write ' +
        'to any stream of the audit log group, and of no other group.',
    });
    new SubscriptionFilter(this, 'Subscription', {
      logGroup: props.proxyLogGroup,
      destination: new LambdaDestination(this.forwarder.alias),
      filterPattern: FilterPattern.stringValue('$.message', '=', AUDIT_LOG_MESSAGE),
    });
    new QueryDefinition(this, 'PartnerActivity', {
      queryDefinitionName: `${Stack.of(this).stackName}/what-did-a-partner-do`,
      logGroups: [this.logGroup],
      // Replace the partner id before running it; Logs Insights has no parameters.
      queryString: new QueryString({
        fields: [
          '@timestamp',
          'partnerId',
          'operation',
          'outcome',
          'code',
          'account',
          'devices.0',
          'idempotencyKey',
          'upstreamStatus',
          'requestId',
        ],
        filterStatements: ['partnerId = "REPLACE-WITH-PARTNER-ID"'],
        sort: '@timestamp desc',
        limit: 1000,
      }),
    });
  }
}
