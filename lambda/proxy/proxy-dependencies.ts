import type { Logger } from '@aws-lambda-powertools/logger';
import type { AwsProxyEnv } from '../config/env';
import type { PageTokenSealer } from '../paging/page-token-sealer';
import { TokenUnavailableError } from '../problems/problem-error';
import { IotoClient } from '../upstream/ioto-client';
import { CachingTokenProvider, type TokenSource } from '../upstream/token-provider';
import { type PartnerPolicy, unrestrictedPolicy } from './partner-policy';
import type { ProxyDependencies } from './proxy-core';
import { createRequestValidator } from './validate-request';

/** The settings every deployment shares (the AWS and local env schemas both provide them). */
export type ProxySettings = Omit<AwsProxyEnv, 'IOTO_TOKEN_SECRET_ID' | 'PAGE_TOKEN_SECRET_ID'>;

export interface ProxyWiring {
  readonly tokenSource: TokenSource;
  /** Loads the page-token sealer; called at most once successfully, lazily. */
  readonly loadSealer: () => Promise<PageTokenSealer>;
  readonly logger: Logger;
  readonly policy?: PartnerPolicy;
  readonly fetch?: typeof fetch;
}

/** Builds the proxy's dependencies from settings; the sources of secrets are the caller's. */
export function buildProxyDependencies(
  settings: ProxySettings,
  wiring: ProxyWiring,
): ProxyDependencies {
  return {
    client: new IotoClient({
      endpoint: settings.IOTO_ENDPOINT,
      tokens: new CachingTokenProvider(wiring.tokenSource, {
        cacheSeconds: settings.TOKEN_CACHE_SECONDS,
      }),
      authScheme: settings.IOTO_AUTH_SCHEME,
      deadlineMs: settings.UPSTREAM_TIMEOUT_MS,
      maxResponseBytes: settings.UPSTREAM_MAX_RESPONSE_BYTES,
      retryBaseDelayMs: settings.UPSTREAM_RETRY_BASE_DELAY_MS,
      ...(wiring.fetch && { fetch: wiring.fetch }),
    }),
    sealer: memoizeSuccess(wiring.loadSealer),
    validate: createRequestValidator({
      defaultLimit: settings.PAGE_LIMIT_DEFAULT,
      maxLimit: settings.PAGE_LIMIT_MAX,
    }),
    policy: wiring.policy ?? unrestrictedPolicy,
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
