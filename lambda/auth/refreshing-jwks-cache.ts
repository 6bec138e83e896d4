import {
  JwksNotAvailableInCacheError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';
import {
  findJwkInJwks,
  type Jwks,
  type JwksCache,
  type JwkWithKid,
  type PenaltyBox,
  SimpleJwksCache,
  SimplePenaltyBox,
} from 'aws-jwt-verify/jwk';
import type { DecomposedJwt } from 'aws-jwt-verify/jwt';
import { JWKS_REFRESH_SECONDS } from '../config/access';

/**
 * After a failed re-read, how long the cached keys are used before the issuer is asked again,
 * so that an unreachable issuer delays one request per warm authorizer every 30 s by the
 * fetch's time-out (aws-jwt-verify: about 3 s, retried once), not every request.
 */
const RETRY_AFTER_FAILURE_MS = 30_000;

export interface RefreshingJwksCacheOptions {
  /**
   * Fetches and parses a JWKS: aws-jwt-verify's `SimpleJwksCache` (`getJwks`: one fetch per URI
   * at a time, parsed and validated), with its fetcher. Only `getJwks` is used.
   */
  readonly source?: Pick<JwksCache, 'getJwks'>;
  /** Seconds after which the JWKS at a URI is read again (default 300). */
  readonly refreshSeconds?: (jwksUri: string) => number;
  /** Limits re-reads for key ids the issuer does not publish (aws-jwt-verify's, 10 s). */
  readonly penaltyBox?: PenaltyBox;
  /** The clock, in milliseconds (tests move it). */
  readonly now?: () => number;
}

interface Entry {
  readonly jwks: Jwks;
  /** From then on the JWKS is read again before it is used. */
  readonly refreshAt: number;
  /** Until then the keys serve while re-reads fail; after it they are never used. */
  readonly usableUntil: number;
  /** After a failed re-read: until then the keys serve without asking the issuer again. */
  retryAt: number;
  /** What the last re-read failed with. */
  failure?: unknown;
}

/**
 * aws-jwt-verify's `JwksCache` with an expiry: its `SimpleJwksCache` reads an issuer's JWKS
 * again only for a key id it has not seen, so a key the issuer withdraws (its successor already
 * published) would verify in a warm authorizer until Lambda recycles it. This cache reads the
 * JWKS again once it is `refreshSeconds` old, and still on an unknown key id (limited by the
 * penalty box, as aws-jwt-verify does), so a withdrawn key stops verifying within
 * `refreshSeconds` of its withdrawal.
 *
 * When a re-read fails (the issuer unreachable, refusing, or answering something that is no
 * JWKS), the keys read last keep serving for one more `refreshSeconds` (the issuer is asked again
 * every 30 s meanwhile); after that the cache fails, which the authorizer answers with 503
 * (decision 0021). Failing at once would turn every short outage of the issuer's JWKS endpoint
 * into a 503 for every partner at every refresh, while keys this fresh are what the issuer
 * published minutes ago; serving them longer would let a withdrawn key live as long as
 * someone keeps the issuer unreachable from the authorizer. So a withdrawn key stops
 * verifying within `refreshSeconds` while the issuer answers, and within twice that in any
 * case. A key id the last keys do not hold while the issuer cannot be asked is a failure too
 * (it may be a key the issuer has just published), never a refusal of a token that may be valid.
 */
export class RefreshingJwksCache implements JwksCache {
  readonly #source: Pick<JwksCache, 'getJwks'>;
  readonly #refreshSeconds: (jwksUri: string) => number;
  readonly #penaltyBox: PenaltyBox;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: RefreshingJwksCacheOptions = {}) {
    this.#source = options.source ?? new SimpleJwksCache();
    this.#refreshSeconds = options.refreshSeconds ?? (() => JWKS_REFRESH_SECONDS.default);
    this.#penaltyBox = options.penaltyBox ?? new SimplePenaltyBox();
    this.#now = options.now ?? Date.now;
  }

  addJwks(jwksUri: string, jwks: Jwks): void {
    this.#store(jwksUri, jwks);
  }

  async getJwks(jwksUri: string): Promise<Jwks> {
    const jwks = await this.#source.getJwks(jwksUri);
    this.#store(jwksUri, jwks);
    return jwks;
  }

  getCachedJwk(jwksUri: string, decomposedJwt: DecomposedJwt): JwkWithKid {
    const kid = kidOf(decomposedJwt);
    const entry = this.#entries.get(jwksUri);
    if (entry === undefined || this.#now() >= entry.usableUntil) {
      throw new JwksNotAvailableInCacheError(`JWKS for uri ${jwksUri} not yet available in cache`);
    }
    return found(entry.jwks, kid);
  }

  async getJwk(jwksUri: string, decomposedJwt: DecomposedJwt): Promise<JwkWithKid> {
    const kid = kidOf(decomposedJwt);
    const entry = this.#entries.get(jwksUri);
    const now = this.#now();
    if (entry !== undefined && now < entry.refreshAt) {
      const jwk = findJwkInJwks(entry.jwks, kid);
      if (jwk !== undefined) return jwk;
      // A key id not seen yet: the issuer may have rotated. As aws-jwt-verify does, read again
      // unless a read without this key id was just made (then a refusal, not another fetch).
      await this.#penaltyBox.wait(jwksUri, kid);
      return this.#read(jwksUri, kid);
    }
    if (entry !== undefined && now < entry.retryAt && now < entry.usableUntil) {
      return this.#stale(entry, kid);
    }
    try {
      return await this.#read(jwksUri, kid);
    } catch (error) {
      if (error instanceof KidNotFoundInJwksError) throw error;
      if (entry === undefined || now >= entry.usableUntil) throw error;
      entry.retryAt = now + RETRY_AFTER_FAILURE_MS;
      entry.failure = error;
      return this.#stale(entry, kid);
    }
  }

  /** Reads the JWKS, keeps it and finds `kid` in it (a read without it is penalised). */
  async #read(jwksUri: string, kid: string): Promise<JwkWithKid> {
    const jwks = await this.getJwks(jwksUri);
    const jwk = findJwkInJwks(jwks, kid);
    if (jwk === undefined) {
      this.#penaltyBox.registerFailedAttempt(jwksUri, kid);
      throw new KidNotFoundInJwksError(`JWK for kid "${kid}" not found in the JWKS`);
    }
    this.#penaltyBox.registerSuccessfulAttempt(jwksUri, kid);
    return jwk;
  }

  /**
   * `kid` from keys that are due for a re-read the issuer did not answer: a key they hold, else
   * the re-read's failure (whether the issuer has published `kid` since is unknown).
   */
  #stale(entry: Entry, kid: string): JwkWithKid {
    const jwk = findJwkInJwks(entry.jwks, kid);
    if (jwk !== undefined) return jwk;
    throw entry.failure;
  }

  #store(jwksUri: string, jwks: Jwks): void {
    const now = this.#now();
    const refreshMs = this.#refreshSeconds(jwksUri) * 1000;
    this.#entries.set(jwksUri, {
      jwks,
      refreshAt: now + refreshMs,
      usableUntil: now + 2 * refreshMs,
      retryAt: 0,
    });
  }
}

function kidOf(decomposedJwt: DecomposedJwt): string {
  const kid = decomposedJwt.header.kid;
  if (typeof kid !== 'string') {
    throw new JwtWithoutValidKidError('JWT header does not have valid kid claim');
  }
  return kid;
}

function found(jwks: Jwks, kid: string): JwkWithKid {
  const jwk = findJwkInJwks(jwks, kid);
  if (jwk === undefined)
    throw new KidNotFoundInJwksError(`JWK for kid ${kid} not found in the JWKS`);
  return jwk;
}
