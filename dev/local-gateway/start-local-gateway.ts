import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { FetchError, NonRetryableFetchError } from 'aws-jwt-verify/error';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import {
  type AuthorizerHandler,
  createAuthorizerHandler,
} from '../../lambda/auth/create-authorizer-handler';
import { authorizerContextOf } from '../../lambda/auth/token-authorizer';
import { type AccessConfig, parseAccessConfigJson } from '../../lambda/config/access';
import { staticAccess } from '../../lambda/config/access-source';
import { PageTokenSealer } from '../../lambda/paging/page-token-sealer';
import { createProxyHandler } from '../../lambda/proxy/create-proxy-handler';
import { buildProxyDependencies, proxySettingsOf } from '../../lambda/proxy/proxy-dependencies';
import type { TokenSource } from '../../lambda/upstream/token-provider';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lib/service';
import { IotoSimulator } from '../ioto-simulator';
import {
  DEFAULT_KEY_FILE,
  type IssuerKey,
  jwksOf,
  LOCAL_ISSUER,
  loadOrCreateIssuerKey,
} from '../local-issuer';
import { createApiGatewayEmulator, listenOnLoopback } from './api-gateway-emulator';
import type { LocalGatewayEnv } from './env';
import { InMemoryPersistenceLayer } from './in-memory-persistence';
import { createLocalDocsHandler } from './local-docs';

export interface LocalGatewayOptions {
  readonly env: LocalGatewayEnv;
  /** Replaces the local token source (tests read the token through Secrets Manager code). */
  readonly tokenSource?: TokenSource;
  readonly logger?: Logger;
  /** Replaces the access configuration file named by `ACCESS_CONFIG_FILE`. */
  readonly access?: AccessConfig;
  /** Where the local issuer keeps its signing key (default `.local/local-issuer-key.json`). */
  readonly issuerKeyFile?: string;
  /** API Gateway's authorizer result cache (default 300 s, as the stack). */
  readonly authorizerCacheSeconds?: number;
}

export interface RunningLocalGateway {
  /** Base URL of the gateway, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** The Ioto API the proxy forwards to. */
  readonly iotoEndpoint: string;
  /** The embedded simulator, when no `IOTO_ENDPOINT` was given. */
  readonly simulator: IotoSimulator | undefined;
  /** The access configuration in force. */
  readonly access: AccessConfig;
  /** The local issuer's key (tokens signed with it are accepted). */
  readonly issuerKey: IssuerKey;
  close(): Promise<void>;
}

/**
 * Where the local proxy reads the Ioto token: `IOTO_TOKEN_FILE` is read again on every load, so
 * rewriting the file rotates the token without a restart; else `IOTO_TOKEN`.
 */
function localTokenSource(env: LocalGatewayEnv, simulatorToken: string | undefined): TokenSource {
  const file = env.IOTO_TOKEN_FILE;
  if (file !== undefined) return () => readFile(file, 'utf8');
  const token = env.IOTO_TOKEN ?? simulatorToken;
  if (token === undefined) throw new Error('No Ioto token configured');
  return async () => token;
}

/**
 * aws-jwt-verify fetches JWKS over HTTPS only; the local issuer serves its JWKS over plain HTTP
 * on loopback, so this fetcher also allows that, and nothing else in plain HTTP. It fails with
 * aws-jwt-verify's fetch errors, as its own fetcher does, so the authorizer tells a JWKS outage
 * from a bad token the same way locally as deployed.
 */
const loopbackJwksFetcher = {
  fetch: async (uri: string): Promise<ArrayBuffer> => {
    const url = new URL(uri);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && url.hostname === '127.0.0.1')) {
      throw new NonRetryableFetchError(uri, 'JWKS must be fetched over https, or from loopback');
    }
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
      if (response.status === 200) return await response.arrayBuffer();
    } catch (error) {
      throw new FetchError(uri, (error as Error).message);
    }
    throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
  },
};

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

/**
 * Starts what `npm start` runs: the real authorizer and proxy handlers behind an API Gateway
 * emulator on loopback, with a local OAuth issuer, forwarding to `IOTO_ENDPOINT`, or to an
 * embedded simulator when it is unset.
 */
export async function startLocalGateway(
  options: LocalGatewayOptions,
): Promise<RunningLocalGateway> {
  const { env } = options;
  const access =
    options.access ??
    parseAccessConfigJson(await readFile(env.ACCESS_CONFIG_FILE, 'utf8'), env.ACCESS_CONFIG_FILE);
  const issuerKey = await loadOrCreateIssuerKey(options.issuerKeyFile ?? DEFAULT_KEY_FILE);
  const simulator =
    env.IOTO_ENDPOINT === undefined
      ? await IotoSimulator.start({
          port: env.SIMULATOR_PORT,
          ...(env.IOTO_TOKEN !== undefined && { token: env.IOTO_TOKEN }),
        })
      : undefined;
  const iotoEndpoint = env.IOTO_ENDPOINT ?? new URL(simulator?.endpoint ?? '');
  const logger = options.logger ?? new Logger({ serviceName: SERVICE_NAME });
  // Locally the key is random: page tokens die with the process, as documented. One sealer for
  // the process: the proxy asks for it again every TOKEN_CACHE_SECONDS, and a new random key
  // then would break every open token.
  const sealer = PageTokenSealer.withRandomKey({ ttlSeconds: env.PAGE_TOKEN_TTL_SECONDS });
  const proxy = createProxyHandler({
    ...buildProxyDependencies(proxySettingsOf({ ...env, IOTO_ENDPOINT: iotoEndpoint }), {
      tokenSource: options.tokenSource ?? localTokenSource(env, simulator?.token),
      loadSealer: async () => sealer,
      logger,
      access: staticAccess(access),
      // Locally the idempotency records live in memory, with the DynamoDB semantics.
      idempotencyStore: new InMemoryPersistenceLayer(),
    }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME }),
  });

  // The authorizer needs the gateway's own URL (the local issuer's JWKS lives there), so it is
  // built once the server listens.
  let authorizer: AuthorizerHandler | undefined;
  const server = createApiGatewayEmulator({
    proxy,
    authorizer: (event, context) => {
      if (authorizer === undefined) throw new Error('The authorizer is not ready');
      return authorizer(event, context);
    },
    authorizerCacheSeconds: options.authorizerCacheSeconds ?? 300,
    docs: createLocalDocsHandler(env, access, logger),
    documents: { '/.well-known/jwks.json': () => jwksOf(issuerKey) },
    logger,
  });
  let url: string;
  try {
    url = await listenOnLoopback(server, env.PORT);
  } catch (error) {
    await simulator?.close();
    throw error;
  }
  const localAccess: AccessConfig = {
    ...access,
    issuers: access.issuers.map((issuer) =>
      issuer.issuer === LOCAL_ISSUER && issuer.jwksUri === undefined
        ? { ...issuer, jwksUri: `${url}/.well-known/jwks.json` }
        : issuer,
    ),
  };
  authorizer = createAuthorizerHandler({
    context: authorizerContextOf(
      staticAccess(localAccess),
      new SimpleJwksCache({ fetcher: loopbackJwksFetcher }),
    ),
    logger,
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME }),
  });
  return {
    url,
    iotoEndpoint: iotoEndpoint.href.replace(/\/$/, ''),
    simulator,
    access,
    issuerKey,
    close: async () => {
      await closeServer(server);
      await simulator?.close();
    },
  };
}
