import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { InMemoryPersistenceLayer } from '../../dev/local-gateway/in-memory-persistence';
import { LOCAL_ISSUER } from '../../dev/local-issuer';
import { authorizerContextOf } from '../../lambda/auth/token-authorizer';
import { findOperation } from '../../lambda/catalog/index';
import {
  type AccessConfig,
  AccessConfigError,
  parseAccessConfig,
} from '../../lambda/config/access';
import {
  ACCESS_CONFIG_MAX_AGE_SECONDS,
  type AccessSource,
  appConfigAccess,
} from '../../lambda/config/access-source';
import { buildProxyDependencies } from '../../lambda/proxy/proxy-dependencies';

const configWith = (...ids: string[]): AccessConfig =>
  parseAccessConfig({
    scope: 'api',
    issuers: [{ issuer: LOCAL_ISSUER }],
    partners: ids.map((id) => ({
      id,
      operations: ['device/find'],
      accounts: ['ACC1'],
      identity: { issuer: LOCAL_ISSUER, clientId: `${id}-client` },
    })),
  });

/** A Powertools AppConfigProvider stand-in serving `texts` in turn, as bytes. */
const providerOf = (texts: string[]) => {
  const asked: { name: string; maxAge: number | undefined }[] = [];
  return {
    asked,
    provider: {
      get: async (name: string, options?: { maxAge?: number }) => {
        asked.push({ name, maxAge: options?.maxAge });
        return new TextEncoder().encode(texts[Math.min(asked.length, texts.length) - 1] ?? '');
      },
    },
  };
};

describe('appConfigAccess', () => {
  it('asks for its profile with the cache age and parses each content once', async () => {
    const text = JSON.stringify(configWith('acme'));
    const { provider, asked } = providerOf([
      text,
      text,
      JSON.stringify(configWith('acme', 'globex')),
    ]);
    const access = appConfigAccess(provider as never, 'profile-1');
    const first = await access();
    expect(await access()).toBe(first);
    const changed = await access();
    expect(changed).not.toBe(first);
    expect(changed.partners.map((p) => p.id)).toEqual(['acme', 'globex']);
    expect(asked).toEqual(
      Array.from({ length: 3 }, () => ({
        name: 'profile-1',
        maxAge: ACCESS_CONFIG_MAX_AGE_SECONDS,
      })),
    );
  });

  it('refuses a configuration that does not validate, naming the field', async () => {
    const { provider } = providerOf([JSON.stringify({ scope: 'api', issuers: [], partners: [] })]);
    await expect(appConfigAccess(provider as never, 'p')()).rejects.toThrow(AccessConfigError);
    await expect(appConfigAccess(provider as never, 'p')()).rejects.toThrow(/issuers: /);
  });
});

/** The proxy's dependencies over an access source; nothing here reaches Ioto. */
const proxyOver = (access: AccessSource) =>
  buildProxyDependencies(
    {
      endpoint: new URL('https://ioto.example.com'),
      authScheme: 'raw',
      limits: {
        upstreamTimeoutMs: 1000,
        upstreamMaxResponseBytes: 1024,
        upstreamRetryBaseDelayMs: 0,
        tokenCacheSeconds: 0,
        pageTokenTtlSeconds: 60,
        pageLimitDefault: 1,
        pageLimitMax: 1,
        maxBodyBytes: 1024,
        idempotencyWindowSeconds: 60,
      },
    },
    {
      tokenSource: async () => 'unused',
      loadSealer: async () => {
        throw new Error('unused');
      },
      logger: new Logger({ logLevel: 'SILENT' }),
      access,
      idempotencyStore: new InMemoryPersistenceLayer(),
    },
  );

describe('a changing access configuration', () => {
  /** An access source whose answer the test swaps. */
  const swappable = (initial: AccessConfig) => {
    let current = initial;
    const source: AccessSource = async () => current;
    return { source, swap: (next: AccessConfig) => (current = next) };
  };

  it('gives the authorizer a new verifier and directory only when the configuration changes', async () => {
    const { source, swap } = swappable(configWith('acme'));
    const context = authorizerContextOf(source);
    const first = await context();
    expect(await context()).toBe(first);
    expect(
      first.directory.byToken({ iss: LOCAL_ISSUER, clientId: 'globex-client' }),
    ).toBeUndefined();
    swap(configWith('acme', 'globex'));
    const second = await context();
    expect(second).not.toBe(first);
    expect(second.directory.byToken({ iss: LOCAL_ISSUER, clientId: 'globex-client' })?.id).toBe(
      'globex',
    );
  });

  it('lets the proxy recognise a partner added while it runs, and forget a removed one', async () => {
    const { source, swap } = swappable(configWith('acme'));
    const deps = proxyOver(source);
    const op = findOperation('device', 'find');
    if (op === undefined) throw new Error('device/find');
    const as = (partnerId: string) =>
      ({ requestContext: { authorizer: { partnerId } } }) as unknown as APIGatewayProxyEvent;
    await deps.refreshAccess();
    expect(() => deps.policy.authorize(op, as('globex'))).toThrow(
      expect.objectContaining({ code: 'unauthorized' }),
    );
    swap(configWith('acme', 'globex'));
    await deps.refreshAccess();
    expect(deps.policy.authorize(op, as('globex')).partner.id).toBe('globex');
    swap(configWith('globex'));
    await deps.refreshAccess();
    expect(() => deps.policy.authorize(op, as('acme'))).toThrow(
      expect.objectContaining({ code: 'unauthorized' }),
    );
  });

  it('answers access_config_unavailable when the configuration cannot be read', async () => {
    const deps = proxyOver(async () => {
      throw new Error('AccessDeniedException');
    });
    await expect(deps.refreshAccess()).rejects.toMatchObject({
      code: 'access_config_unavailable',
      status: 503,
    });
  });
});
