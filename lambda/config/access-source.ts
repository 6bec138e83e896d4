import type { AppConfigProvider } from '@aws-lambda-powertools/parameters/appconfig';
import { type AccessConfig, parseAccessConfigJson } from './access';

/**
 * Where a function reads the access configuration. It may change while a function runs (a
 * partner added in AppConfig): callers ask again per request and get a cached answer.
 */
export type AccessSource = () => Promise<AccessConfig>;

/** An access configuration that never changes (the local gateway's file, tests). */
export const staticAccess =
  (config: AccessConfig): AccessSource =>
  async () =>
    config;

/**
 * How long a function keeps the access configuration before asking AppConfig again: a change
 * of partners reaches every warm function within this time (plus API Gateway's authorizer
 * cache for tokens already seen).
 */
export const ACCESS_CONFIG_MAX_AGE_SECONDS = 60;

/** Where the deployed functions find the configuration (the stack sets these variables). */
export interface AppConfigLocation {
  readonly ACCESS_CONFIG_APPLICATION: string;
  readonly ACCESS_CONFIG_ENVIRONMENT: string;
  readonly ACCESS_CONFIG_PROFILE: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The access configuration deployed to AWS AppConfig, read through Powertools Parameters
 * (which keeps the configuration session and caches for {@link ACCESS_CONFIG_MAX_AGE_SECONDS}).
 * The same text is parsed once: the same object comes back until the content changes. A
 * configuration that does not validate throws an AccessConfigError naming the field.
 */
export function appConfigAccess(
  provider: Pick<AppConfigProvider, 'get'>,
  profile: string,
  maxAgeSeconds = ACCESS_CONFIG_MAX_AGE_SECONDS,
): AccessSource {
  let last: { readonly text: string; readonly config: AccessConfig } | undefined;
  return async () => {
    const value = await provider.get(profile, { maxAge: maxAgeSeconds });
    const text = typeof value === 'string' ? value : utf8.decode(value as Uint8Array);
    if (last?.text === text) return last.config;
    const config = parseAccessConfigJson(text, 'the access configuration in AppConfig');
    last = { text, config };
    return config;
  };
}
