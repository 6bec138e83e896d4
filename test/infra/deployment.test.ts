import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, NestedStack, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { parseAccessConfig, usageIdentifierKey } from '../../lambda/config/access';
import {
  auditForwarderEnvSchema,
  awsAuthorizerEnvSchema,
  awsProxyEnvSchema,
  docsEnvSchema,
} from '../../lambda/config/env';
import { parseDeploymentConfig, wafRateFloor } from '../../lib/config';
import { MAX_PARTNERS_PER_SHARD, SHARD_COUNT, shardOf } from '../../lib/constructs/partner-shards';
import { IotoBffStack, usageKeyPrefixOf } from '../../lib/ioto-bff-stack';
import { metricsNamespaceOf } from '../../lib/service';
import { configWith, SAMPLE_CONFIG, synthesize } from './stack-fixtures';

/**
 * What the first real `cdk deploy` meets, and what keeps later ones safe: capacity for many
 * partners, several stacks per account and region, rollouts through CodeDeploy, the KMS key of
 * the Ioto token and the access configuration in AppConfig.
 */
type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
type Resources = Record<string, Resource>;

const resourcesOf = (template: Template) => template.toJSON().Resources as Resources;
const ofType = (template: Template, type: string) =>
  Object.entries(resourcesOf(template)).filter(([, r]) => r.Type === type);

/** The nested stacks of a stack, with their templates. */
const nestedOf = (stack: Stack) =>
  stack.node
    .findAll()
    .filter((c): c is NestedStack => c instanceof NestedStack)
    .map((nested) => ({ nested, template: Template.fromStack(nested) }));

/** `count` partners spread over three throttle tiers. */
const manyPartners = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: `partner-${String(i).padStart(3, '0')}`,
    operations: ['device/find', 'device/get'],
    accounts: [`01JHB4Z6QKAC${String(i).padStart(14, '0')}`],
    throttle: { rateLimit: [10, 20, 50][i % 3] ?? 10, burstLimit: 100 },
  }));

const sample = synthesize();
const parent = sample.template;

/** A template value as deployed: references replaced by a stand-in text. */
const deployed = (value: unknown): string => {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map(deployed).join(join[0]);
  const getAtt = (value as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'];
  if (getAtt) return `client-${(getAtt[1] ?? '').replace(/\W/g, '').slice(-12)}`;
  const ref = (value as { Ref?: string }).Ref ?? 'value';
  return `id-${ref.replace(/\W/g, '')}`;
};

describe('the access configuration in AppConfig', () => {
  const [[, version] = ['', undefined]] = ofType(
    parent,
    'AWS::AppConfig::HostedConfigurationVersion',
  );
  const content = deployed(version?.Properties.Content);
  const access = parseAccessConfig(JSON.parse(content));

  it('deploys the partners, the issuer, the scope and the stack-unique key prefix', () => {
    expect(version?.Properties.ContentType).toBe('application/json');
    expect(access.partners.map((p) => [p.id, p.operations])).toEqual(
      (SAMPLE_CONFIG.partners as { id: string; operations: string[] }[]).map((p) => [
        p.id,
        p.operations,
      ]),
    );
    expect(access.issuers[0]?.issuer).toMatch(/^https:\/\/cognito-idp\./);
    expect(access.usageKeyPrefix).toBe(usageKeyPrefixOf(sample.stack.stackName));
    // Each partner is identified by the id of its app client, created in a nested stack.
    for (const partner of access.partners) {
      expect(partner.identity).toMatchObject({ clientId: expect.stringMatching(/^client-/) });
    }
    // Done at once: no bake time during which AppConfig would refuse the next deployment.
    parent.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
      DeploymentDurationInMinutes: 0,
      FinalBakeTimeInMinutes: 0,
      GrowthFactor: 100,
    });
    parent.hasResourceProperties('AWS::AppConfig::Deployment', {
      DeploymentStrategyId: { Ref: Match.stringLikeRegexp('^AccessConfigImmediately') },
      ConfigurationVersion: { Ref: Match.stringLikeRegexp('^AccessConfigVersion') },
    });
  });

  it('leaves the functions an environment their schemas accept, with no partner in it', () => {
    const environments = ofType(parent, 'AWS::Lambda::Function').map(
      ([id, fn]) =>
        [
          id,
          Object.fromEntries(
            Object.entries(
              (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
            ).map(([k, v]) => [k, deployed(v)]),
          ),
        ] as const,
    );
    const schemas = [
      ['Proxy', awsProxyEnvSchema],
      ['Authorizer', awsAuthorizerEnvSchema],
      ['Docs', docsEnvSchema],
      ['AuditForwarder', auditForwarderEnvSchema],
    ] as const;
    expect(environments).toHaveLength(schemas.length);
    for (const [id, env] of environments) {
      const [prefix, schema] = schemas.find(([name]) => id.startsWith(name)) ?? [];
      expect(schema).toBeDefined();
      expect(() => schema?.parse(env)).not.toThrow();
      expect(JSON.stringify(env)).not.toMatch(/acme|globex/);
      // Only the two functions that serve partners read the access configuration.
      if (prefix === 'Proxy' || prefix === 'Authorizer') {
        expect(env).toMatchObject({
          ACCESS_CONFIG_APPLICATION: expect.stringMatching(/^id-AccessConfigApplication/),
          ACCESS_CONFIG_PROFILE: expect.stringMatching(/^id-AccessConfigProfile/),
        });
      } else {
        expect(Object.keys(env).filter((k) => k.startsWith('ACCESS_CONFIG'))).toEqual([]);
      }
    }
  });

  it('lets both functions read exactly that configuration profile', () => {
    const reads = ofType(parent, 'AWS::IAM::Policy').flatMap(([, policy]) =>
      (
        policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }
      ).Statement.filter((s) => JSON.stringify(s.Action).includes('appconfig')),
    );
    expect(reads).toHaveLength(2);
    for (const statement of reads) {
      expect([statement.Action].flat().sort()).toEqual([
        'appconfig:GetLatestConfiguration',
        'appconfig:StartConfigurationSession',
      ]);
      expect(deployed(statement.Resource)).toMatch(
        /:appconfig:.*:application\/id-AccessConfigApplication\w+\/environment\/id-AccessConfigEnvironment\w+\/configuration\/id-AccessConfigProfile\w+$/,
      );
    }
  });
});

describe('partner capacity', () => {
  const config = configWith({ partners: manyPartners(500) });
  const big = synthesize(config);
  const templates = [
    { name: 'parent', template: big.template },
    ...nestedOf(big.stack).map(({ nested, template }) => ({ name: nested.node.id, template })),
  ];

  it('synthesizes 500 partners within CloudFormation limits in every template', () => {
    expect(templates.length).toBeGreaterThan(1);
    for (const { name, template } of templates) {
      const json = template.toJSON() as Record<string, object>;
      expect([name, Object.keys(json.Resources ?? {}).length <= 500]).toEqual([name, true]);
      expect([name, Object.keys(json.Outputs ?? {}).length <= 200]).toEqual([name, true]);
      expect([name, Object.keys(json.Parameters ?? {}).length <= 200]).toEqual([name, true]);
      expect([name, JSON.stringify(json).length < 1_000_000]).toEqual([name, true]);
    }
  });

  it('gives every partner an API key, in its tier, and an app client, in nested stacks only', () => {
    const count = (type: string) =>
      templates.reduce((sum, { template }) => sum + ofType(template, type).length, 0);
    expect(count('AWS::ApiGateway::ApiKey')).toBe(500);
    expect(count('AWS::ApiGateway::UsagePlanKey')).toBe(500);
    expect(count('AWS::Cognito::UserPoolClient')).toBe(500);
    for (const type of ['AWS::ApiGateway::ApiKey', 'AWS::Cognito::UserPoolClient']) {
      expect(ofType(big.template, type)).toHaveLength(0);
    }
    // One usage plan per distinct throttle and quota: three tiers, not 500 plans.
    expect(ofType(big.template, 'AWS::ApiGateway::UsagePlan')).toHaveLength(3);
  });

  it('keeps each partner in the same nested stack when partners come and go', () => {
    const where = (partners: ReturnType<typeof manyPartners>) => {
      const { stack } = synthesize(configWith({ partners }));
      return new Map(
        nestedOf(stack).flatMap(({ nested, template }) =>
          ofType(template, 'AWS::ApiGateway::ApiKey').map(
            ([, key]) =>
              [String(key.Properties.Name).split('-').slice(-2).join('-'), nested.node.id] as const,
          ),
        ),
      );
    };
    const before = where(manyPartners(40));
    const after = where(manyPartners(41).slice(1));
    for (const [partner, shard] of after) {
      if (before.has(partner)) expect([partner, shard]).toEqual([partner, before.get(partner)]);
    }
    expect(new Set(manyPartners(1000).map((p) => shardOf(p.id))).size).toBe(SHARD_COUNT);
  });

  it('refuses a shard that would overflow rather than fail the deployment', () => {
    const crowded = Array.from({ length: 6_000 }, (_, i) => `p${i}`)
      .filter((id) => shardOf(id) === 3)
      .slice(0, MAX_PARTNERS_PER_SHARD + 1)
      .map((id) => ({ id, operations: [], accounts: ['A1'] }));
    expect(() => synthesize(configWith({ partners: crowded }))).toThrow(/raise SHARD_COUNT/);
  });
});

describe('several stacks in one account and region', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = configWith();
  const stacks = ['IotoBffProd', 'IotoBffStaging'].map(
    (name) => new IotoBffStack(app, name, { config }),
  );
  /**
   * Every value that must be unique in an account and region: API key names and values, usage
   * plan, API, AppConfig application and app client names, log group names, WAF metric names,
   * custom metric namespaces (alarms, metric filters, the functions' EMF namespace).
   */
  const namesOf = (stack: Stack): Set<string> => {
    const templates = [
      Template.fromStack(stack),
      ...nestedOf(stack).map(({ template }) => template),
    ];
    const names: unknown[] = [];
    const pick: Record<string, (p: Record<string, unknown>) => unknown[]> = {
      'AWS::ApiGateway::ApiKey': (p) => [p.Name, p.Value],
      'AWS::ApiGateway::UsagePlan': (p) => [p.UsagePlanName],
      'AWS::ApiGateway::RestApi': (p) => [p.Name],
      'AWS::AppConfig::Application': (p) => [p.Name],
      'AWS::Cognito::UserPoolClient': (p) => [p.ClientName],
      'AWS::Logs::LogGroup': (p) => [p.LogGroupName],
      'AWS::CloudWatch::Alarm': (p) => [p.AlarmName, p.Namespace],
      'AWS::Logs::MetricFilter': (p) =>
        (p.MetricTransformations as { MetricNamespace: string }[]).map((m) => m.MetricNamespace),
      'AWS::WAFv2::WebACL': (p) => [
        p.Name,
        (p.VisibilityConfig as { MetricName: string }).MetricName,
        ...(p.Rules as { VisibilityConfig: { MetricName: string } }[]).map(
          (r) => r.VisibilityConfig.MetricName,
        ),
      ],
      'AWS::Lambda::Function': (p) => [
        (p.Environment as { Variables: Record<string, unknown> }).Variables
          .POWERTOOLS_METRICS_NAMESPACE,
      ],
    };
    for (const template of templates) {
      for (const [, resource] of Object.entries(resourcesOf(template))) {
        names.push(...(pick[resource.Type]?.(resource.Properties) ?? []));
      }
    }
    // AWS's own namespaces (AWS/Lambda, AWS/ApiGateway) are shared by nature.
    return new Set(
      names.filter((n): n is string => typeof n === 'string' && !n.startsWith('AWS/')),
    );
  };

  it('names nothing alike: key values, plans, metrics, namespaces, AppConfig, clients', () => {
    const [prod, staging] = stacks.map(namesOf) as [Set<string>, Set<string>];
    expect(prod.size).toBeGreaterThan(10);
    expect([...prod].filter((name) => staging.has(name))).toEqual([]);
    expect(prod).toContain(metricsNamespaceOf('IotoBffProd'));
    expect(prod).toContain(usageIdentifierKey('acme', usageKeyPrefixOf('IotoBffProd')));
    expect(staging).toContain(usageIdentifierKey('acme', usageKeyPrefixOf('IotoBffStaging')));
  });

  it('lets a second stack leave the account-wide API Gateway logging role alone', () => {
    const first = synthesize(configWith()).template;
    first.resourceCountIs('AWS::ApiGateway::Account', 1);
    const [[, account] = ['', undefined]] = ofType(first, 'AWS::ApiGateway::Account');
    expect(account?.DeletionPolicy).toBe('Retain');
    const second = synthesize(configWith({ api: { cloudWatchRole: false } })).template;
    second.resourceCountIs('AWS::ApiGateway::Account', 0);
  });
});

describe('new accounts and the web firewall', () => {
  it('reserves no concurrency unless configured, so a new account can deploy', () => {
    for (const [, fn] of ofType(parent, 'AWS::Lambda::Function')) {
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
    const reserved = synthesize(configWith({ limits: { proxyReservedConcurrency: 20 } })).template;
    reserved.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 20 });
  });

  it('lets the fastest partner through the per-IP rate rule, with room to spare', () => {
    const config = configWith();
    const floor = wafRateFloor(config);
    // The sample's fastest partner pays for 50 requests a second.
    expect(floor).toBe(50 * 300);
    parent.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({
          Statement: { RateBasedStatement: Match.objectLike({ Limit: 2 * floor }) },
        }),
      ]),
    });
    expect(() =>
      parseDeploymentConfig({ ...SAMPLE_CONFIG, waf: { rateLimitPer5Minutes: floor - 1 } }),
    ).toThrow(/waf\.rateLimitPer5Minutes: must be at least 15000/);
  });
});

describe('safe rollouts', () => {
  it.each(['ProxyFunction', 'AuthorizerFunction'])(
    '%s is invoked through its live alias, which CodeDeploy shifts and rolls back on alarms',
    (prefix) => {
      const [[aliasId] = ['']] = ofType(parent, 'AWS::Lambda::Alias').filter(([id]) =>
        id.startsWith(prefix),
      );
      expect(resourcesOf(parent)[aliasId]?.Properties).toMatchObject({ Name: 'live' });
      const [[, group] = ['', undefined]] = ofType(
        parent,
        'AWS::CodeDeploy::DeploymentGroup',
      ).filter(([id]) => id.startsWith(prefix));
      expect(group?.Properties).toMatchObject({
        DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
        AutoRollbackConfiguration: {
          Enabled: true,
          Events: expect.arrayContaining(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM']),
        },
        AlarmConfiguration: { Enabled: true, Alarms: expect.any(Array) },
      });
      const alarms =
        (group?.Properties.AlarmConfiguration as { Alarms: unknown[] } | undefined)?.Alarms ?? [];
      expect(alarms.length).toBeGreaterThanOrEqual(3);
      expect(resourcesOf(parent)[aliasId]).toMatchObject({
        UpdatePolicy: {
          CodeDeployLambdaAliasUpdate: { DeploymentGroupName: { Ref: expect.any(String) } },
        },
      });
    },
  );

  it('points the API and the authorizer at the aliases, with one invoke permission each', () => {
    const text = JSON.stringify(parent.toJSON());
    expect(text).not.toMatch(/functions\/\$\{[^}]*ProxyFunction[^}]*\.Arn\}\/invocations/);
    const permissions = ofType(parent, 'AWS::Lambda::Permission');
    // One for the operation routes (the whole API, not 43 methods), one for the authorizer, one
    // for the docs routes, and one for CloudWatch Logs to deliver audit lines to the forwarder:
    // each on an alias, none on a function's $LATEST.
    expect(permissions).toHaveLength(4);
    for (const [, permission] of permissions) {
      expect(JSON.stringify(permission.Properties.FunctionName)).toMatch(
        /(Function|Docs|Forwarder)Live/,
      );
    }
  });

  it('follows the configured strategy', () => {
    const linear = synthesize(
      configWith({ rollout: { strategy: 'linear-10-percent-every-1-minute' } }),
    );
    linear.template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute',
    });
  });
});

describe('the Origin header for Ioto', () => {
  it('reaches the proxy as IOTO_ORIGIN when configured, and is absent otherwise', () => {
    const origin = 'https://app.example.com';
    const withOrigin = synthesize(
      configWith({ ioto: { endpoint: 'https://ioto.example.com', origin } }),
    ).template;
    withOrigin.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ IOTO_ORIGIN: origin }) },
    });
    expect(JSON.stringify(parent.toJSON())).not.toContain('IOTO_ORIGIN');
  });

  it('refuses an origin that is not an https origin, naming the field', () => {
    for (const origin of [
      'http://app.example.com',
      'https://app.example.com/',
      'https://a.example/x',
      'app.example.com',
      'not a url',
    ]) {
      expect(() =>
        parseDeploymentConfig({
          ...SAMPLE_CONFIG,
          ioto: { endpoint: 'https://i.example', origin },
        }),
      ).toThrow(/ioto\.origin/);
    }
  });
});

describe('the Ioto token secret', () => {
  it('is encrypted with a rotated, retained customer managed key the proxy decrypts through Secrets Manager only', () => {
    const [[keyId, key] = ['', undefined]] = ofType(parent, 'AWS::KMS::Key').filter(([id]) =>
      id.includes('IotoTokenKey'),
    );
    expect(key?.Properties.EnableKeyRotation).toBe(true);
    expect(key?.DeletionPolicy).toBe('Retain');
    parent.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    const keyPolicy = JSON.stringify(key?.Properties.KeyPolicy);
    expect(keyPolicy).toMatch(/kms:ViaService/);
    expect(keyPolicy).toMatch(/ProxyFunctionRole/);
    expect(keyPolicy).not.toMatch(/AuthorizerFunctionRole/);
  });

  it("grants decrypt on exactly the operator's key for an imported secret", () => {
    const kmsKeyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const imported = synthesize(
      configWith({
        ioto: {
          endpoint: 'https://ioto.example.com',
          tokenSecret: { name: 'ioto/cloudapi-token', kmsKeyArn },
        },
      }),
    ).template;
    const statements = ofType(imported, 'AWS::IAM::Policy').flatMap(
      ([, policy]) =>
        (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
    );
    // The token's decrypt grants (the idempotency table's key is the stack's own, with its own).
    const decrypt = statements.filter(
      (s) =>
        JSON.stringify(s.Action).includes('kms:Decrypt') &&
        !JSON.stringify(s.Resource).includes('IdempotencyKey'),
    );
    expect(decrypt).toEqual([
      expect.objectContaining({
        Resource: kmsKeyArn,
        Condition: { StringEquals: { 'kms:ViaService': expect.anything() } },
      }),
    ]);
  });

  it("answers every output the README's deploy guide asks for, each by one prefix", () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const asked = [...readme.matchAll(/\$\(out (\w+)\)/g)].map((m) => m[1] ?? '');
    expect(new Set(asked)).toEqual(
      new Set([
        'SecretsTokenSecretArn',
        'SecretsPageTokenKeyArn',
        'IdentityUserPoolId',
        'IdentityTokenEndpoint',
        'IdentityScope',
        'PartnerApiUrl',
      ]),
    );
    const outputs = Object.keys(parent.toJSON().Outputs as object);
    for (const prefix of asked) {
      expect([prefix, outputs.filter((o) => o.startsWith(prefix)).length]).toEqual([prefix, 1]);
    }
  });

  it('is named in an output, with the user pool and the token endpoint', () => {
    const outputs = Object.keys(parent.toJSON().Outputs as object);
    expect(outputs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/TokenSecretArn/),
        expect.stringMatching(/UserPoolId/),
        expect.stringMatching(/TokenEndpoint/),
      ]),
    );
    expect(outputs.filter((o) => o.includes('ClientId'))).toEqual([]);
  });
});
