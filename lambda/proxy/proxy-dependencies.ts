import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import { PartnerDirectory } from '../auth/partner-directory';
import { ScopedPartnerPolicy } from '../auth/scoped-partner-policy';
import type { AccessSource } from '../config/access-source';
import { fromEnvironment, type ProxyLimits, type ProxyLimitVariables } from '../config/settings';
import type { IdempotentWrites, IdempotentWritesOptions } from '../idempotency/idempotent-writes';
import type { PageTokenSealer } from '../paging/page-token-sealer';
import {
  AccessConfigUnavailableError,
  IdempotencyUnavailableError,
  PageTokenUnavailableError,
  ProblemError,
} from '../problems/problem-error';
import type { Transport } from '../upstream/http-transport';
import { type AuthScheme, IotoClient } from '../upstream/ioto-client';
import { CachingTokenProvider, type TokenSource } from '../upstream/token-provider';
import { readCatalogReply } from './normalize-response';
import type { ProxyDependencies } from './proxy-core';
import { createRequestValidator } from './validate-request';

/** The settings every deployment shares: where Ioto is, how to send its token, the limits. */
export interface ProxySettings {
  readonly endpoint: URL;
  readonly authScheme: AuthScheme;
  /** The `Origin` header for Ioto, when the cloud wants one. */
  readonly origin?: string | undefined;
  readonly limits: ProxyLimits;
}

/** The proxy settings of a parsed environment (the deployed and the local one alike). */
export function proxySettingsOf(
  env: {
    readonly IOTO_ENDPOINT: URL;
    readonly IOTO_AUTH_SCHEME: AuthScheme;
    readonly IOTO_ORIGIN?: string | undefined;
  } & ProxyLimitVariables,
): ProxySettings {
  return {
    endpoint: env.IOTO_ENDPOINT,
    authScheme: env.IOTO_AUTH_SCHEME,
    ...(env.IOTO_ORIGIN !== undefined && { origin: env.IOTO_ORIGIN }),
    limits: fromEnvironment(env),
  };
}

export interface ProxyWiring {
  readonly tokenSource: TokenSource;
  /**
   * Loads the page-token sealer from its key secret: on the first paged request, then again
   * once the loaded one is `tokenCacheSeconds` old, so each step of a rotation (a key staged as
   * AWSPENDING, promoted to AWSCURRENT, its predecessor dropped from AWSPREVIOUS) reaches a warm
   * instance within that time, without a redeploy. Each call must read every version stage
   * afresh (`loadPageTokenSealer` in lambda/paging/page-token-key-source.ts).
   */
  readonly loadSealer: () => Promise<PageTokenSealer>;
  /**
   * The clock that ages the loaded page-token sealer, for tests.
   *
   * @default Date.now
   */
  readonly sealerClock?: () => number;
  readonly logger: Logger;
  /** Partners, their grants and scopes, asked again on every request (it is cached). */
  readonly access: AccessSource;
  /** @default Node's HTTP client */
  readonly transport?: Transport;
  /**
   * Where idempotency records live: DynamoDB when deployed (loaded on the first write that
   * needs it), memory locally.
   */
  readonly idempotencyStore: BasePersistenceLayer | (() => Promise<BasePersistenceLayer>);
}

/** Builds the proxy's dependencies from settings; the sources of secrets are the caller's. */
export function buildProxyDependencies(
  settings: ProxySettings,
  wiring: ProxyWiring,
): ProxyDependencies {
  const { limits } = settings;
  const client = new IotoClient({
    endpoint: settings.endpoint,
    tokens: new CachingTokenProvider(wiring.tokenSource, {
      cacheSeconds: limits.tokenCacheSeconds,
    }),
    authScheme: settings.authScheme,
    deadlineMs: limits.upstreamTimeoutMs,
    maxResponseBytes: limits.upstreamMaxResponseBytes,
    retryBaseDelayMs: limits.upstreamRetryBaseDelayMs,
    ...(settings.origin !== undefined && { origin: settings.origin }),
    ...(wiring.transport && { transport: wiring.transport }),
  });
  // The directory holds the partners of the latest access configuration; every request
  // refreshes it first (a cached read, see AccessSource).
  let directory: PartnerDirectory | undefined;
  const refreshAccess = async (): Promise<PartnerDirectory> => {
    let access: Awaited<ReturnType<AccessSource>>;
    try {
      access = await wiring.access();
    } catch (error) {
      if (error instanceof ProblemError) throw error;
      throw new AccessConfigUnavailableError({ cause: error });
    }
    if (directory === undefined) directory = new PartnerDirectory(access);
    else directory.reload(access);
    return directory;
  };
  return {
    client,
    sealer: cacheSealer(wiring.loadSealer, {
      maxAgeMs: limits.tokenCacheSeconds * 1000,
      now: wiring.sealerClock ?? Date.now,
    }),
    validate: createRequestValidator({
      defaultLimit: limits.pageLimitDefault,
      maxLimit: limits.pageLimitMax,
    }),
    refreshAccess: async () => {
      await refreshAccess();
    },
    policy: new ScopedPartnerPolicy({
      directory: {
        byId: (id) => {
          if (directory === undefined) throw new Error('The access configuration is not loaded');
          return directory.byId(id);
        },
      },
      // Read as every partner call is: the one reader of Ioto replies.
      ioto: async (call) => readCatalogReply(call, await client.call(call)).data,
      logger: wiring.logger,
    }),
    idempotentWrites: loadIdempotentWritesOnce({
      persistence: wiring.idempotencyStore,
      windowSeconds: limits.idempotencyWindowSeconds,
      logger: wiring.logger,
    }),
    maxBodyBytes: limits.maxBodyBytes,
    upstreamDeadlineMs: limits.upstreamTimeoutMs,
    logger: wiring.logger,
  };
}

/**
 * Idempotent writes, with Powertools Idempotency (and the JMESPath engine it brings) and the
 * store (the DynamoDB client, when deployed) loaded on the first write that carries an
 * Idempotency-Key: reads and writes without one, most calls, never evaluate that code, and no
 * cold start pays for it (`npm run bench`). The bundle keeps it; esbuild defers a module
 * reached only through `import()` until it is imported. One load, shared; a failed one is
 * forgotten and answered as the store's failure, 503 `idempotency_unavailable`.
 */
function loadIdempotentWritesOnce(
  options: Omit<IdempotentWritesOptions, 'persistence'> & {
    readonly persistence: ProxyWiring['idempotencyStore'];
  },
): IdempotentWrites {
  let loaded: Promise<IdempotentWrites> | undefined;
  return async (write, forward) => {
    const { persistence } = options;
    loaded ??= Promise.all([
      import('../idempotency/idempotent-writes'),
      typeof persistence === 'function' ? persistence() : persistence,
    ]).then(
      ([{ createIdempotentWrites }, store]) =>
        createIdempotentWrites({ ...options, persistence: store }),
      (error: unknown) => {
        loaded = undefined;
        throw new IdempotencyUnavailableError({ cause: error });
      },
    );
    return (await loaded)(write, forward);
  };
}

/**
 * Keeps the loaded page-token sealer for `maxAgeMs` (from when its load began), then loads it
 * again: the key secret's version stages may have moved (a rotation step), and a warm instance
 * must learn it as the Ioto token's cache does (`TOKEN_CACHE_SECONDS`); the operator's
 * procedure waits that long between its steps. Concurrent callers share one load. A failed load
 * is not kept and an outdated sealer is not used meanwhile: the request surfaces
 * page_token_unavailable and the next one tries again (the Ioto token, which every request
 * needs, behaves the same when Secrets Manager fails).
 */
function cacheSealer<T>(
  load: () => Promise<T>,
  options: { readonly maxAgeMs: number; readonly now: () => number },
): () => Promise<T> {
  let loaded: { readonly value: T; readonly at: number } | undefined;
  let pending: Promise<T> | undefined;
  return () => {
    if (loaded !== undefined && options.now() - loaded.at < options.maxAgeMs) {
      return Promise.resolve(loaded.value);
    }
    if (pending === undefined) {
      const at = options.now();
      pending = load().then(
        (value) => {
          loaded = { value, at };
          pending = undefined;
          return value;
        },
        (error: unknown) => {
          pending = undefined;
          throw new PageTokenUnavailableError({ cause: error });
        },
      );
    }
    return pending;
  };
}
