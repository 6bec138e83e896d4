import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { IotoSimulator, SEED } from '../../dev/ioto-simulator';
import { jwksOf, loadOrCreateIssuerKey, mintPartnerToken } from '../../dev/local-issuer';
import { catalog, operationKey } from '../../lambda/catalog/index';
import { DOCS_PAGE_CSP } from '../../lambda/docs/docs-page';
import { REDOC_SOURCES } from '../../lib/constructs/partner-docs';
import { devAccessConfig } from '../support/access-fixtures';
import { restEvent } from '../support/api-gateway-event';
import { ACCESS_CONFIG_LOCATION } from '../support/appconfig-fake';
import { type Origin, startOrigin } from '../support/origin-server';

/**
 * `npx cdk synth` as a user runs it on a fresh clone (sample configuration, no AWS credentials,
 * real esbuild bundling), then the two bundles it produced, loaded by Node.js 24 in their own
 * processes and invoked with API Gateway events against the Ioto simulator. This catches
 * bundling and ESM mistakes that source-level tests cannot.
 */
const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);
const outDir = mkdtempSync(join(tmpdir(), 'ioto-bff-synth-'));

/** The environment of a process with no AWS credentials whatsoever. */
const withoutAws = () =>
  Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('CDK_')),
  );

let template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
let simulator: IotoSimulator;
let jwksServer: Origin;

beforeAll(async () => {
  await run('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', outDir], {
    cwd: ROOT,
    env: { ...withoutAws(), CI: 'true' },
    timeout: 120_000,
  });
  template = JSON.parse(readFileSync(join(outDir, 'IotoBff.template.json'), 'utf8'));
  simulator = await IotoSimulator.start();
  jwksServer = await startOrigin();
}, 150_000);

afterAll(async () => {
  await simulator?.close();
  await jwksServer?.close();
  rmSync(outDir, { recursive: true, force: true });
});

/** The bundled file of a function of the synthesized template. */
const bundleOf = (prefix: string): string => {
  const fn = Object.entries(template.Resources).find(
    ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(prefix),
  );
  if (fn === undefined) throw new Error(`no function ${prefix} in the template`);
  const key = String((fn[1].Properties.Code as { S3Key: string }).S3Key);
  return join(outDir, `asset.${key.replace(/\.zip$/, '')}`, 'index.js');
};

/** Runs a bundle's handler once in a fresh Node.js 24 process. */
async function invoke(bundle: string, env: Record<string, string>, event: unknown) {
  const { stdout } = await run(process.execPath, [join(__dirname, 'support', 'run-bundle.cjs')], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_PATH: join(ROOT, 'node_modules'),
      AWS_REGION: 'eu-west-1',
      POWERTOOLS_TRACE_DISABLED: 'true',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      BUNDLE: bundle,
      EVENT: JSON.stringify(event),
      ...env,
    },
    timeout: 30_000,
    // The docs function answers with Redoc's bundle (1.1 MB) inside the JSON printed here.
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as {
    result?: Record<string, unknown>;
    error?: string;
    dynamodb?: { command: string; table: string }[];
  };
}

/** The proxy's environment as the stack sets it, with the secrets and configuration faked. */
const proxyEnvironment = () => ({
  IOTO_ENDPOINT: simulator.endpoint,
  IOTO_TOKEN_SECRET_ID: 'ioto-token',
  PAGE_TOKEN_SECRET_ID: 'page-key',
  IDEMPOTENCY_TABLE_NAME: 'idempotency',
  ...ACCESS_CONFIG_LOCATION,
  TEST_ACCESS_CONFIG: JSON.stringify(devAccessConfig()),
  TEST_SECRETS: JSON.stringify({
    'ioto-token': JSON.stringify({ token: simulator.token }),
    'page-key': 'bundle-test-page-token-key-of-enough-length',
  }),
});

describe('the synthesized app', () => {
  it('refuses to synthesize a bad configuration, naming the field', async () => {
    const bad = join(outDir, 'bad-config.json');
    writeFileSync(
      bad,
      JSON.stringify({
        ioto: { endpoint: 'https://ioto.example.com' },
        identity: { type: 'cognito', domainPrefix: 'x' },
        partners: [{ id: 'acme', operations: ['device/remove'], accounts: ['A1'] }],
      }),
    );
    const failure = await run(
      'npx',
      ['cdk', 'synth', '--quiet', '--no-notices', '-c', `configFile=${bad}`],
      {
        cwd: ROOT,
        env: { ...withoutAws(), CI: 'true' },
        timeout: 60_000,
      },
    ).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toContain(
      'partners[0].operations[0]: unknown operation "device/remove"',
    );
    expect(failure?.stderr).not.toMatch(/\bat .+\.ts:\d+/);
  });

  it('synthesizes offline, with minified bundles and their source maps', () => {
    for (const prefix of ['ProxyFunction', 'AuthorizerFunction', 'DocsFunction']) {
      const bundle = bundleOf(prefix);
      expect(readFileSync(bundle, 'utf8').length).toBeGreaterThan(10_000);
      expect(readFileSync(`${bundle}.map`, 'utf8')).toContain('"sources"');
    }
  });

  it('runs the bundled proxy: a real call through Ioto succeeds', async () => {
    const outcome = await invoke(
      bundleOf('ProxyFunction'),
      proxyEnvironment(),
      restEvent({ path: '/v1/device/find', body: { limit: 3 }, partnerId: 'acme' }),
    );
    expect(outcome.error).toBeUndefined();
    expect(outcome.result?.statusCode).toBe(200);
    const body = JSON.parse(String(outcome.result?.body)) as {
      data: unknown[];
      nextPageToken: unknown;
    };
    expect(body.data).toHaveLength(3);
    expect(typeof body.nextPageToken).toBe('string');
    expect(simulator.requests.at(-1)?.path).toBe('/tok/device/find');
  });

  it('runs the bundled proxy: a write with an Idempotency-Key loads DynamoDB from the runtime SDK', async () => {
    // The DynamoDB client is loaded on the first idempotent write: with require, as the Lambda
    // runtime resolves its SDK only through NODE_PATH (an ES import would not find it).
    const account = SEED.accounts.find((a) => a.id === '01JHB4Z6QKAC00000000000002');
    const outcome = await invoke(
      bundleOf('ProxyFunction'),
      proxyEnvironment(),
      restEvent({
        path: '/v1/store/set',
        body: { deviceId: account?.deviceIds[0], key: 'bundle-test', value: 'on', type: 'string' },
        headers: { 'Idempotency-Key': 'bundle-test-write-1' },
        partnerId: 'globex',
      }),
    );
    expect(outcome.error).toBeUndefined();
    expect(outcome.result?.statusCode).toBe(200);
    expect(outcome.dynamodb).toEqual([
      { command: 'PutItemCommand', table: 'idempotency' },
      { command: 'UpdateItemCommand', table: 'idempotency' },
    ]);
  });

  it('runs the bundled authorizer: a partner token is verified against the issuer JWKS', async () => {
    const key = await loadOrCreateIssuerKey(join(outDir, 'issuer-key.json'));
    jwksServer.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwksOf(key)));
    });
    const dev = devAccessConfig();
    const access = {
      ...dev,
      issuers: dev.issuers.map((i) => ({
        ...i,
        jwksUri: `${jwksServer.url.replace('http:', 'https:')}/jwks.json`,
      })),
    };
    const methodArn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/v1/device/find';
    const allowed = await invoke(
      bundleOf('AuthorizerFunction'),
      { ...ACCESS_CONFIG_LOCATION, TEST_ACCESS_CONFIG: JSON.stringify(access) },
      {
        type: 'TOKEN',
        authorizationToken: `Bearer ${mintPartnerToken(key, access, 'globex')}`,
        methodArn,
      },
    );
    expect(allowed.result).toMatchObject({
      principalId: 'globex',
      context: { partnerId: 'globex' },
    });
    const refused = await invoke(
      bundleOf('AuthorizerFunction'),
      { ...ACCESS_CONFIG_LOCATION, TEST_ACCESS_CONFIG: JSON.stringify(access) },
      { type: 'TOKEN', authorizationToken: 'Bearer a.b.c', methodArn },
    );
    expect(refused.error).toBe('Unauthorized');
  });
  describe('the docs function', () => {
    const API_HOST = 'abc123.execute-api.eu-west-1.amazonaws.com';

    /** A GET through the stack's docs resources on the execute-api endpoint (stage prod). */
    const docsEvent = (path: string, resource: string, asset?: string) => {
      const event = restEvent({ method: 'GET', path, partnerId: null });
      return {
        ...event,
        resource,
        pathParameters: asset === undefined ? null : { asset },
        requestContext: { ...event.requestContext, domainName: API_HOST, resourcePath: resource },
      };
    };

    /** The function's environment as synthesized, the Cognito token URL resolved. */
    const docsEnvironment = (): Record<string, string> => {
      const fn = Object.entries(template.Resources).find(
        ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('DocsFunction'),
      );
      if (fn === undefined) throw new Error('no docs function in the template');
      const { Variables: variables } = fn[1].Properties.Environment as {
        Variables: Record<string, unknown>;
      };
      return Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [
          name,
          typeof value === 'string'
            ? value
            : 'https://example-ioto-bff.auth.eu-west-1.amazoncognito.com/oauth2/token',
        ]),
      );
    };

    it("ships Redoc's files next to its code, as the redoc package has them", () => {
      const dir = dirname(bundleOf('DocsFunction'));
      const redoc = dirname(require.resolve('redoc/package.json'));
      for (const [name, source] of Object.entries(REDOC_SOURCES)) {
        expect([
          name,
          readFileSync(join(dir, name)).equals(readFileSync(join(redoc, source))),
        ]).toEqual([name, true]);
      }
    });

    it('serves the page, the Redoc bundle and the description from its own files', async () => {
      const bundle = bundleOf('DocsFunction');
      const env = docsEnvironment();
      const [page, script, description] = await Promise.all([
        invoke(bundle, env, docsEvent('/docs', '/docs')),
        invoke(
          bundle,
          env,
          docsEvent('/docs/redoc.standalone.js', '/docs/{asset}', 'redoc.standalone.js'),
        ),
        invoke(bundle, env, docsEvent('/openapi.json', '/openapi.json')),
      ]);
      expect(page.result).toMatchObject({
        statusCode: 200,
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': DOCS_PAGE_CSP,
          'cache-control': 'public, max-age=300',
          'x-content-type-options': 'nosniff',
        },
      });
      expect(String(page.result?.body)).toContain('<script src="/prod/docs/redoc.standalone.js">');
      expect(script.result).toMatchObject({
        statusCode: 200,
        headers: { 'content-type': 'text/javascript; charset=utf-8' },
      });
      // The package's bundle, less the address of Redocly's logo (lambda/docs/redoc-assets.ts).
      const shipped = String(script.result?.body);
      expect(shipped.length).toBeGreaterThan(1_000_000);
      expect(shipped).not.toContain('cdn.redoc.ly');
      expect(description.result).toMatchObject({
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
      });
      const document = JSON.parse(String(description.result?.body)) as {
        servers: { url: string }[];
        paths: Record<string, unknown>;
      };
      expect(document.servers[0]?.url).toBe(`https://${API_HOST}/prod`);
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining(catalog.map((op) => `/v1/${operationKey(op)}`)),
      );
    });
  });
});
