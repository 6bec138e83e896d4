import type { Logger } from '@aws-lambda-powertools/logger';
import { PartnerDirectory } from '../auth/partner-directory';
import { ScopedPartnerPolicy } from '../auth/scoped-partner-policy';
import type { AccessConfig } from '../config/access';
import type { AwsProxyEnv } from '../config/env';
import type { PageTokenSealer } from '../paging/page-token-sealer';
import { TokenUnavailableError } from '../problems/problem-error';
import { IotoClient } from '../upstream/ioto-client';
import { CachingTokenProvider, type TokenSource } from '../upstream/token-provider';
import type { ProxyDependencies } from './proxy-core';
import { createRequestValidator } from './validate-request';

/** The settings every deployment shares (the AWS and local env schemas both provide them). */
export type ProxySettings = Omit<
  AwsProxyEnv,
  'IOTO_TOKEN_SECRET_ID' | 'PAGE_TOKEN_SECRET_ID' | 'ACCESS_CONFIG'
>;

export interface ProxyWiring {
  readonly tokenSource: TokenSource;
  /** Loads the page-token sealer; called at most once successfully, lazily. */
  readonly loadSealer: () => Promise<PageTokenSealer>;
  readonly logger: Logger;
  /** Partners, their grants and scopes: the partner policy is built from it. */
  readonly access: AccessConfig;
  readonly fetch?: typeof fetch;
}

/** Builds the proxy's dependencies from settings; the sources of secrets are the caller's. */
export function buildProxyDependencies(
  settings: ProxySettings,
  wiring: ProxyWiring,
): ProxyDependencies {
  const client = new IotoClient({
    endpoint: settings.IOTO_ENDPOINT,
    tokens: new CachingTokenProvider(wiring.tokenSource, {
      cacheSeconds: settings.TOKEN_CACHE_SECONDS,
    }),
    authScheme: settings.IOTO_AUTH_SCHEME,
    deadlineMs: settings.UPSTREAM_TIMEOUT_MS,
    maxResponseBytes: settings.UPSTREAM_MAX_RESPONSE_BYTES,
    retryBaseDelayMs: settings.UPSTREAM_RETRY_BASE_DELAY_MS,
    ...(wiring.fetch && { fetch: wiring.fetch }),
  });
  return {
    client,
    sealer: memoizeSuccess(wiring.loadSealer),
    validate: createRequestValidator({
      defaultLimit: settings.PAGE_LIMIT_DEFAULT,
      maxLimit: settings.PAGE_LIMIT_MAX,
    }),
    policy: new ScopedPartnerPolicy({
      directory: new PartnerDirectory(wiring.access),
      ioto: (call) => client.call(call),
      logger: wiring.logger,
    }),
    maxBodyBytes: settings.MAX_BODY_BYTES,
    logger: wiring.logger,
  };
}

/**
 * Shares one load between concurrent callers and keeps its result; a failed load is forgotten,
 * so the next request tries again, and surfaces as token_unavailable.
 */
function memoizeSuccess<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw new TokenUnavailableError({ cause: error });
    });
    return pending;
  };
}
