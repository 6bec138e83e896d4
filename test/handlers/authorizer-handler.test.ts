import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { type AccessConfig, usageIdentifierKey } from '../../lambda/config/access';
import { devAccessConfig } from '../support/access-fixtures';
import { lambdaContext } from '../support/api-gateway-event';
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

/** The deployed authorizer module, loaded afresh with the current env. */
async function coldStart(): Promise<AuthorizerHandler> {
  let handler: AuthorizerHandler | undefined;
  await jest.isolateModulesAsync(async () => {
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
  process.env.ACCESS_CONFIG = JSON.stringify(access);
});

afterAll(async () => {
  jest.restoreAllMocks();
  delete process.env.ACCESS_CONFIG;
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
      context: { partnerId: 'acme' },
      usageIdentifierKey: usageIdentifierKey('acme'),
    });
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

  it('fails its cold start, naming the field, on a bad access configuration', async () => {
    const good = process.env.ACCESS_CONFIG;
    process.env.ACCESS_CONFIG = JSON.stringify({ ...access, partners: [{ id: 'x' }] });
    try {
      await expect(coldStart()).rejects.toThrow(
        /Invalid ACCESS_CONFIG:.*partners\[0\]\.operations: /,
      );
    } finally {
      process.env.ACCESS_CONFIG = good;
    }
  });
});
