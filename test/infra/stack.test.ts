import { NestedStack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SCOPE_VIOLATION_MESSAGE } from '../../lambda/auth/scoped-partner-policy';
import { catalog } from '../../lambda/catalog/index';
import { DeploymentConfigError, parseDeploymentConfig } from '../../lib/config';
import { SCOPE_VIOLATION_LOG_MESSAGE } from '../../lib/constructs/monitoring';
import { configWith, OIDC_OVERRIDES, SAMPLE_CONFIG, synthesize } from './stack-fixtures';

type Resources = Record<
  string,
  { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }
>;

const { template, stack } = synthesize();
const nestedTemplates = stack.node
  .findAll()
  .filter((c): c is NestedStack => c instanceof NestedStack)
  .map((nested) => Template.fromStack(nested));
const resources = template.toJSON().Resources as Resources;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const functionNamed = (prefix: string) => {
  const found = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith(prefix));
  if (found === undefined) throw new Error(`no function ${prefix}`);
  return found;
};
const envOf = (prefix: string) =>
  (functionNamed(prefix)[1].Properties.Environment as { Variables: Record<string, unknown> })
    .Variables;
const roleOf = (prefix: string) =>
  (functionNamed(prefix)[1].Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] ?? '';
const statementsOfRole = (roleId: string) =>
  ofType('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap(
      ([, p]) =>
        (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
    );
const secretIds = ofType('AWS::SecretsManager::Secret').map(([id]) => id);
/** The sample's Cognito identity section. */
const COGNITO_IDENTITY = SAMPLE_CONFIG.identity as Record<string, unknown>;
/** The methods of the partner operations (the docs routes have their own tests: docs.test.ts). */
const operationMethods = () =>
  ofType('AWS::ApiGateway::Method').filter(
    ([, m]) => !String(m.Properties.OperationName ?? '').startsWith('docs.'),
  );

describe('the API', () => {
  it('has one explicit POST resource per catalog operation and no catch-all', () => {
    const methods = operationMethods();
    expect(methods.filter(([, m]) => m.Properties.HttpMethod === 'POST')).toHaveLength(
      catalog.length,
    );
    expect(methods.filter(([, m]) => m.Properties.HttpMethod === 'ANY')).toHaveLength(
      catalog.length,
    );
    const parts = ofType('AWS::ApiGateway::Resource').map(([, r]) => r.Properties.PathPart);
    expect(parts).not.toContain('{proxy+}');
    for (const op of catalog) expect(parts).toContain(op.operation);
  });

  it('puts the Lambda authorizer and a usage-plan key on every POST method', () => {
    const [authorizerId] = ofType('AWS::ApiGateway::Authorizer').map(([id]) => id);
    const posts = ofType('AWS::ApiGateway::Method').filter(
      ([, method]) => method.Properties.HttpMethod === 'POST',
    );
    for (const [, method] of posts) {
      expect(method.Properties).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
        ApiKeyRequired: true,
        Integration: { Type: 'AWS_PROXY' },
      });
    }
  });

  it('answers other methods with an open mock, since the authorizer allows POST only', () => {
    const others = operationMethods().filter(
      ([, method]) => method.Properties.HttpMethod === 'ANY',
    );
    for (const [, method] of others) {
      expect(method.Properties).toMatchObject({
        AuthorizationType: 'NONE',
        Integration: { Type: 'MOCK' },
      });
      expect(method.Properties.ApiKeyRequired).not.toBe(true);
    }
  });

  it('answers any other method on a route with 405 and Allow: POST, without a function', () => {
    const [[, method] = ['', undefined]] = ofType('AWS::ApiGateway::Method').filter(
      ([, m]) => m.Properties.HttpMethod === 'ANY',
    );
    const [response] = (
      (method?.Properties.Integration ?? { IntegrationResponses: [] }) as {
        IntegrationResponses: {
          StatusCode: string;
          ResponseParameters: Record<string, string>;
          ResponseTemplates: Record<string, string>;
        }[];
      }
    ).IntegrationResponses;
    expect(response?.StatusCode).toBe('405');
    expect(response?.ResponseParameters).toMatchObject({
      'method.response.header.allow': "'POST'",
      'method.response.header.content-type': "'application/problem+json'",
      'method.response.header.x-request-id': 'context.requestId',
    });
    expect(JSON.parse(response?.ResponseTemplates['application/json'] ?? '{}')).toMatchObject({
      status: 405,
      code: 'method_not_allowed',
      requestId: '$context.requestId',
    });
  });

  it('uses a TOKEN authorizer on the Authorization header, cached 300 s by default', () => {
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 300,
    });
  });

  it('takes API keys from the authorizer, is regional and keeps the default endpoint', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      ApiKeySourceType: 'AUTHORIZER',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      DisableExecuteApiEndpoint: false,
    });
  });

  it('has one usage plan per throttle and quota (a tier), named after the stack', () => {
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 2);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'IotoBffTest-tier-1',
      Throttle: { RateLimit: 20, BurstLimit: 40 },
      Quota: { Limit: 100000, Period: 'MONTH' },
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'IotoBffTest-tier-2',
      Throttle: { RateLimit: 50, BurstLimit: 100 },
    });
    const sameTier = synthesize(
      configWith({
        partners: ['a1', 'a2', 'a3'].map((id) => ({
          id,
          operations: ['device/find'],
          accounts: ['A1'],
          throttle: { rateLimit: 20, burstLimit: 40 },
        })),
      }),
    ).template;
    sameTier.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
  });

  it('logs JSON access lines and errors, traces with X-Ray and throttles by default', () => {
    const [, stage] = ofType('AWS::ApiGateway::Stage')[0] ?? [];
    const props = stage?.Properties as Record<string, unknown>;
    expect(props.TracingEnabled).toBe(true);
    const format = JSON.parse(
      String((props.AccessLogSetting as { Format: string }).Format),
    ) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      partner: '$context.authorizer.principalId',
      route: '$context.resourcePath',
      status: '$context.status',
      latencyMs: '$context.responseLatency',
      integrationLatencyMs: '$context.integration.latency',
      authorizerRequestId: '$context.authorizer.requestId',
    });
    expect(props.MethodSettings).toEqual([
      expect.objectContaining({
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        ThrottlingRateLimit: 100,
        ThrottlingBurstLimit: 200,
      }),
    ]);
  });

  it('protects the stage with WAF: managed common rules and a rate-based rule', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({
          Statement: {
            ManagedRuleGroupStatement: Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet' }),
          },
        }),
        Match.objectLike({
          Statement: { RateBasedStatement: Match.objectLike({ AggregateKeyType: 'IP' }) },
        }),
      ]),
    });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });

  it('has no WAF when switched off', () => {
    const off = synthesize(configWith({ waf: { enabled: false } })).template;
    off.resourceCountIs('AWS::WAFv2::WebACL', 0);
  });

  it('serves a custom domain and disables the execute-api endpoint when configured', () => {
    const domain = synthesize(
      configWith({
        api: {
          customDomain: {
            domainName: 'iot.example.com',
            certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
          },
        },
      }),
    ).template;
    domain.hasResourceProperties('AWS::ApiGateway::RestApi', { DisableExecuteApiEndpoint: true });
    domain.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'iot.example.com',
      SecurityPolicy: 'TLS_1_2',
    });
  });
});

describe('the functions', () => {
  it.each(['Proxy', 'Authorizer'])('%s runs Node.js 24 on arm64 with active tracing', (name) => {
    expect(functionNamed(`${name}Function`)[1].Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
    });
  });

  it('keeps the upstream deadline below the proxy timeout, and that below 29 s', () => {
    const props = functionNamed('ProxyFunction')[1].Properties;
    expect(Number(envOf('ProxyFunction').UPSTREAM_TIMEOUT_MS)).toBeLessThan(
      Number(props.Timeout) * 1000,
    );
    expect(Number(props.Timeout)).toBeLessThan(29);
  });

  it('gives each function a log group with retention', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    // The four functions (proxy, authorizer, docs, audit forwarder), the API's access logs, the
    // web firewall's logs, and the audit trail (its own, longer retention).
    expect(groups).toHaveLength(7);
    const audit = groups.filter(([id]) => id.startsWith('AuditLogs'));
    expect(audit).toHaveLength(1);
    expect(audit[0]?.[1].Properties.RetentionInDays).toBe(365);
    for (const [id, group] of groups) {
      if (!id.startsWith('AuditLogs')) expect(group.Properties.RetentionInDays).toBe(90);
    }
  });

  it('passes secret ARNs, never secret values, in the environment', () => {
    const env = envOf('ProxyFunction');
    const tokenId = secretIds.find((id) => id.includes('IotoToken')) ?? '';
    const keyId = secretIds.find((id) => id.includes('PageTokenKey')) ?? '';
    expect(env.IOTO_TOKEN_SECRET_ID).toEqual({ Ref: tokenId });
    expect(env.PAGE_TOKEN_SECRET_ID).toEqual({ Ref: keyId });
    const text = JSON.stringify([
      envOf('ProxyFunction'),
      envOf('AuthorizerFunction'),
      template.toJSON().Outputs,
    ]);
    expect(text).not.toMatch(/SecretString|resolve:secretsmanager|"token"/);
  });

  it('lets only the proxy read the secrets, with exact actions on exact ARNs', () => {
    const proxyStatements = statementsOfRole(roleOf('ProxyFunction'));
    const secretStatements = proxyStatements.filter((s) =>
      JSON.stringify(s.Action).includes('secretsmanager'),
    );
    // One statement per secret: exactly the read actions, exactly that secret.
    expect(secretStatements).toHaveLength(secretIds.length);
    for (const statement of secretStatements) {
      expect(statement).toMatchObject({ Effect: 'Allow' });
      expect([statement.Action].flat().sort()).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
      ]);
    }
    expect(secretStatements.map((statement) => statement.Resource)).toEqual(
      expect.arrayContaining(secretIds.map((id) => ({ Ref: id }))),
    );
    expect(JSON.stringify(statementsOfRole(roleOf('AuthorizerFunction')))).not.toContain(
      'secretsmanager',
    );
    for (const [, policy] of ofType('AWS::IAM::Policy')) {
      for (const statement of (
        policy.Properties.PolicyDocument as { Statement: { Action: unknown }[] }
      ).Statement) {
        for (const action of [statement.Action].flat()) expect(String(action)).not.toContain('*');
      }
    }
  });

  it('keeps a created token secret when the stack goes, and never overwrites its value', () => {
    const [, token] =
      ofType('AWS::SecretsManager::Secret').find(([id]) => id.includes('IotoToken')) ?? [];
    expect(token).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(token?.Properties.SecretString).toBe('{"token":""}');
  });

  it('grants an imported token secret by its exact ARN', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ioto-token-AbCdEf';
    const imported = synthesize(
      configWith({ ioto: { endpoint: 'https://ioto.example.com', tokenSecret: { arn } } }),
    );
    const json = JSON.stringify(imported.template.toJSON());
    expect(json).toContain(arn);
    imported.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
  });
});

describe('identity', () => {
  it('creates a Cognito pool with a resource server, a domain and a client-credentials client per partner', () => {
    const clients = nestedTemplates.flatMap(
      (nested) =>
        Object.values(nested.toJSON().Resources as Resources).filter(
          (r) => r.Type === 'AWS::Cognito::UserPoolClient',
        ) as Resources[string][],
    );
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'ioto-bff',
      Scopes: [Match.objectLike({ ScopeName: 'partner-api' })],
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'example-ioto-bff' });
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    expect(clients.map((c) => c.Properties.ClientName).sort()).toEqual([
      'IotoBffTest-acme',
      'IotoBffTest-globex',
    ]);
    for (const client of clients) {
      expect(client.Properties).toMatchObject({
        GenerateSecret: true,
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthFlowsUserPoolClient: true,
      });
      expect(client.Properties.ExplicitAuthFlows).toBeUndefined();
      // `{resource server}/{scope}`, joined from the resource server's identifier.
      expect(JSON.stringify(client.Properties.AllowedOAuthScopes)).toContain('/partner-api');
    }
  });

  it('uses an external OIDC issuer instead when configured', () => {
    const oidc = synthesize(
      configWith({
        ...OIDC_OVERRIDES,
      }),
    ).template;
    oidc.resourceCountIs('AWS::Cognito::UserPool', 0);
    expect(JSON.stringify(oidc.toJSON())).toContain('https://login.example.com/');
  });
});

describe('operations', () => {
  it('has the eight operator alarms, all notifying the encrypted SNS topic on alarm and on recovery', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').filter(([id]) => !id.includes('Rollout'));
    expect(alarms).toHaveLength(8);
    for (const [, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions).toHaveLength(1);
      expect(alarm.Properties.OKActions).toEqual(alarm.Properties.AlarmActions);
    }
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ProblemResponses',
      Namespace: 'IotoBff/IotoBffTest',
      Dimensions: Match.arrayWith([{ Name: 'code', Value: 'upstream_auth_failed' }]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('alarms on every scope violation the proxy logs', () => {
    // The proxy's log line and the filter must agree to the letter, or the alarm never fires.
    expect(SCOPE_VIOLATION_LOG_MESSAGE).toBe(SCOPE_VIOLATION_MESSAGE);
    const [[filterId, filter] = ['', { Properties: {} }]] = ofType('AWS::Logs::MetricFilter');
    expect(filter.Properties).toMatchObject({
      FilterPattern: `{ $.message = "${SCOPE_VIOLATION_MESSAGE}" }`,
      LogGroupName: { Ref: expect.stringMatching(/^ProxyFunctionLogs/) },
      MetricTransformations: [
        {
          MetricNamespace: 'IotoBff/IotoBffTest',
          MetricName: 'ScopeViolations',
          MetricValue: '1',
        },
      ],
    });
    expect(filterId).toMatch(/ScopeViolations/);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ScopeViolations',
      Namespace: 'IotoBff/IotoBffTest',
      Threshold: 0,
    });
  });

  it('subscribes an email when configured', () => {
    synthesize(
      configWith({ monitoring: { alarmEmail: 'ops@example.com' } }),
    ).template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});

describe('the deployment configuration', () => {
  it('documents the sample as valid', () => {
    expect(() => parseDeploymentConfig(SAMPLE_CONFIG)).not.toThrow();
  });

  it.each([
    [
      'an unknown operation',
      { partners: [{ id: 'acme', operations: ['device/remove'], accounts: ['A'] }] },
      /partners\[0\]\.operations\[0\]: unknown operation/,
    ],
    ['an http endpoint', { ioto: { endpoint: 'http://ioto.example.com' } }, /ioto\.endpoint/],
    [
      'a deadline beyond the proxy timeout',
      { limits: { upstreamTimeoutMs: 12_000, proxyTimeoutSeconds: 12 } },
      /limits\.upstreamTimeoutMs/,
    ],
    [
      'a proxy timeout beyond API Gateway',
      { limits: { proxyTimeoutSeconds: 30 } },
      /limits\.proxyTimeoutSeconds/,
    ],
    [
      'an identity with Cognito',
      {
        partners: [
          { id: 'a', operations: [], accounts: ['A'], identity: { issuer: 'x', clientId: 'y' } },
        ],
      },
      /partners\[0\]\.identity/,
    ],
    [
      'action/invoke without the actions it may run',
      { partners: [{ id: 'acme', operations: ['action/invoke'], accounts: ['A'] }] },
      /partners\[0\]\.actions: is required with action\/invoke/,
    ],
    [
      'actions without action/invoke',
      { partners: [{ id: 'acme', operations: [], accounts: ['A'], actions: ['reboot-device'] }] },
      /partners\[0\]\.actions: needs action\/invoke/,
    ],
    [
      'an operation of assumed account scoping without the acknowledgement',
      { partners: [{ id: 'acme', operations: ['dashboard/create'], accounts: ['A'] }] },
      /partners\[0\]\.operations\[0\]: "dashboard\/create" relies on account scoping Ioto does not document/,
    ],
    [
      'user/login',
      { partners: [{ id: 'acme', operations: ['user/login'], accounts: ['A'] }] },
      /partners\[0\]\.operations\[0\]: "user\/login" is not offered/,
    ],
    ['no partners', { partners: [] }, /partners/],
    ['a bad retention', { monitoring: { logRetentionDays: 10 } }, /monitoring\.logRetentionDays/],
    [
      'an authorizer cache that outlives the Cognito access tokens',
      {
        identity: { ...COGNITO_IDENTITY, accessTokenMinutes: 5 },
        api: { authorizerCacheSeconds: 301 },
      },
      /api\.authorizerCacheSeconds: must be at most 300 s: the partners' access tokens live 5 minutes \(identity\.accessTokenMinutes\)/,
    ],
  ])('refuses %s, naming the field', (_name, overrides, message) => {
    expect(() => parseDeploymentConfig({ ...SAMPLE_CONFIG, ...overrides })).toThrow(
      DeploymentConfigError,
    );
    expect(() => parseDeploymentConfig({ ...SAMPLE_CONFIG, ...overrides })).toThrow(message);
  });

  it.each([
    [
      'a cache exactly as long as the Cognito access tokens live',
      {
        identity: { ...COGNITO_IDENTITY, accessTokenMinutes: 5 },
        api: { authorizerCacheSeconds: 300 },
      },
    ],
    [
      'the longest cache with an external issuer, whose tokens may live up to a day',
      { ...OIDC_OVERRIDES, api: { authorizerCacheSeconds: 3_600 } },
    ],
  ])('accepts %s', (_name, overrides) => {
    expect(
      parseDeploymentConfig({ ...SAMPLE_CONFIG, ...overrides }).api.authorizerCacheSeconds,
    ).toBe(overrides.api.authorizerCacheSeconds);
  });

  it('refuses an external issuer without audience when it builds the access configuration', () => {
    const { audience: _audience, ...withoutAudience } = OIDC_OVERRIDES.identity;
    expect(() => synthesize(configWith({ ...OIDC_OVERRIDES, identity: withoutAudience }))).toThrow(
      /issuers\[0\]\.audience: is required for an issuer other than Cognito/,
    );
  });
});
