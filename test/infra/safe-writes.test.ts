import { Match } from 'aws-cdk-lib/assertions';
import { AUDIT_MESSAGE } from '../../lambda/audit/audit-trail';
import { AUDIT_LOG_MESSAGE } from '../../lib/constructs/audit-trail';
import { configWith, synthesize } from './stack-fixtures';

/** The idempotency table and the audit trail, as the sample configuration synthesizes them. */
type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
const { template } = synthesize();
const resources = template.toJSON().Resources as Record<string, Resource>;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const only = (type: string): [string, Resource] => {
  const found = ofType(type);
  expect(found).toHaveLength(1);
  return found[0] as [string, Resource];
};
const statementsOf = (rolePrefix: string) =>
  ofType('AWS::IAM::Policy')
    .filter(([, p]) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)),
    )
    .flatMap(
      ([, p]) =>
        (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
    );
const envOf = (prefix: string) => {
  const fn = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith(prefix));
  if (fn === undefined) throw new Error(`no function ${prefix}`);
  return (fn[1].Properties.Environment as { Variables: Record<string, unknown> }).Variables;
};

describe('the idempotency table', () => {
  const [tableId, table] = only('AWS::DynamoDB::Table');

  it('has the layout of Powertools Idempotency: key id, TTL on expiration, on demand', () => {
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
  });

  it('keeps point-in-time recovery and encrypts under its own rotating key', () => {
    expect(table.Properties).toMatchObject({
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^IdempotencyKey/), 'Arn'] },
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: Match.stringLikeRegexp('idempotency'),
      EnableKeyRotation: true,
    });
  });

  it('is deleted with the stack, as the README documents', () => {
    expect(table.DeletionPolicy).toBe('Delete');
  });

  it('is named to the proxy, and the proxy alone may get, put, update and delete its items', () => {
    expect(envOf('ProxyFunction')).toMatchObject({ IDEMPOTENCY_TABLE_NAME: { Ref: tableId } });
    const dynamo = statementsOf('ProxyFunctionRole').filter((s) =>
      JSON.stringify(s.Action).includes('dynamodb'),
    );
    expect(dynamo).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ],
        Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
      }),
    ]);
    for (const role of ['AuthorizerFunctionRole', 'DocsFunctionRole', 'AuditForwarderRole']) {
      expect(JSON.stringify(statementsOf(role))).not.toContain('dynamodb');
    }
    const kms = statementsOf('ProxyFunctionRole').find((s) =>
      JSON.stringify(s.Resource).includes('IdempotencyKey'),
    );
    expect(kms).toMatchObject({
      Condition: { StringEquals: { 'kms:ViaService': expect.anything() } },
    });
  });
});

describe('the audit trail', () => {
  it('routes exactly the lines the proxy writes as audit lines', () => {
    expect(AUDIT_LOG_MESSAGE).toBe(AUDIT_MESSAGE);
    const [, filter] = only('AWS::Logs::SubscriptionFilter');
    expect(filter.Properties).toMatchObject({
      FilterPattern: `{ $.message = "${AUDIT_MESSAGE}" }`,
      LogGroupName: { Ref: expect.stringMatching(/^ProxyFunctionLogs/) },
      DestinationArn: { Ref: expect.stringMatching(/^AuditForwarderLive/) },
    });
  });

  it('keeps the audit lines a year in their own log group, by default', () => {
    const audit = ofType('AWS::Logs::LogGroup').filter(([id]) => id.startsWith('AuditLogs'));
    expect(audit.map(([, g]) => g.Properties.RetentionInDays)).toEqual([365]);
  });

  it('keeps them as long as the configuration says', () => {
    const longer = synthesize(configWith({ monitoring: { auditRetentionDays: 2557 } })).template;
    longer.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 2557 });
  });

  it('lets the forwarder write to the audit log group and to no other', () => {
    const writes = statementsOf('AuditForwarderRole').filter((s) =>
      JSON.stringify(s.Action).includes('PutLogEvents'),
    );
    const targets = JSON.stringify(writes.map((s) => s.Resource));
    expect(targets).toMatch(/AuditLogs/);
    expect(targets).not.toMatch(/ProxyFunctionLogs/);
    expect(envOf('AuditForwarderFunction')).toMatchObject({
      AUDIT_LOG_GROUP_NAME: { Ref: expect.stringMatching(/^AuditLogs/) },
    });
  });

  it("saves the Logs Insights query of a partner's calls", () => {
    const [, query] = only('AWS::Logs::QueryDefinition');
    expect(query.Properties).toMatchObject({
      LogGroupNames: [{ Ref: expect.stringMatching(/^AuditLogs/) }],
      QueryString: expect.stringContaining('filter partnerId = "REPLACE-WITH-PARTNER-ID"'),
    });
  });

  it('ranks partners by refusals and alarms when the top one passes the threshold', () => {
    const [ruleId, rule] = only('AWS::CloudWatch::InsightRule');
    const body = JSON.stringify(rule.Properties.RuleBody);
    expect(body).toContain('$.partnerId');
    expect(body).toContain('refused');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 50,
      Metrics: Match.arrayWith([
        Match.objectLike({
          Expression: Match.objectLike({
            'Fn::Join': Match.arrayWith([
              Match.arrayWith([Match.objectLike({ 'Fn::GetAtt': [ruleId, 'RuleName'] })]),
            ]),
          }),
        }),
      ]),
    });
  });
});
