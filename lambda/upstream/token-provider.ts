import { TokenUnavailableError } from '../problems/problem-error';

/** Where the Ioto CloudAPI token comes from: AWS Secrets Manager, or a local env var or file. */
export type TokenSource = (options: { readonly forceFetch: boolean }) => Promise<unknown>;

/** Hands out the Ioto CloudAPI token. Never log what it returns. */
export interface TokenProvider {
  getToken(): Promise<string>;
  /**
   * Called after Ioto refused `rejected`. Returns a fresh token: when another caller already
   * refreshed it, that token; otherwise the result of one forced load shared by all concurrent
   * callers, so a rotated token costs Secrets Manager one call, not one per request.
   */
  refreshToken(rejected: string): Promise<string>;
}

export interface CachingTokenProviderOptions {
  /** How long a loaded token is used before it is read again. */
  readonly cacheSeconds: number;
  readonly now?: () => number;
}

/**
 * Accepts a secret holding the raw token, or JSON `{"token": "..."}` (the README documents both).
 * Whatever goes wrong, the message names the shape, never the value.
 */
export function parseTokenSecret(value: unknown): string {
  const text =
    typeof value === 'string'
      ? value
      : value instanceof Uint8Array
        ? Buffer.from(value).toString('utf8')
        : undefined;
  if (text === undefined) throw new TypeError('The Ioto token secret is not text');
  const trimmed = text.trim();
  let token = trimmed;
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new TypeError('The Ioto token secret looks like JSON but does not parse');
    }
    const field = (parsed as { token?: unknown } | null)?.token;
    if (typeof field !== 'string')
      throw new TypeError('The Ioto token secret JSON has no "token" string');
    token = field.trim();
  }
  // A header value cannot carry control characters; an empty secret was never filled in.
  if (token === '' || [...token].some(isControlCharacter)) {
    throw new TypeError('The Ioto token secret is empty or holds control characters');
  }
  return token;
}

const isControlCharacter = (c: string): boolean => {
  const code = c.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
};

/** Caches the token, and shares one in-flight load between concurrent callers. */
export class CachingTokenProvider implements TokenProvider {
  readonly #source: TokenSource;
  readonly #cacheMs: number;
  readonly #now: () => number;
  #current: { readonly token: string; readonly expiresAt: number } | undefined;
  #inFlight: Promise<string> | undefined;

  constructor(source: TokenSource, options: CachingTokenProviderOptions) {
    this.#source = source;
    this.#cacheMs = options.cacheSeconds * 1000;
    this.#now = options.now ?? Date.now;
  }

  async getToken(): Promise<string> {
    const current = this.#current;
    if (current !== undefined && current.expiresAt > this.#now()) return current.token;
    return this.#load(false);
  }

  async refreshToken(rejected: string): Promise<string> {
    const current = this.#current;
    if (current !== undefined && current.token !== rejected) return current.token;
    return this.#load(true);
  }

  #load(forceFetch: boolean): Promise<string> {
    this.#inFlight ??= this.#fetch(forceFetch).finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #fetch(forceFetch: boolean): Promise<string> {
    let token: string;
    try {
      token = parseTokenSecret(await this.#source({ forceFetch }));
    } catch (error) {
      // The cause stays for the log; the partner sees only token_unavailable.
      throw new TokenUnavailableError({ cause: error });
    }
    this.#current = { token, expiresAt: this.#now() + this.#cacheMs };
    return token;
  }
}
