import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from 'aws-lambda';
import {
  type IssuerKey,
  jwksOf,
  loadOrCreateIssuerKey,
  mintPartnerToken,
} from '../../dev/local-issuer';
import { createAuthorizerHandler } from '../../lambda/auth/create-authorizer-handler';
import { authorizerContextOf } from '../../lambda/auth/token-authorizer';
import { type AccessConfig, usageIdentifierKey } from '../../lambda/config/access';
import { staticAccess } from '../../lambda/config/access-source';
import { AuthorizerUnavailableError } from '../../lambda/problems/problem-error';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lib/service';
import { devAccessConfig } from '../support/access-fixtures';
import { lambdaContext } from '../support/api-gateway-event';
import { ACCESS_CONFIG_LOCATION, serveAccessConfig } from '../support/appconfig-fake';
import { captureOutput } from '../support/capture-output';
import { type Origin, startOrigin } from '../support/origin-server';

type AuthorizerHandler = (
  event: APIGatewayTokenAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/v1/device/find';

let jwksServer: Origin;
let key: IssuerKey;
let access: AccessConfig;
let output: ReturnType<typeof captureOutput>;

/** The access configuration AppConfig serves to the deployed authorizer. */
let accessText = '';
let appConfig: ReturnType<typeof serveAccessConfig> | undefined;

/** The deployed authorizer module, loaded afresh with the current env, AppConfig faked. */
async function coldStart(): Promise<AuthorizerHandler> {
  let handler: AuthorizerHandler | undefined;
  await jest.isolateModulesAsync(async () => {
    appConfig?.mock.restore();
    appConfig = serveAccessConfig(await import('@aws-sdk/client-appconfigdata'), () => accessText);
    ({ handler } = await import('../../lambda/handlers/authorizer'));
  });
  if (handler === undefined) throw new Error('the handler module exported no handler');
  return handler;
}

beforeAll(async () => {
  output = captureOutput();
  key = await loadOrCreateIssuerKey(
    join(tmpdir(), `ioto-bff-auth-${randomBytes(6).toString('hex')}.json`),
  );
  jwksServer = await startOrigin();
  jwksServer.respond((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(jwksOf(key)));
  });
  // The issuer's JWKS is announced over https, as a real issuer's is; the test serves it from
  // loopback, so https requests are carried over plain http here and nowhere else.
  jest
    .spyOn(https, 'request')
    .mockImplementation(((url: string, options: http.RequestOptions, callback) =>
      http.request(url.replace(/^https:/, 'http:'), options, callback)) as typeof https.request);
  const dev = devAccessConfig();
  access = {
    ...dev,
    issuers: dev.issuers.map((issuer) => ({
      ...issuer,
      jwksUri: `${jwksServer.url.replace(/^http:/, 'https:')}/.well-known/jwks.json`,
    })),
  };
  accessText = JSON.stringify({ ...access, usageKeyPrefix: 'stack-prefix-0123' });
  Object.assign(process.env, ACCESS_CONFIG_LOCATION);
});

afterAll(async () => {
  jest.restoreAllMocks();
  for (const name of Object.keys(ACCESS_CONFIG_LOCATION)) delete process.env[name];
  appConfig?.mock.restore();
  await jwksServer.close();
  output.restore();
});

describe('the deployed authorizer handler', () => {
  it('fetches the issuer JWKS and allows a partner token', async () => {
    const handler = await coldStart();
    const token = mintPartnerToken(key, access, 'acme');
    const result = await handler(
      { type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: METHOD_ARN },
      lambdaContext(),
    );
    expect(result).toMatchObject({
      principalId: 'acme',
      context: {
        partnerId: 'acme',
        identityFingerprint: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        tokenExpiresAt: expect.stringMatching(/^\d+$/),
      },
      // The key of this stack's usage plans: its prefix comes with the access configuration.
      usageIdentifierKey: usageIdentifierKey('acme', 'stack-prefix-0123'),
    });
    expect(appConfig?.calls).toEqual({ sessions: 1, reads: 1 });
    expect(jwksServer.requests.map((r) => r.url)).toEqual(['/.well-known/jwks.json']);
  });

  it('refuses a bad token with Unauthorized and logs why, never the token', async () => {
    const handler = await coldStart();
    const token = `${mintPartnerToken(key, access, 'acme').slice(0, -4)}AAAA`;
    await expect(
      handler(
        { type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: METHOD_ARN },
        lambdaContext(),
      ),
    ).rejects.toThrow(/^Unauthorized$/);
    expect(output.records()).toContainEqual(
      expect.objectContaining({ message: 'authorization refused' }),
    );
    expect(output.text()).not.toContain(token.split('.')[1]);
  });

  it('fails (not refuses) on a bad access configuration, naming the field in its log', async () => {
    const good = accessText;
    accessText = JSON.stringify({ ...access, partners: [{ id: 'x' }] });
    try {
      const handler = await coldStart();
      const token = mintPartnerToken(key, access, 'acme');
      await expect(
        handler(
          { type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: METHOD_ARN },
          lambdaContext(),
        ),
        // The module is loaded in its own registry: match the problem, not the class.
      ).rejects.toMatchObject({ code: 'authorizer_unavailable' });
      expect(output.text()).toMatch(/partners\[0\]\.operations: /);
    } finally {
      accessText = good;
    }
  });

  it('fails its cold start, naming the variable, without a location for the access configuration', async () => {
    const application = process.env.ACCESS_CONFIG_APPLICATION;
    delete process.env.ACCESS_CONFIG_APPLICATION;
    try {
      await expect(coldStart()).rejects.toThrow(/ACCESS_CONFIG_APPLICATION/);
    } finally {
      process.env.ACCESS_CONFIG_APPLICATION = application;
    }
  });
});

/** The EMF documents Powertools printed (JSON lines with an `_aws` key), from `start` on. */
const emfFrom = (start: number) =>
  output
    .records()
    .slice(start)
    .filter((record) => '_aws' in record);

/** Runs one authorization through the chain; returns what it threw and what it printed. */
async function invokeChain(handler: ReturnType<typeof createAuthorizerHandler>, token: string) {
  const start = output.records().length;
  const textStart = output.text().length;
  const error = await handler(
    { type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: METHOD_ARN },
    lambdaContext(),
  ).then(
    () => undefined,
    (thrown: unknown) => thrown as Error,
  );
  return {
    error,
    emf: emfFrom(start),
    records: output.records().slice(start),
    text: output.text().slice(textStart),
  };
}

/** The one EMF document of an invocation that counted `metric` once, as Powertools writes it. */
const countedOnce = (metric: string) => [
  {
    _aws: {
      Timestamp: expect.any(Number),
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [['service']],
          Metrics: [{ Name: metric, Unit: 'Count' }],
        },
      ],
    },
    service: SERVICE_NAME,
    [metric]: 1,
  },
];

describe('the authorizer middy chain and its metrics', () => {
  /** The chain as the composition root builds it, over an issuer whose JWKS is at `jwksUri`. */
  const chainFor = (jwksUri: string) => {
    const over: AccessConfig = {
      ...access,
      issuers: access.issuers.map((issuer) => ({ ...issuer, jwksUri })),
    };
    return createAuthorizerHandler({
      context: authorizerContextOf(staticAccess(over)),
      logger: new Logger(),
      // Namespace and service from the environment, as deployed (test/support/jest-setup.ts).
      metrics: new Metrics(),
    });
  };
  const jwksUri = () => `${jwksServer.url.replace(/^http:/, 'https:')}/.well-known/jwks.json`;

  /** A port on loopback nothing listens on. */
  const closedPort = async (): Promise<number> => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  };

  afterEach(() => {
    jwksServer.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwksOf(key)));
    });
  });

  it("names the invocation's request id on every line, and the partner once known", async () => {
    const handler = chainFor(jwksUri());
    const lines = async (token: string) => {
      const context = lambdaContext();
      const start = output.records().length;
      await handler(
        { type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: METHOD_ARN },
        context,
      ).catch(() => undefined);
      const records = output
        .records()
        .slice(start)
        .filter((record) => !('_aws' in record));
      return { records, requestId: context.awsRequestId };
    };
    // Signed by the issuer, expired an hour ago: refused, and whose token it was is known.
    const expired = await lines(mintPartnerToken(key, access, 'acme', Date.now() - 7_200_000));
    expect(expired.records).toEqual([
      expect.objectContaining({
        message: 'authorization refused',
        reason: 'expired',
        partnerId: 'acme',
        correlation_id: expired.requestId,
        function_request_id: expired.requestId,
      }),
    ]);
    // A forged one: nobody is known.
    const forged = await lines(`${mintPartnerToken(key, access, 'acme').slice(0, -4)}AAAA`);
    expect(forged.records).toEqual([
      expect.objectContaining({ reason: 'bad signature', correlation_id: forged.requestId }),
    ]);
    expect(forged.records[0]).not.toHaveProperty('partnerId');
  });

  it('flushes one AuthorizerAllowed for an allowed token', async () => {
    const { error, emf } = await invokeChain(
      chainFor(jwksUri()),
      mintPartnerToken(key, access, 'acme'),
    );
    expect(error).toBeUndefined();
    expect(emf).toEqual(countedOnce('AuthorizerAllowed'));
  });

  it('flushes one AuthorizerRefusals for a bad token, although the handler throws', async () => {
    const token = `${mintPartnerToken(key, access, 'acme').slice(0, -4)}AAAA`;
    const { error, emf, text } = await invokeChain(chainFor(jwksUri()), token);
    expect(error?.message).toBe('Unauthorized');
    expect(emf).toEqual(countedOnce('AuthorizerRefusals'));
    expect(text).not.toContain(token.split('.')[2]);
  });

  it.each<[string, () => Promise<string>]>([
    [
      'answers 500',
      async () => {
        jwksServer.respond((_req, res) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('Internal Server Error');
        });
        return jwksUri();
      },
    ],
    [
      'answers something that is not JSON',
      async () => {
        jwksServer.respond((_req, res) => {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<html>maintenance</html>');
        });
        return jwksUri();
      },
    ],
    ['refuses the connection', async () => `https://127.0.0.1:${await closedPort()}/jwks.json`],
  ])('flushes one AuthorizerFailures when the JWKS endpoint %s', async (_name, endpoint) => {
    const token = mintPartnerToken(key, access, 'acme');
    const { error, emf, records, text } = await invokeChain(chainFor(await endpoint()), token);
    expect(error).toBeInstanceOf(AuthorizerUnavailableError);
    expect(error?.message).not.toBe('Unauthorized');
    expect(emf).toEqual(countedOnce('AuthorizerFailures'));
    expect(records).toContainEqual(
      expect.objectContaining({ level: 'ERROR', message: 'authorization failed' }),
    );
    expect(text).not.toContain(token.split('.')[2]);
  });

  it('flushes one AuthorizerFailures when the JWKS endpoint never answers', async () => {
    // aws-jwt-verify gives up after 3 s and retries once: about 6 s, within the 10 s timeout.
    jwksServer.respond(() => undefined);
    const { error, emf, records } = await invokeChain(
      chainFor(jwksUri()),
      mintPartnerToken(key, access, 'acme'),
    );
    expect(error).toBeInstanceOf(AuthorizerUnavailableError);
    expect(emf).toEqual(countedOnce('AuthorizerFailures'));
    expect(records).toContainEqual(
      expect.objectContaining({ message: 'authorization failed', reason: 'JWKS unreachable' }),
    );
  }, 15_000);
});
