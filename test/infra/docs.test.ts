import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { catalog } from '../../lambda/catalog/index';
import { docsEnvSchema, readEnv } from '../../lambda/config/env';
import { REDOC_FILES } from '../../lambda/docs/redoc-assets';
import { REDOC_SOURCES } from '../../lib/constructs/partner-docs';
import packageJson from '../../package.json';
import { configWith, OIDC_OVERRIDES, SAMPLE_CONFIG, synthesize } from './stack-fixtures';

/**
 * The partner documentation in the stack: `GET /docs`, `/docs/{asset}` and `/openapi.json`,
 * open (no authorizer, no API key), on the API's own stage, through a small function of their
 * own with its own log group and a role that can do nothing else. (The real bundle and its
 * Redoc files: bundle.test.ts.)
 */

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const resourcesOf = (template: ReturnType<typeof synthesize>['template']) =>
  template.toJSON().Resources as Resources;
const { template } = synthesize();
const resources = resourcesOf(template);
const ofType = (type: string, within: Resources = resources) =>
  Object.entries(within).filter(([, r]) => r.Type === type);

/** The one resource of a type whose logical id starts with `prefix`. */
const oneOf = (type: string, prefix: string, within: Resources = resources) => {
  const found = ofType(type, within).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`${found.length} ${type} named ${prefix}*`);
  return found[0] as [string, Resources[string]];
};

const [functionId, docsFunction] = oneOf('AWS::Lambda::Function', 'DocsFunction');
const [aliasId] = oneOf('AWS::Lambda::Alias', 'DocsFunctionLive');
const [restApiId] = ofType('AWS::ApiGateway::RestApi')[0] ?? [''];

/** A docs resource by its path part, with its parent. */
const resourceNamed = (pathPart: string) => {
  const found = ofType('AWS::ApiGateway::Resource').filter(
    ([, r]) => r.Properties.PathPart === pathPart,
  );
  expect(found).toHaveLength(1);
  return found[0] as [string, Resources[string]];
};
const [pageId, page] = resourceNamed('docs');
const [assetId, asset] = resourceNamed('{asset}');
const [openApiId, openApi] = resourceNamed('openapi.json');
const rootResource = { 'Fn::GetAtt': [restApiId, 'RootResourceId'] };

const methodsOn = (resourceId: string) =>
  ofType('AWS::ApiGateway::Method').filter(
    ([, m]) => (m.Properties.ResourceId as { Ref?: string }).Ref === resourceId,
  );

/** The environment of the docs function, CloudFormation intrinsics replaced by `stand-in`. */
const environmentOf = (fn: Resources[string], standIn: (value: unknown) => string) =>
  Object.fromEntries(
    Object.entries(
      (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
    ).map(([name, value]) => [name, typeof value === 'string' ? value : standIn(value)]),
  );

describe('the docs routes', () => {
  it('are /docs and /openapi.json at the root of the API, and /docs/{asset} below /docs', () => {
    expect(page.Properties.ParentId).toEqual(rootResource);
    expect(openApi.Properties.ParentId).toEqual(rootResource);
    expect(asset.Properties.ParentId).toEqual({ Ref: pageId });
  });

  it.each([
    ['/docs', pageId, 'docs.page'],
    ['/docs/{asset}', assetId, 'docs.asset'],
    ['/openapi.json', openApiId, 'docs.openapi'],
  ])(
    'open %s with GET and ANY, no authorizer and no API key, to the docs function',
    (_path, id, name) => {
      const methods = methodsOn(id);
      expect(methods.map(([, m]) => m.Properties.HttpMethod).sort()).toEqual(['ANY', 'GET']);
      for (const [, method] of methods) {
        expect(method.Properties).toMatchObject({
          AuthorizationType: 'NONE',
          Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
          RestApiId: { Ref: restApiId },
        });
        expect(method.Properties.AuthorizerId).toBeUndefined();
        expect(method.Properties.ApiKeyRequired).not.toBe(true);
        expect(JSON.stringify(method.Properties.Integration)).toContain(`"Ref":"${aliasId}"`);
      }
      expect(methods.map(([, m]) => m.Properties.OperationName).sort()).toEqual([
        name,
        `${name}.notAllowed`,
      ]);
    },
  );

  it("leave the operations' methods as they were: POST to the proxy, ANY to the 405 mock", () => {
    const methods = ofType('AWS::ApiGateway::Method');
    const docsIds = new Set([pageId, assetId, openApiId]);
    const others = methods.filter(
      ([, m]) => !docsIds.has((m.Properties.ResourceId as { Ref?: string }).Ref ?? ''),
    );
    const count = (kind: string, type: string) =>
      others.filter(
        ([, m]) =>
          m.Properties.HttpMethod === kind &&
          (m.Properties.Integration as { Type: string }).Type === type,
      ).length;
    expect(count('POST', 'AWS_PROXY')).toBe(catalog.length);
    expect(count('ANY', 'MOCK')).toBe(catalog.length);
    expect(others).toHaveLength(2 * catalog.length);
  });

  it('may invoke the alias from this API only, with one permission', () => {
    const permissions = ofType('AWS::Lambda::Permission').filter(
      ([, p]) => (p.Properties.FunctionName as { Ref?: string }).Ref === aliasId,
    );
    expect(permissions).toHaveLength(1);
    expect(permissions[0]?.[1].Properties).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
    });
    const source = JSON.stringify(permissions[0]?.[1].Properties.SourceArn);
    expect(source).toContain(`"Ref":"${restApiId}"`);
    expect(source).toContain('/*/*/*');
  });

  it("are on the stage the web firewall guards (it is the API's one stage)", () => {
    const stages = ofType('AWS::ApiGateway::Stage');
    expect(stages).toHaveLength(1);
    const associations = ofType('AWS::WAFv2::WebACLAssociation');
    expect(associations).toHaveLength(1);
    const target = JSON.stringify(associations[0]?.[1].Properties.ResourceArn);
    expect(target).toContain(`"Ref":"${restApiId}"`);
    expect(target).toContain(`"/stages/",{"Ref":"${stages[0]?.[0]}"}`);
  });

  it('are named in the DocsUrl output, on the execute-api endpoint or the custom domain', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const docsUrl = Object.entries(outputs).filter(([name]) => name.startsWith('DocsUrl'));
    expect(docsUrl).toHaveLength(1);
    expect(JSON.stringify(docsUrl[0]?.[1].Value)).toMatch(/\/docs"\]\]\}$/);
    const custom = synthesize(
      configWith({
        api: {
          customDomain: {
            domainName: 'iot.example.com',
            certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
          },
        },
      }),
    ).template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const customUrl = Object.entries(custom).find(([name]) => name.startsWith('DocsUrl'));
    // Ref of an API Gateway domain name is the name itself.
    expect(JSON.stringify(customUrl?.[1].Value)).toMatch(
      /"https:\/\/",\{"Ref":"PartnerApiCustomDomain[0-9A-F]{8}"\},"\/docs"\]\]\}$/,
    );
  });
});

describe('the docs function', () => {
  it('follows the conventions of the other functions: Node.js 24, ARM64, X-Ray, its own log group', () => {
    expect(docsFunction.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
    });
    const [logsId, logs] = oneOf('AWS::Logs::LogGroup', 'DocsFunctionLogs');
    expect(docsFunction.Properties.LoggingConfig).toEqual({ LogGroup: { Ref: logsId } });
    expect(logs.Properties.RetentionInDays).toBe(
      (SAMPLE_CONFIG.monitoring as { logRetentionDays: number }).logRetentionDays,
    );
  });

  it('has an environment its schema accepts: paging, version, scope and the Cognito token URL', () => {
    const env = environmentOf(docsFunction, () => 'https://stand-in.example.com/oauth2/token');
    const parsed = readEnv(docsEnvSchema, env);
    expect(parsed).toMatchObject({
      PAGE_LIMIT_DEFAULT: 25,
      PAGE_LIMIT_MAX: 100,
      API_VERSION: packageJson.version,
      OAUTH_SCOPE: (SAMPLE_CONFIG.identity as { scope: string }).scope,
    });
    const tokenUrl = JSON.stringify(
      (docsFunction.Properties.Environment as { Variables: Record<string, unknown> }).Variables
        .OAUTH_TOKEN_URL,
    );
    const [domainId] = oneOf('AWS::Cognito::UserPoolDomain', 'IdentityUserPoolDomain');
    expect(tokenUrl).toContain(`"Ref":"${domainId}"`);
    expect(tokenUrl).toContain('/oauth2/token');
  });

  it('names no token URL with an external OIDC issuer, and its scope', () => {
    const oidc = resourcesOf(synthesize(configWith(OIDC_OVERRIDES)).template);
    const [, fn] = oneOf('AWS::Lambda::Function', 'DocsFunction', oidc);
    const env = readEnv(
      docsEnvSchema,
      environmentOf(fn, () => 'unexpected'),
    );
    expect(env.OAUTH_TOKEN_URL).toBeUndefined();
    expect(env.OAUTH_SCOPE).toBe(OIDC_OVERRIDES.identity.scope);
  });

  it('takes paging bounds from the deployment limits', () => {
    const limited = resourcesOf(
      synthesize(configWith({ limits: { pageLimitDefault: 10, pageLimitMax: 40 } })).template,
    );
    const [, fn] = oneOf('AWS::Lambda::Function', 'DocsFunction', limited);
    expect(
      readEnv(
        docsEnvSchema,
        environmentOf(fn, () => 'https://x.example.com/t'),
      ),
    ).toMatchObject({ PAGE_LIMIT_DEFAULT: 10, PAGE_LIMIT_MAX: 40 });
  });

  it('may write its own logs and traces, and read nothing', () => {
    const roleId = (docsFunction.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const actions = ofType('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
      .flatMap(
        ([, p]) =>
          (p.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement,
      )
      .flatMap((statement) => ([] as string[]).concat(statement.Action));
    expect([...new Set(actions)].sort()).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    const [, role] = oneOf('AWS::IAM::Role', roleId ?? '');
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it("copies Redoc's files that the function serves, each from the installed redoc package", () => {
    expect(Object.keys(REDOC_SOURCES).sort()).toEqual(Object.keys(REDOC_FILES).sort());
    const redoc = dirname(require.resolve('redoc/package.json'));
    for (const source of Object.values(REDOC_SOURCES)) {
      expect([source, existsSync(join(redoc, source))]).toEqual([source, true]);
    }
  });
});

it('keeps the function id the bundle test looks for', () => {
  expect(functionId).toMatch(/^DocsFunction[0-9A-F]{8}$/);
});
