import {
  FetchError,
  JwksNotAvailableInCacheError,
  KidNotFoundInJwksError,
  NonRetryableFetchError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import {
  createIssuerKey,
  type IssuerKey,
  RotatingIssuerKeys,
  signJwt,
} from '../../dev/local-issuer';
import { RefreshingJwksCache } from '../../lambda/auth/refreshing-jwks-cache';

const URI = 'https://issuer.example/.well-known/jwks.json';
const REFRESH_SECONDS = 60;

/** A JWT signed by `key`, decomposed as the verifier hands it to the cache. */
const tokenOf = (key: IssuerKey) => decomposeUnverifiedJwt(signJwt(key, { iss: 'x' }));

/**
 * The cache over an issuer whose JWKS is read from memory (`down` makes every read fail as
 * aws-jwt-verify's fetcher does), on a clock the test moves.
 */
function rig(keys = new RotatingIssuerKeys()) {
  const state = { now: Date.UTC(2026, 10, 26), down: undefined as Error | undefined, reads: 0 };
  const source = {
    getJwks: async (uri: string): Promise<Jwks> => {
      state.reads += 1;
      if (state.down !== undefined) throw state.down;
      if (uri !== URI) throw new NonRetryableFetchError(uri, 'Status code is 404, expected 200');
      return keys.jwks() as unknown as Jwks;
    },
  };
  const cache = new RefreshingJwksCache({
    source,
    refreshSeconds: () => REFRESH_SECONDS,
    now: () => state.now,
  });
  const at = (seconds: number) => {
    state.now += seconds * 1000;
  };
  return { cache, keys, state, at, kidOf: (key: IssuerKey) => cache.getJwk(URI, tokenOf(key)) };
}

describe('RefreshingJwksCache', () => {
  it('reads the JWKS once and serves its keys until it is refreshSeconds old', async () => {
    const { keys, state, at, kidOf } = rig();
    const first = keys.current;
    await expect(kidOf(first)).resolves.toMatchObject({ kid: first.kid });
    at(REFRESH_SECONDS - 1);
    await expect(kidOf(first)).resolves.toMatchObject({ kid: first.kid });
    expect(state.reads).toBe(1);
  });

  it('reads it again once refreshSeconds old, so a withdrawn key is an unknown key id', async () => {
    const { keys, state, at, kidOf } = rig();
    const withdrawn = keys.current;
    await kidOf(withdrawn);
    const next = keys.rotate();
    keys.withdraw(withdrawn.kid);
    // Within the refresh time the keys read before the withdrawal still serve...
    at(REFRESH_SECONDS - 1);
    await expect(kidOf(withdrawn)).resolves.toMatchObject({ kid: withdrawn.kid });
    // ...and at the refresh time they are read again: the withdrawn key is gone.
    at(1);
    await expect(kidOf(withdrawn)).rejects.toBeInstanceOf(KidNotFoundInJwksError);
    expect(state.reads).toBe(2);
    await expect(kidOf(next)).resolves.toMatchObject({ kid: next.kid });
  });

  it('still reads again at once for a key id it has not seen (a new key)', async () => {
    const { keys, state, at, kidOf } = rig();
    await kidOf(keys.current);
    const next = keys.rotate();
    at(1);
    await expect(kidOf(next)).resolves.toMatchObject({ kid: next.kid });
    expect(state.reads).toBe(2);
  });

  it('reads no more for unknown key ids right after a read without one (penalty box)', async () => {
    const { keys, state, kidOf } = rig();
    await kidOf(keys.current);
    await expect(kidOf(createIssuerKey('unknown-1'))).rejects.toBeInstanceOf(
      KidNotFoundInJwksError,
    );
    await expect(kidOf(createIssuerKey('unknown-2'))).rejects.toBeInstanceOf(
      WaitPeriodNotYetEndedJwkError,
    );
    expect(state.reads).toBe(2);
  });

  it('keeps serving its keys for one more refresh period while re-reads fail, asking every 30 s', async () => {
    const { keys, state, at, kidOf } = rig();
    const key = keys.current;
    await kidOf(key);
    state.down = new FetchError(URI, 'connect ECONNREFUSED');
    at(REFRESH_SECONDS);
    await expect(kidOf(key)).resolves.toMatchObject({ kid: key.kid });
    expect(state.reads).toBe(2);
    at(29);
    await expect(kidOf(key)).resolves.toMatchObject({ kid: key.kid });
    expect(state.reads).toBe(2);
    at(1);
    await expect(kidOf(key)).resolves.toMatchObject({ kid: key.kid });
    expect(state.reads).toBe(3);
    // Twice refreshSeconds after the last read that succeeded: the keys are too old to trust.
    at(REFRESH_SECONDS - 30);
    await expect(kidOf(key)).rejects.toBe(state.down);
  });

  it('fails, never refuses, a key id its stale keys lack while the issuer cannot be asked', async () => {
    const { keys, state, at, kidOf } = rig();
    await kidOf(keys.current);
    state.down = new NonRetryableFetchError(URI, 'Status code is 503, expected 200');
    at(REFRESH_SECONDS);
    await expect(kidOf(createIssuerKey('maybe-new'))).rejects.toBe(state.down);
    // Also on the next call, without asking again.
    await expect(kidOf(createIssuerKey('maybe-new'))).rejects.toBe(state.down);
    expect(state.reads).toBe(2);
  });

  it('fails when the issuer cannot be read before any keys are', async () => {
    const { keys, state, kidOf } = rig();
    state.down = new FetchError(URI, 'socket hang up');
    await expect(kidOf(keys.current)).rejects.toBe(state.down);
  });

  it('takes the keys of the first read that succeeds after an outage', async () => {
    const { keys, state, at, kidOf } = rig();
    const old = keys.current;
    await kidOf(old);
    state.down = new FetchError(URI, 'connect ETIMEDOUT');
    at(2 * REFRESH_SECONDS);
    await expect(kidOf(old)).rejects.toBe(state.down);
    state.down = undefined;
    const next = keys.rotate();
    keys.withdraw(old.kid);
    await expect(kidOf(next)).resolves.toMatchObject({ kid: next.kid });
    await expect(kidOf(old)).rejects.toBeInstanceOf(KidNotFoundInJwksError);
  });

  it('serves keys it was given (addJwks) and cached keys synchronously until they are too old', async () => {
    const { cache, keys, state, at } = rig();
    const key = keys.current;
    cache.addJwks(URI, keys.jwks() as unknown as Jwks);
    expect(cache.getCachedJwk(URI, tokenOf(key))).toMatchObject({ kid: key.kid });
    expect(() => cache.getCachedJwk(URI, tokenOf(createIssuerKey('other')))).toThrow(
      KidNotFoundInJwksError,
    );
    expect(() => cache.getCachedJwk('https://other.example/jwks', tokenOf(key))).toThrow(
      JwksNotAvailableInCacheError,
    );
    at(2 * REFRESH_SECONDS);
    expect(() => cache.getCachedJwk(URI, tokenOf(key))).toThrow(JwksNotAvailableInCacheError);
    expect(state.reads).toBe(0);
    await expect(cache.getJwks(URI)).resolves.toEqual(keys.jwks());
    expect(cache.getCachedJwk(URI, tokenOf(key))).toMatchObject({ kid: key.kid });
  });

  it('reads the JWKS of each URI at its own refresh time', async () => {
    const keys = new RotatingIssuerKeys();
    let now = 0;
    const reads: string[] = [];
    const cache = new RefreshingJwksCache({
      source: {
        getJwks: async (uri) => {
          reads.push(uri);
          return keys.jwks() as unknown as Jwks;
        },
      },
      refreshSeconds: (uri) => (uri === URI ? 60 : 600),
      now: () => now,
    });
    const other = 'https://other.example/jwks';
    await cache.getJwk(URI, tokenOf(keys.current));
    await cache.getJwk(other, tokenOf(keys.current));
    now = 60_000;
    await cache.getJwk(URI, tokenOf(keys.current));
    await cache.getJwk(other, tokenOf(keys.current));
    expect(reads).toEqual([URI, other, URI]);
  });
});
