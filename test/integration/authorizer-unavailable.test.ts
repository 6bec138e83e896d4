import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayAuthorizerResult, APIGatewayProxyResult } from 'aws-lambda';
import {
  createApiGatewayEmulator,
  listenOnLoopback,
} from '../../dev/local-gateway/api-gateway-emulator';
import {
  type IssuerKey,
  jwksOf,
  loadOrCreateIssuerKey,
  mintPartnerToken,
  signJwt,
} from '../../dev/local-issuer';
import type { AuthorizerHandler } from '../../lambda/auth/create-authorizer-handler';
import { type AccessConfig, parseAccessConfig } from '../../lambda/config/access';
import { devAccessConfig, globexClaims, nowSeconds } from '../support/access-fixtures';
import { type Origin, startOrigin } from '../support/origin-server';
import { type CallResult, type Rig, startRig } from './gateway-harness';

/**
 * An authorizer that cannot decide (its issuer's signing keys unreachable) is not a partner
 * with a bad token: API Gateway answers its authorizer failure response, 503
 * `authorizer_unavailable` with `retry-after`, never 401, and caches nothing.
 */

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

/** A port on loopback nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await closeServer(server);
  return port;
}

const expectAuthorizerUnavailable = (result: CallResult) => {
  expect(result.status).toBe(503);
  expect(result.headers.get('content-type')).toBe('application/problem+json');
  expect(result.headers.get('retry-after')).toBe('5');
  expect(result.body).toEqual({
    type: 'urn:ioto-bff:problem:authorizer_unavailable',
    title: 'Authorization unavailable',
    status: 503,
    detail: 'The gateway could not check the access token right now; retry later.',
    code: 'authorizer_unavailable',
    requestId: result.headers.get('x-request-id'),
  });
};

describe('the API Gateway emulator', () => {
  const allow: APIGatewayAuthorizerResult = {
    principalId: 'acme',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' }],
    },
    context: { partnerId: 'acme' },
  };
  const ok: APIGatewayProxyResult = {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: '{"data":null}',
  };
  let server: Server;
  let url: string;
  let authorizer: jest.Mock<ReturnType<AuthorizerHandler>, Parameters<AuthorizerHandler>>;

  beforeEach(async () => {
    authorizer = jest.fn<ReturnType<AuthorizerHandler>, Parameters<AuthorizerHandler>>();
    server = createApiGatewayEmulator({
      proxy: async () => ok,
      authorizer,
      authorizerCacheSeconds: 300,
    });
    url = await listenOnLoopback(server, 0);
  });

  afterEach(async () => {
    await closeServer(server);
  });

  const call = async (): Promise<CallResult> => {
    const response = await fetch(`${url}/v1/device/find`, {
      method: 'POST',
      headers: { authorization: 'Bearer a.b.c', 'content-type': 'application/json' },
      body: '{}',
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: JSON.parse(text) as Record<string, unknown>,
    };
  };

  it.each([
    ['an Error', new Error('Unauthorized')],
    ["a string, as callback('Unauthorized') reports it", 'Unauthorized'],
  ])(
    'answers 401 unauthorized when the authorizer throws Unauthorized as %s',
    async (_name, thrown) => {
      authorizer.mockRejectedValue(thrown);
      const result = await call();
      expect(result.status).toBe(401);
      expect(result.body).toMatchObject({ code: 'unauthorized' });
    },
  );

  it.each([
    ['an error with any other message', new Error('The JWKS could not be fetched')],
    ['an error whose message merely contains Unauthorized', new Error('Unauthorized!')],
    ['an unexpected TypeError', new TypeError("Cannot read properties of undefined (reading 'x')")],
  ])('answers 503 authorizer_unavailable when the authorizer throws %s', async (_name, thrown) => {
    authorizer.mockRejectedValue(thrown);
    expectAuthorizerUnavailable(await call());
  });

  it('does not cache a failure: the next request asks the authorizer again', async () => {
    authorizer.mockRejectedValueOnce(new Error('JWKS unreachable')).mockResolvedValue(allow);
    expectAuthorizerUnavailable(await call());
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(200);
    // The policy is cached; the failure was not.
    expect(authorizer).toHaveBeenCalledTimes(2);
  });
});

describe('the local gateway when an issuer JWKS cannot be fetched', () => {
  /** An issuer whose JWKS this test serves, breaks and mends. */
  const FLAKY_ISSUER = 'https://flaky-idp.example';
  /** An issuer whose JWKS is at a port nothing listens on. */
  const DOWN_ISSUER = 'https://down-idp.example';
  /** Their tokens name no audience: what is tested here is their signing keys. */
  const NO_AUDIENCE = { reason: 'Test issuers whose JWKS fail; their tokens carry no aud.' };

  let rig: Rig;
  let jwks: Origin;
  let issuerKey: IssuerKey;
  let access: AccessConfig;

  /** The shipped development configuration plus a partner at each of the two issuers. */
  const withOutageIssuers = (flakyJwksUri: string, downJwksUri: string): AccessConfig => {
    const dev = devAccessConfig();
    const acme = dev.partners.find((p) => p.id === 'acme');
    if (acme === undefined) throw new Error('the development configuration has no acme');
    return parseAccessConfig({
      ...dev,
      issuers: [
        ...dev.issuers,
        { issuer: FLAKY_ISSUER, jwksUri: flakyJwksUri, audienceWaiver: NO_AUDIENCE },
        { issuer: DOWN_ISSUER, jwksUri: downJwksUri, audienceWaiver: NO_AUDIENCE },
      ],
      partners: [
        ...dev.partners,
        { ...acme, id: 'flaky', identity: { issuer: FLAKY_ISSUER, clientId: 'flaky-client' } },
        { ...acme, id: 'down', identity: { issuer: DOWN_ISSUER, clientId: 'down-client' } },
      ],
    });
  };

  beforeAll(async () => {
    issuerKey = await loadOrCreateIssuerKey(
      join(tmpdir(), `ioto-bff-idp-${randomBytes(6).toString('hex')}.json`),
    );
    jwks = await startOrigin();
    access = withOutageIssuers(
      `${jwks.url}/jwks.json`,
      `http://127.0.0.1:${await closedPort()}/jwks.json`,
    );
    rig = await startRig(access, 'acme');
  });

  afterAll(async () => {
    await rig?.close();
    await jwks?.close();
  });

  const tokenOf = (issuer: string, clientId: string, overrides: Record<string, unknown> = {}) =>
    signJwt(
      issuerKey,
      globexClaims({ iss: issuer, sub: clientId, client_id: clientId, ...overrides }),
    );

  /** Every token this suite sent: none may reach the log. */
  const sent: string[] = [];
  const callWith = (token: string) => {
    sent.push(token);
    return rig.send(rig.gateway.url, '/v1/device/find', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{}',
    });
  };

  it('answers 503 authorizer_unavailable with retry-after, not 401, when nothing listens', async () => {
    const token = tokenOf(DOWN_ISSUER, 'down-client');
    expectAuthorizerUnavailable(await callWith(token));
    expect(rig.output.records()).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'authorization failed',
        reason: 'JWKS unreachable',
      }),
    );
  });

  it('answers 503 while the JWKS answers 500, and serves the same token once it is back', async () => {
    const token = tokenOf(FLAKY_ISSUER, 'flaky-client');
    jwks.respond((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('Internal Server Error');
    });
    expectAuthorizerUnavailable(await callWith(token));
    expectAuthorizerUnavailable(await callWith(token));

    jwks.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwksOf(issuerKey)));
    });
    const result = await callWith(token);
    expect(result.status).toBe(200);
    expect(result.body).toHaveProperty('data');
  });

  it('still answers 401 for a bad token of an issuer whose JWKS is reachable', async () => {
    jwks.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwksOf(issuerKey)));
    });
    const expired = tokenOf(FLAKY_ISSUER, 'flaky-client', {
      iat: nowSeconds() - 7200,
      exp: nowSeconds() - 3600,
    });
    const result = await callWith(expired);
    expect(result.status).toBe(401);
    expect(result.body).toMatchObject({ code: 'unauthorized' });
  });

  it('still answers 401 for a token of the local issuer signed with another key', async () => {
    const forged = mintPartnerToken(issuerKey, access, 'acme');
    const result = await callWith(forged);
    expect(result.status).toBe(401);
  });

  it('never writes a token it was sent to the log', () => {
    const text = rig.output.text();
    expect(sent.length).toBeGreaterThan(4);
    for (const token of sent) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.split('.')[2]);
    }
  });
});
