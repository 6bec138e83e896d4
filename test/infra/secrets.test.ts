import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { parseDeploymentConfig } from '../../lib/config';
import { IotoSecrets } from '../../lib/constructs/ioto-secrets';
import { configWith, SAMPLE_CONFIG, synthesize } from './stack-fixtures';

/**
 * Who can read the two secrets (issue 15): a resource policy on each secret the stack creates
 * denies the value to every principal but the proxy's role and an optional break-glass role,
 * and the page-token key is encrypted under a customer managed key the stack controls.
 */
type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
};
type Statement = Record<string, unknown>;

const BREAK_GLASS = 'arn:aws:iam::123456789012:role/operators/ioto-bff-break-glass';
const OPERATOR_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ENDPOINT = (SAMPLE_CONFIG.ioto as { endpoint: string }).endpoint;

const resourcesOf = (template: Template) => template.toJSON().Resources as Record<string, Resource>;
const ofType = (template: Template, type: string) =>
  Object.entries(resourcesOf(template)).filter(([, r]) => r.Type === type);
const idOf = (template: Template, type: string, prefix: string): string => {
  const found = ofType(template, type).filter(([id]) => id.startsWith(prefix));
  expect(found).toHaveLength(1);
  return found[0]?.[0] ?? '';
};
const statementsOf = (policy: Resource): Statement[] =>
  (policy.Properties.ResourcePolicy as { Statement: Statement[] }).Statement;

/** The ARN of the proxy's role, as the template writes it. */
const proxyRoleArn = (template: Template) => ({
  'Fn::GetAtt': [idOf(template, 'AWS::IAM::Role', 'ProxyFunctionRole'), 'Arn'],
});

/** The one statement every secret policy holds: the value for the proxy (and break-glass) only. */
const readDenial = (exceptions: unknown[]) => ({
  Sid: 'OnlyTheProxyAndBreakGlassReadTheValue',
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: 'secretsmanager:GetSecretValue',
  Resource: '*',
  Condition: { ArnNotEquals: { 'aws:PrincipalArn': exceptions } },
});

/** The resource policy of the secret whose logical id starts with `prefix`. */
const policyOfSecret = (template: Template, prefix: string): Resource => {
  const secretId = idOf(template, 'AWS::SecretsManager::Secret', prefix);
  const policies = ofType(template, 'AWS::SecretsManager::ResourcePolicy').filter(
    ([, p]) => JSON.stringify(p.Properties.SecretId) === JSON.stringify({ Ref: secretId }),
  );
  expect(policies).toHaveLength(1);
  return policies[0]?.[1] as Resource;
};

const imported = (tokenSecret: Record<string, unknown>, secrets?: Record<string, unknown>) =>
  synthesize(
    configWith({ ioto: { endpoint: ENDPOINT, tokenSecret }, ...(secrets && { secrets }) }),
  );

describe('the secrets the stack creates', () => {
  const { template } = synthesize();

  it.each([
    ['the Ioto token', 'SecretsIotoToken'],
    ['the page-token key', 'SecretsPageTokenKey'],
  ])(
    '%s has a resource policy that denies its value to every principal but the proxy',
    (_name, prefix) => {
      const policy = policyOfSecret(template, prefix);
      expect(statementsOf(policy)).toEqual([readDenial([proxyRoleArn(template)])]);
      expect(policy.Properties.BlockPublicPolicy).toBe(true);
    },
  );

  it("lets the proxy's role read every version stage of the page-token key, which a rotation moves", () => {
    const key = { Ref: idOf(template, 'AWS::SecretsManager::Secret', 'SecretsPageTokenKey') };
    const reads = ofType(template, 'AWS::IAM::Policy').flatMap(([, policy]) =>
      (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter(
        (s) =>
          [s.Action].flat().includes('secretsmanager:GetSecretValue') &&
          JSON.stringify(s.Resource) === JSON.stringify(key),
      ).map((s) => ({ roles: policy.Properties.Roles, statement: s })),
    );
    expect(reads).toEqual([
      {
        roles: [{ Ref: idOf(template, 'AWS::IAM::Role', 'ProxyFunctionRole') }],
        statement: expect.not.objectContaining({ Condition: expect.anything() }),
      },
    ]);
  });

  it('denies nothing CloudFormation or an operator rotating the page-token key needs', () => {
    for (const [, policy] of ofType(template, 'AWS::SecretsManager::ResourcePolicy')) {
      const denied = statementsOf(policy)
        .filter((s) => s.Effect === 'Deny')
        .flatMap((s) => [s.Action].flat());
      expect(denied).toEqual(['secretsmanager:GetSecretValue']);
      // No Allow: what the proxy may do stays in its role's policy, next to the function.
      expect(statementsOf(policy).filter((s) => s.Effect !== 'Deny')).toEqual([]);
    }
  });

  it('encrypts the page-token key under the key of the Ioto token, which the proxy decrypts through Secrets Manager only', () => {
    const tokenKey = idOf(template, 'AWS::KMS::Key', 'SecretsIotoTokenKey');
    for (const prefix of ['SecretsIotoToken', 'SecretsPageTokenKey']) {
      const secretId = idOf(template, 'AWS::SecretsManager::Secret', prefix);
      expect(resourcesOf(template)[secretId]?.Properties.KmsKeyId).toEqual({
        'Fn::GetAtt': [tokenKey, 'Arn'],
      });
    }
    expect(ofType(template, 'AWS::KMS::Key').map(([id]) => id)).not.toContainEqual(
      expect.stringMatching(/PageTokenKmsKey/),
    );
    const keyPolicy = JSON.stringify(resourcesOf(template)[tokenKey]?.Properties.KeyPolicy);
    expect(keyPolicy).toMatch(/kms:ViaService/);
    expect(keyPolicy).toMatch(/ProxyFunctionRole/);
  });

  it('names the page-token key secret in an output, for its rotation', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const [name, output] =
      Object.entries(outputs).find(([key]) => key.startsWith('SecretsPageTokenKeyArn')) ?? [];
    expect(name).toBeDefined();
    expect(output?.Value).toEqual({
      Ref: idOf(template, 'AWS::SecretsManager::Secret', 'SecretsPageTokenKey'),
    });
    expect(Object.keys(outputs).filter((key) => key.includes('ImportedTokenSecretPolicy'))).toEqual(
      [],
    );
  });

  it('leaves the break-glass role out of the denial of both secrets when configured', () => {
    const withBreakGlass = synthesize(configWith({ secrets: { breakGlassRoleArn: BREAK_GLASS } }));
    for (const prefix of ['SecretsIotoToken', 'SecretsPageTokenKey']) {
      expect(statementsOf(policyOfSecret(withBreakGlass.template, prefix))).toEqual([
        readDenial([proxyRoleArn(withBreakGlass.template), BREAK_GLASS]),
      ]);
    }
  });
});

describe('an imported Ioto token secret', () => {
  it.each([
    ['under the operator’s KMS key', { name: 'ioto/cloudapi-token', kmsKeyArn: OPERATOR_KEY }],
    ['under aws/secretsmanager', { name: 'ioto/cloudapi-token' }],
  ])(
    '%s gets no policy from the stack; the page-token key a rotating key of its own',
    (_name, tokenSecret) => {
      const { template } = imported(tokenSecret);
      // Only the page-token key's own policy: the operator's secret is not touched.
      expect(ofType(template, 'AWS::SecretsManager::ResourcePolicy')).toHaveLength(1);
      expect(statementsOf(policyOfSecret(template, 'SecretsPageTokenKey'))).toEqual([
        readDenial([proxyRoleArn(template)]),
      ]);
      const ownKey = idOf(template, 'AWS::KMS::Key', 'SecretsPageTokenKmsKey');
      const key = resourcesOf(template)[ownKey];
      expect(key?.Properties.EnableKeyRotation).toBe(true);
      expect(key?.DeletionPolicy).toBe('Delete');
      expect(
        resourcesOf(template)[idOf(template, 'AWS::SecretsManager::Secret', 'SecretsPageTokenKey')]
          ?.Properties.KmsKeyId,
      ).toEqual({ 'Fn::GetAtt': [ownKey, 'Arn'] });
      expect(JSON.stringify(key?.Properties.KeyPolicy)).toMatch(/ProxyFunctionRole/);
      // The operator's key is used for the token only, and only through Secrets Manager.
      expect(JSON.stringify(template.toJSON())).not.toMatch(/"KmsKeyId":"arn:aws:kms/);
    },
  );

  it('outputs the resource policy for the operator to put on it, break-glass role included', () => {
    const { template, stack } = imported(
      { arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ioto-token-AbCdEf' },
      { breakGlassRoleArn: BREAK_GLASS },
    );
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const [, output] =
      Object.entries(outputs).find(([key]) => key.startsWith('SecretsImportedTokenSecretPolicy')) ??
      [];
    // The value is JSON with the role's ARN joined in at deploy time: resolve it with a fake ARN.
    const value = stack.resolve(output?.Value) as { 'Fn::Join': [string, unknown[]] };
    const roleArn = 'arn:aws:iam::123456789012:role/IotoBffTest-ProxyFunctionRole';
    const text = value['Fn::Join'][1]
      .map((part) => (typeof part === 'string' ? part : roleArn))
      .join(value['Fn::Join'][0]);
    expect(JSON.parse(text)).toEqual({
      Version: '2012-10-17',
      Statement: [readDenial([roleArn, BREAK_GLASS])],
    });
  });

  it('reports no unacknowledged cdk-nag finding', () => {
    const { app } = imported(
      { name: 'ioto/cloudapi-token', kmsKeyArn: OPERATOR_KEY },
      { breakGlassRoleArn: BREAK_GLASS },
    );
    for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
      const findings = pack
        .validateScope(app)
        .violations.flatMap((v) =>
          v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
        );
      expect(findings).toEqual([]);
    }
  });
});

describe('IotoSecrets', () => {
  it('has one reader: a second grant would be denied by the first one’s policy', () => {
    const stack = new Stack(new App(), 'OneReader');
    const secrets = new IotoSecrets(stack, 'Secrets', {});
    const role = () =>
      new Role(stack, `Reader${stack.node.children.length}`, {
        assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      });
    secrets.grantRead(role());
    expect(() => secrets.grantRead(role())).toThrow(/one reader/);
  });
});

describe('secrets.breakGlassRoleArn', () => {
  const parse = (breakGlassRoleArn: string) =>
    parseDeploymentConfig({ ...SAMPLE_CONFIG, secrets: { breakGlassRoleArn } }).secrets;

  it.each([
    'arn:aws:iam::123456789012:role/break-glass',
    BREAK_GLASS,
    'arn:aws-us-gov:iam::123456789012:role/Break+Glass=1,x.y@z_w-v',
  ])('accepts the role ARN %s', (arn) => {
    expect(parse(arn)).toEqual({ breakGlassRoleArn: arn });
  });

  it.each([
    ['a user', 'arn:aws:iam::123456789012:user/alice'],
    ['an assumed-role session', 'arn:aws:sts::123456789012:assumed-role/break-glass/alice'],
    ['a wildcard', 'arn:aws:iam::123456789012:role/*'],
    ['an account root', 'arn:aws:iam::123456789012:root'],
    ['a bare name', 'break-glass'],
    ['a short account id', 'arn:aws:iam::1234:role/break-glass'],
  ])('refuses %s, naming the field', (_name, arn) => {
    expect(() => parse(arn)).toThrow(/secrets\.breakGlassRoleArn: must be an IAM role ARN/);
  });

  it('is optional', () => {
    expect(parseDeploymentConfig(SAMPLE_CONFIG).secrets).toEqual({});
  });
});
