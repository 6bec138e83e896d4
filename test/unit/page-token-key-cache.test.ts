import { Logger } from '@aws-lambda-powertools/logger';
import { InMemoryPersistenceLayer } from '../../dev/local-gateway/in-memory-persistence';
import { PROXY_LIMITS, type ProxyLimits } from '../../lambda/config/settings';
import { PageTokenSealer } from '../../lambda/paging/page-token-sealer';
import { PageTokenUnavailableError } from '../../lambda/problems/problem-error';
import { buildProxyDependencies } from '../../lambda/proxy/proxy-dependencies';

/**
 * How long the proxy keeps its page-token sealer: `tokenCacheSeconds` from the start of the
 * load that produced it, then it loads the key secret again (a rotation reaches a warm
 * instance), one load shared by concurrent requests, a failure never kept.
 */
const CACHE_SECONDS = 300;
const DEFAULTS = Object.fromEntries(
  Object.entries(PROXY_LIMITS).map(([name, spec]) => [name, spec.default]),
) as unknown as ProxyLimits;

/** The proxy's `sealer` over a scripted load and a clock the test moves. */
function sealerOver(load: () => Promise<PageTokenSealer>) {
  const clock = { now: 1_800_000_000_000 };
  const deps = buildProxyDependencies(
    {
      endpoint: new URL('https://ioto.example.com'),
      authScheme: 'raw',
      limits: { ...DEFAULTS, tokenCacheSeconds: CACHE_SECONDS },
    },
    {
      tokenSource: async () => 'unused',
      loadSealer: load,
      sealerClock: () => clock.now,
      logger: new Logger({ logLevel: 'SILENT' }),
      access: async () => {
        throw new Error('unused');
      },
      idempotencyStore: new InMemoryPersistenceLayer(),
    },
  );
  return { sealer: deps.sealer, age: (seconds: number) => (clock.now += seconds * 1000) };
}

const aSealer = () => PageTokenSealer.withRandomKey({ ttlSeconds: 60 });

describe("the proxy's page-token sealer", () => {
  it('is loaded once for concurrent first requests and kept for TOKEN_CACHE_SECONDS', async () => {
    const load = jest.fn(async () => aSealer());
    const { sealer, age } = sealerOver(load);
    const [first, second] = await Promise.all([sealer(), sealer()]);
    expect(second).toBe(first);
    age(CACHE_SECONDS - 1);
    expect(await sealer()).toBe(first);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('is loaded again once it is TOKEN_CACHE_SECONDS old, from when its load began', async () => {
    const loaded: PageTokenSealer[] = [];
    const { sealer, age } = sealerOver(async () => {
      const made = aSealer();
      loaded.push(made);
      return made;
    });
    await sealer();
    age(CACHE_SECONDS);
    expect(await sealer()).toBe(loaded[1]);
    expect(loaded).toHaveLength(2);
  });

  it('answers page_token_unavailable for a failed load, keeps nothing, and tries again next time', async () => {
    const replacement = aSealer();
    const load = jest
      .fn<Promise<PageTokenSealer>, []>()
      .mockResolvedValueOnce(aSealer())
      .mockRejectedValueOnce(new Error('ThrottlingException'))
      .mockResolvedValueOnce(replacement);
    const { sealer, age } = sealerOver(load);
    await sealer();
    age(CACHE_SECONDS);
    // The outdated sealer is not used while its successor cannot be read.
    await expect(sealer()).rejects.toBeInstanceOf(PageTokenUnavailableError);
    expect(await sealer()).toBe(replacement);
    expect(load).toHaveBeenCalledTimes(3);
  });
});
