import { TokenUnavailableError } from '../../lambda/problems/problem-error';
import { CachingTokenProvider, parseTokenSecret } from '../../lambda/upstream/token-provider';

describe('parseTokenSecret', () => {
  it.each([
    ['a raw token', 'tok-123', 'tok-123'],
    ['a raw token with a trailing newline', 'tok-123\n', 'tok-123'],
    ['a JSON secret', '{"token":"tok-456"}', 'tok-456'],
    ['binary secret text', new TextEncoder().encode('tok-789'), 'tok-789'],
  ])('reads %s', (_name, value, expected) => {
    expect(parseTokenSecret(value)).toBe(expected);
  });

  it.each([
    ['an empty secret', ''],
    ['JSON without a token', '{"value":"CANARY"}'],
    ['JSON that does not parse', '{"token":"CANARY'],
    ['a token with a newline inside', 'CAN\nARY'],
    ['a number', 42],
  ])('refuses %s without echoing it', (_name, value) => {
    let thrown: unknown;
    try {
      parseTokenSecret(value);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).not.toMatch(/CAN/);
  });
});

describe('CachingTokenProvider', () => {
  const deferred = () => {
    let resolve: (value: string) => void = () => undefined;
    const promise = new Promise<string>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  };

  it('loads once and serves the cache until it expires', async () => {
    let now = 0;
    const source = jest.fn(async () => 'tok-1');
    const provider = new CachingTokenProvider(source, { cacheSeconds: 300, now: () => now });
    await expect(provider.getToken()).resolves.toBe('tok-1');
    await provider.getToken();
    expect(source).toHaveBeenCalledTimes(1);
    now += 300_001;
    await provider.getToken();
    expect(source).toHaveBeenCalledTimes(2);
    expect(source).toHaveBeenLastCalledWith({ forceFetch: false });
  });

  it('shares one forced refresh between concurrent callers', async () => {
    const values = ['tok-old', 'tok-new'];
    const gate = deferred();
    const source = jest.fn(async ({ forceFetch }: { forceFetch: boolean }) =>
      forceFetch ? gate.promise : (values[0] as string),
    );
    const provider = new CachingTokenProvider(source, { cacheSeconds: 300 });
    await provider.getToken();
    const refreshes = [1, 2, 3].map(() => provider.refreshToken('tok-old'));
    gate.resolve('tok-new');
    await expect(Promise.all(refreshes)).resolves.toEqual(['tok-new', 'tok-new', 'tok-new']);
    expect(source).toHaveBeenCalledTimes(2);
    expect(source).toHaveBeenLastCalledWith({ forceFetch: true });
  });

  it('returns the already refreshed token to a caller that saw the old one fail', async () => {
    let next = 'tok-2';
    const source = jest.fn(async () => next);
    const provider = new CachingTokenProvider(source, { cacheSeconds: 300 });
    await provider.refreshToken('tok-1');
    next = 'tok-3';
    await expect(provider.refreshToken('tok-1')).resolves.toBe('tok-2');
    expect(source).toHaveBeenCalledTimes(1);
  });

  it('reports token_unavailable when the source fails, and tries again next time', async () => {
    const source = jest
      .fn<Promise<string>, [{ forceFetch: boolean }]>()
      .mockRejectedValueOnce(new Error('AccessDeniedException'))
      .mockResolvedValueOnce('tok-1');
    const provider = new CachingTokenProvider(source, { cacheSeconds: 300 });
    await expect(provider.getToken()).rejects.toBeInstanceOf(TokenUnavailableError);
    await expect(provider.getToken()).resolves.toBe('tok-1');
  });

  it('reports token_unavailable for an empty secret', async () => {
    const provider = new CachingTokenProvider(async () => '  ', { cacheSeconds: 300 });
    await expect(provider.getToken()).rejects.toMatchObject({ code: 'token_unavailable' });
  });
});
