import type { Server } from 'node:http';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { FetchError, NonRetryableFetchError } from 'aws-jwt-verify/error';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { APIGatewayProxyResult } from 'aws-lambda';
import {
  createApiGatewayEmulator,
  listenOnLoopback,
} from '../../dev/local-gateway/api-gateway-emulator';
import { type IssuerKey, mintPartnerToken, RotatingIssuerKeys } from '../../dev/local-issuer';
import { createAuthorizerHandler } from '../../lambda/auth/create-authorizer-handler';
import { authorizerContextOf } from '../../lambda/auth/token-authorizer';
import { type AccessConfig, parseAccessConfig } from '../../lambda/config/access';
import { staticAccess } from '../../lambda/config/access-source';
import { devAccessConfig } from '../support/access-fixtures';
import { captureOutput } from '../support/capture-output';
import { type Origin, startOrigin } from '../support/origin-server';

/**
 * An issuer rotates its signing key and withdraws the old one (say, compromised): the real
 * authorizer chain behind the API Gateway emulator (no authorization cache, so every request is
 * decided afresh), reading the issuer's JWKS over HTTP on loopback, on a clock the test moves.
 */

const REFRESH_SECONDS = 60;

/** aws-jwt-verify fetches over https only: the same errors, over plain http on loopback. */
const loopbackFetcher = {
  fetch: async (uri: string): Promise<ArrayBuffer> => {
    let response: Response;
    try {
      response = await fetch(uri, { signal: AbortSignal.timeout(3_000) });
    } catch (error) {
      throw new FetchError(uri, (error as Error).message);
    }
    if (response.status !== 200) {
      throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
    }
    return response.arrayBuffer();
  },
};

const ok: APIGatewayProxyResult = {
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: '{"data":null}',
};

let issuer: Origin;
let output: ReturnType<typeof captureOutput>;

beforeAll(async () => {
  output = captureOutput();
  issuer = await startOrigin();
});

afterAll(async () => {
  await issuer.close();
  output.restore();
});

/** A gateway whose authorizer reads the JWKS `keys` publishes every 60 s of `clock`. */
async function gatewayOver(keys: RotatingIssuerKeys) {
  const clock = { now: Date.now() };
  issuer.respond((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(keys.jwks()));
  });
  const dev = devAccessConfig();
  const access: AccessConfig = parseAccessConfig({
    ...dev,
    issuers: dev.issuers.map((i) => ({
      ...i,
      jwksUri: `${issuer.url}/jwks.json`,
      jwksRefreshSeconds: REFRESH_SECONDS,
    })),
  });
  const server: Server = createApiGatewayEmulator({
    proxy: async () => ok,
    authorizer: createAuthorizerHandler({
      context: authorizerContextOf(
        staticAccess(access),
        new SimpleJwksCache({ fetcher: loopbackFetcher }),
        { now: () => clock.now },
      ),
      logger: new Logger(),
      metrics: new Metrics(),
    }),
    authorizerCacheSeconds: 0,
  });
  const url = await listenOnLoopback(server, 0);
  const reads = () => issuer.requests.filter((r) => r.url === '/jwks.json').length;
  const readsBefore = reads();
  return {
    clock,
    access,
    reads: () => reads() - readsBefore,
    tokenOf: (key: IssuerKey) => mintPartnerToken(key, access, 'acme'),
    call: async (token: string) => {
      const response = await fetch(`${url}/v1/device/find`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('an issuer that rotates its signing key', () => {
  it('stops verifying a withdrawn key within jwksRefreshSeconds, while its successor verifies', async () => {
    const keys = new RotatingIssuerKeys();
    const gateway = await gatewayOver(keys);
    try {
      const withdrawn = keys.current;
      expect((await gateway.call(gateway.tokenOf(withdrawn))).status).toBe(200);
      expect(gateway.reads()).toBe(1);

      // The issuer publishes its next key and signs with it: read at once, for its new kid.
      const successor = keys.rotate();
      expect((await gateway.call(gateway.tokenOf(successor))).status).toBe(200);
      expect(gateway.reads()).toBe(2);

      // It withdraws the old key: until the keys read last are REFRESH_SECONDS old, they hold.
      keys.withdraw(withdrawn.kid);
      gateway.clock.now += (REFRESH_SECONDS - 1) * 1000;
      expect((await gateway.call(gateway.tokenOf(withdrawn))).status).toBe(200);
      expect(gateway.reads()).toBe(2);

      // Then the JWKS is read again: a token the withdrawn key signed is refused as such.
      gateway.clock.now += 1000;
      const refused = await gateway.call(gateway.tokenOf(withdrawn));
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ code: 'unauthorized' });
      expect(gateway.reads()).toBe(3);
      expect(output.records()).toContainEqual(
        expect.objectContaining({ message: 'authorization refused', reason: 'unknown key id' }),
      );
      expect((await gateway.call(gateway.tokenOf(successor))).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });

  it('decides with the keys it read for one more period while the issuer is down, then answers 503, never 401', async () => {
    const keys = new RotatingIssuerKeys();
    const gateway = await gatewayOver(keys);
    try {
      const token = gateway.tokenOf(keys.current);
      expect((await gateway.call(token)).status).toBe(200);
      issuer.respond((_req, res) => {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('Service Unavailable');
      });
      gateway.clock.now += REFRESH_SECONDS * 1000;
      expect((await gateway.call(token)).status).toBe(200);
      expect(gateway.reads()).toBe(2);

      gateway.clock.now += REFRESH_SECONDS * 1000;
      const unavailable = await gateway.call(token);
      expect(unavailable.status).toBe(503);
      expect(unavailable.body).toMatchObject({ code: 'authorizer_unavailable' });
      expect(output.records()).toContainEqual(
        expect.objectContaining({ message: 'authorization failed', reason: 'JWKS refused' }),
      );

      issuer.respond((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(keys.jwks()));
      });
      expect((await gateway.call(token)).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });
});
