import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { TokenSource } from './token-provider';

/**
 * Reads the Ioto token secret through Powertools Parameters. `maxAge` matches the provider's
 * own cache; a refresh after an Ioto 401/403 forces a fetch past both caches.
 */
export function secretsManagerTokenSource(
  provider: SecretsProvider,
  secretId: string,
  cacheSeconds: number,
): TokenSource {
  return ({ forceFetch }) => provider.get(secretId, { maxAge: cacheSeconds, forceFetch });
}
