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
  /**
   * Further 32-byte keys whose tokens still open, though nothing is sealed with them: during a
   * key rotation, the key staged to take over and the one being retired ({@link PageTokenKeys}).
   *
   * @default none
   */
  readonly acceptedKeys?: readonly Buffer[];
  /** Clock, for tests. */
  readonly now?: () => number;
}

/**
 * The page-token keys as Secrets Manager's version stages of the key secret hold them (plain
 * text each, the whole text the key): `current` seals new tokens; tokens sealed with any of the
 * three open, so that a key can be staged, promoted and retired under live tokens
 * (lambda/paging/page-token-key-source.ts has the operator's procedure).
 */
export interface PageTokenKeys {
  /** `AWSCURRENT`: seals new tokens, and opens. */
  readonly current: string;
  /**
   * `AWSPENDING`: a key staged to become current. Opens only, so that once it is promoted, the
   * tokens of the instances that re-read first open on those that have not yet.
   */
  readonly pending?: string | undefined;
  /** `AWSPREVIOUS`: the key a rotation retired; opens the tokens it sealed until they expire. */
  readonly previous?: string | undefined;
}

const VERSION = 1;
const IV_BYTES = 12; // 96-bit nonce, the GCM recommendation (NIST SP 800-38D §8.2)
const TAG_BYTES = 16;
/** Binds ciphertexts to this use, so a key reused elsewhere cannot produce valid page tokens. */
const AAD = Buffer.from('ioto-bff/page-token/v1');
/** Refuse absurd tokens before decrypting: Ioto cursors are small key objects. */
const MAX_TOKEN_CHARS = 4096;
/** The least key material a key must hold (a generated key has 64 characters). */
const MIN_SECRET_CHARS = 32;

/** A key's text, refused when too short; the error names the slot, never the value. */
const checkedKey = (value: string, slot: keyof PageTokenKeys): string => {
  if (value.length < MIN_SECRET_CHARS) {
    throw new RangeError(
      `The ${slot} page-token key must hold at least ${MIN_SECRET_CHARS} characters`,
    );
  }
  return value;
};

/** The AES key of secret text, with HKDF-SHA256 (RFC 5869); unchanged since the first token. */
const deriveKey = (secret: string): Buffer =>
  Buffer.from(hkdfSync('sha256', secret, 'ioto-bff', 'page-token-key/v1', 32));

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
 * was minted for, until it expires. Format: base64url(iv ‖ ciphertext ‖ tag). It seals with one
 * key and opens with that key or any accepted one, so the key can be rotated under live tokens:
 * the deployed proxy builds it from the version stages of the key secret
 * ({@link PageTokenSealer.fromSecrets}, loaded by lambda/paging/page-token-key-source.ts).
 */
export class PageTokenSealer {
  /** The sealing key. */
  readonly #key: Buffer;
  /** Every key a token may have been sealed with: the sealing key first. */
  readonly #openingKeys: readonly Buffer[];
  readonly #ttlSeconds: number;
  readonly #now: () => number;

  constructor(key: Buffer, options: PageTokenSealerOptions) {
    const accepted = options.acceptedKeys ?? [];
    if ([key, ...accepted].some((k) => k.length !== 32)) {
      throw new RangeError('PageTokenSealer needs 32-byte keys');
    }
    this.#key = Buffer.from(key);
    this.#openingKeys = [this.#key, ...accepted.map((k) => Buffer.from(k))].filter(
      (k, index, all) => all.findIndex((other) => other.equals(k)) === index,
    );
    this.#ttlSeconds = options.ttlSeconds;
    this.#now = options.now ?? Date.now;
  }

  /**
   * A sealer for the page-token keys ({@link PageTokenKeys}): each key is derived from its text
   * with HKDF-SHA256 (RFC 5869), exactly as the single key was before rotation existed, so a key
   * can be any high-entropy string, such as one Secrets Manager generated, and the tokens it
   * sealed keep opening. Seals with `current`; opens with every key given.
   */
  static fromSecrets(
    keys: PageTokenKeys,
    options: Omit<PageTokenSealerOptions, 'acceptedKeys'>,
  ): PageTokenSealer {
    const accepted = (['pending', 'previous'] as const).flatMap((slot) => {
      const text = keys[slot];
      return text === undefined ? [] : [deriveKey(checkedKey(text, slot))];
    });
    return new PageTokenSealer(deriveKey(checkedKey(keys.current, 'current')), {
      ...options,
      acceptedKeys: accepted,
    });
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
    // The token names no key: GCM's tag tells which one sealed it (at most three are tried).
    for (const key of this.#openingKeys) {
      const payload = decryptWith(key, raw);
      if (payload !== undefined) return payload;
    }
    return undefined;
  }
}

/** The payload of a raw token if `key` sealed it, else undefined. */
function decryptWith(key: Buffer, raw: Buffer): SealedPayload | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), {
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
    // Another key's token, an altered one, or garbage: the caller reports invalid_page_token.
    return undefined;
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
