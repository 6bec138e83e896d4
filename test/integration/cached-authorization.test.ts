import type { Server } from 'node:http';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { APIGatewayProxyResult } from 'aws-lambda';
import {
  createApiGatewayEmulator,
  listenOnLoopback,
} from '../../dev/local-gateway/api-gateway-emulator';
import { createIssuerKey, jwksOf, LOCAL_ISSUER, mintPartnerToken } from '../../dev/local-issuer';
import {
  type AuthorizerHandler,
  createAuthorizerHandler,
} from '../../lambda/auth/create-authorizer-handler';
import { PartnerDirectory } from '../../lambda/auth/partner-directory';
import { ScopedPartnerPolicy } from '../../lambda/auth/scoped-partner-policy';
import { authorizerContextOf } from '../../lambda/auth/token-authorizer';
import { findOperation } from '../../lambda/catalog/index';
import { type AccessConfig, parseAccessConfig } from '../../lambda/config/access';
import { ProblemError } from '../../lambda/problems/problem-error';
import { captureOutput } from '../support/capture-output';

/**
 * API Gateway keeps an authorizer's Allow per token for `authorizerCacheSeconds` and hands its
 * context to the proxy without asking the authorizer again. Here the emulator caches as API
 * Gateway does, the real authorizer and the proxy's real partner policy read one access
 * configuration, and the operator changes it while Allows are cached.
 */

const key = createIssuerKey();
const JWKS_URI = 'https://issuer.example/jwks.json';
const op = findOperation('device', 'find');
if (op === undefined) throw new Error('device/find');

const configOf = (...partners: { id: string; clientId: string }[]): AccessConfig =>
  parseAccessConfig({
    scope: 'ioto-bff/partner-api',
    issuers: [{ issuer: LOCAL_ISSUER, jwksUri: JWKS_URI }],
    partners: partners.map(({ id, clientId }) => ({
      id,
      operations: ['device/find'],
      accounts: ['ACC1'],
      identity: { issuer: LOCAL_ISSUER, clientId },
    })),
  });

let output: ReturnType<typeof captureOutput>;
let server: Server;
let url: string;
/** The access configuration both functions read (AppConfig's, in a deployment). */
let current: AccessConfig;
let authorizations = 0;

beforeAll(async () => {
  output = captureOutput();
  const logger = new Logger({ logLevel: 'SILENT' });
  const jwks = new TextEncoder().encode(JSON.stringify(jwksOf(key))).buffer as ArrayBuffer;
  const authorizer = createAuthorizerHandler({
    context: authorizerContextOf(
      async () => current,
      new SimpleJwksCache({ fetcher: { fetch: async () => jwks } }),
    ),
    logger,
    metrics: new Metrics(),
  });
  const counted: AuthorizerHandler = (event, context) => {
    authorizations += 1;
    return authorizer(event, context);
  };
  /** The proxy as far as its partner policy: who is calling, under the current configuration. */
  const proxy = async (event: Parameters<ScopedPartnerPolicy['authorize']>[1]) => {
    const policy = new ScopedPartnerPolicy({
      directory: new PartnerDirectory(current),
      ioto: async () => undefined,
      logger,
    });
    try {
      const { partner } = policy.authorize(op, event);
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: { partner: partner.id } }),
      } satisfies APIGatewayProxyResult;
    } catch (error) {
      const status = error instanceof ProblemError ? error.status : 500;
      const code = error instanceof ProblemError ? error.code : 'internal';
      return { statusCode: status, body: JSON.stringify({ code }) };
    }
  };
  server = createApiGatewayEmulator({ proxy, authorizer: counted, authorizerCacheSeconds: 300 });
  url = await listenOnLoopback(server, 0);
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  output.restore();
});

const call = async (token: string) => {
  const response = await fetch(`${url}/v1/device/find`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{}',
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('an authorization API Gateway has cached', () => {
  it("stops working once the partner's client id is swapped or its id given to someone else", async () => {
    current = configOf(
      { id: 'acme', clientId: 'acme-client' },
      { id: 'globex', clientId: 'globex-client' },
    );
    const acmeToken = mintPartnerToken(key, current, 'acme');
    const globexToken = mintPartnerToken(key, current, 'globex');
    expect(await call(acmeToken)).toEqual({ status: 200, body: { data: { partner: 'acme' } } });
    expect((await call(globexToken)).status).toBe(200);
    expect(authorizations).toBe(2);

    // acme's client credentials leak: the operator gives it a new client, under the same id.
    current = configOf(
      { id: 'acme', clientId: 'acme-client-rotated' },
      { id: 'globex', clientId: 'globex-client' },
    );
    const refused = await call(acmeToken);
    expect(refused).toEqual({
      status: 401,
      body: expect.objectContaining({ code: 'unauthorized' }),
    });
    // API Gateway answered from its cache: only the proxy could tell.
    expect(authorizations).toBe(2);
    // globex's cached Allow is untouched by a change to another partner.
    expect((await call(globexToken)).status).toBe(200);
    const rotatedToken = mintPartnerToken(key, current, 'acme');
    expect((await call(rotatedToken)).status).toBe(200);
    expect(authorizations).toBe(3);

    // acme leaves, and its id goes to a newcomer: acme's cached Allow does not pass for it.
    current = configOf(
      { id: 'globex', clientId: 'globex-client' },
      { id: 'acme', clientId: 'newcomer-client' },
    );
    expect((await call(rotatedToken)).status).toBe(401);
    expect((await call(mintPartnerToken(key, current, 'acme'))).status).toBe(200);
  });
});
