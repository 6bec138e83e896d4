import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { InvalidPageTokenError } from '../problems/problem-error';
import type { UpstreamCursor } from './upstream-query';

/** What a page token promises: where to resume, and for which request. */
export interface PageTokenClaims {
  /** Ioto's cursor, exactly as Ioto returned it. */
  readonly cursor: UpstreamCursor;
  /** Whether the cursor goes into Ioto's `next` or `prev` option. */
  readonly direction: 'next' | 'prev';
  /** `controller/operation` the token was minted for. */
  readonly operation: string;
  /** {@link hashRequestFields} of the request's other fields (filters). */
  readonly requestHash: string;
  /** Who may redeem it (the partner id; empty until partner identity exists). */
  readonly audience: string;
}

/** The binding a token is checked against when it comes back. */
export type PageTokenBinding = Pick<PageTokenClaims, 'operation' | 'requestHash' | 'audience'>;

export interface PageTokenSealerOptions {
  /** Lifetime of a token. */
  readonly ttlSeconds: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

const VERSION = 1;
const IV_BYTES = 12; // 96-bit nonce, the GCM recommendation (NIST SP 800-38D §8.2)
const TAG_BYTES = 16;
/** Binds ciphertexts to this use, so a key reused elsewhere cannot produce valid page tokens. */
const AAD = Buffer.from('ioto-bff/page-token/v1');
/** Refuse absurd tokens before decrypting: Ioto cursors are small key objects. */
const MAX_TOKEN_CHARS = 4096;

interface SealedPayload {
  v: number;
  c: UpstreamCursor;
  d: 'next' | 'prev';
  o: string;
  h: string;
  a: string;
  e: number;
}

const isSealedPayload = (value: unknown): value is SealedPayload => {
  if (value === null || typeof value !== 'object') return false;
  const p = value as Record<string, unknown>;
  return (
    p.v === VERSION &&
    (typeof p.c === 'string' || (p.c !== null && typeof p.c === 'object' && !Array.isArray(p.c))) &&
    (p.d === 'next' || p.d === 'prev') &&
    typeof p.o === 'string' &&
    typeof p.h === 'string' &&
    typeof p.a === 'string' &&
    typeof p.e === 'number'
  );
};

/**
 * Seals Ioto paging cursors into opaque partner page tokens with AES-256-GCM: partners cannot
 * read, forge or alter them, and a token only works for the operation, filters and partner it
 * was minted for, until it expires. Format: base64url(iv ‖ ciphertext ‖ tag).
 */
export class PageTokenSealer {
  readonly #key: Buffer;
  readonly #ttlSeconds: number;
  readonly #now: () => number;

  constructor(key: Buffer, options: PageTokenSealerOptions) {
    if (key.length !== 32) throw new RangeError('PageTokenSealer needs a 32-byte key');
    this.#key = Buffer.from(key);
    this.#ttlSeconds = options.ttlSeconds;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Derives the AES key from secret text with HKDF-SHA256 (RFC 5869), so the secret can be any
   * high-entropy string, such as one Secrets Manager generated.
   */
  static fromSecret(secret: string, options: PageTokenSealerOptions): PageTokenSealer {
    if (secret.length < 32)
      throw new RangeError('The page-token secret must hold at least 32 characters');
    const key = Buffer.from(hkdfSync('sha256', secret, 'ioto-bff', 'page-token-key/v1', 32));
    return new PageTokenSealer(key, options);
  }

  /** A sealer with a fresh random key: tokens die with the process (local gateway, tests). */
  static withRandomKey(options: PageTokenSealerOptions): PageTokenSealer {
    return new PageTokenSealer(randomBytes(32), options);
  }

  seal(claims: PageTokenClaims): string {
    const payload: SealedPayload = {
      v: VERSION,
      c: claims.cursor,
      d: claims.direction,
      o: claims.operation,
      h: claims.requestHash,
      a: claims.audience,
      e: Math.floor(this.#now() / 1000) + this.#ttlSeconds,
    };
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(AAD);
    const sealed = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  /**
   * Opens a token and checks it against the current request. Every failure is the same
   * {@link InvalidPageTokenError}, so the answer does not tell a tamperer what went wrong.
   */
  open(token: string, binding: PageTokenBinding): Pick<PageTokenClaims, 'cursor' | 'direction'> {
    const payload = this.#decrypt(token);
    if (
      payload === undefined ||
      payload.e <= Math.floor(this.#now() / 1000) ||
      payload.o !== binding.operation ||
      payload.h !== binding.requestHash ||
      payload.a !== binding.audience
    ) {
      throw new InvalidPageTokenError();
    }
    return { cursor: payload.c, direction: payload.d };
  }

  #decrypt(token: string): SealedPayload | undefined {
    if (token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
    const raw = Buffer.from(token, 'base64url');
    if (raw.length <= IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const text = Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
      const payload: unknown = JSON.parse(text);
      return isSealedPayload(payload) ? payload : undefined;
    } catch {
      // Authentication failure or garbage: the caller reports invalid_page_token.
      return undefined;
    }
  }
}

/** JSON with object keys sorted at every depth, so equal requests hash equally. */
const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
};

/**
 * SHA-256 of the request's filter fields in canonical form. The caller leaves out the paging
 * fields themselves (`limit`, `pageToken`): changing the page size between pages is allowed,
 * changing the filters is not.
 */
export function hashRequestFields(fields: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(canonicalJson(fields)).digest('base64url');
}
