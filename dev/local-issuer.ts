import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomUUID,
  sign,
} from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AccessConfig } from '../lambda/config/access';

/**
 * The local OAuth issuer of `npm start`: one ES256 signing key, kept in `.local/` so that
 * `npm run token` and a running `npm start` in the same checkout agree, and its JWKS.
 */

/** The `iss` of locally minted tokens; the shipped development access config names it. */
export const LOCAL_ISSUER = 'urn:ioto-bff:local-issuer';

/** Where the key lives, relative to the checkout (git-ignored). */
export const DEFAULT_KEY_FILE = join('.local', 'local-issuer-key.json');

export interface IssuerKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: JsonWebKey & {
    readonly kid: string;
    readonly alg: 'ES256';
    readonly use: 'sig';
  };
}

const toIssuerKey = (kid: string, privateKey: KeyObject): IssuerKey => ({
  kid,
  privateKey,
  publicJwk: {
    ...createPublicKey(privateKey).export({ format: 'jwk' }),
    kid,
    alg: 'ES256',
    use: 'sig',
  },
});

/**
 * A new key held only in memory, with a key id of its own: the next key of an issuer that
 * rotates (publish it beside the current one with {@link jwksOf}, sign with it, withdraw the old).
 */
export function createIssuerKey(kid: string = randomUUID()): IssuerKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return toIssuerKey(kid, privateKey);
}

/** Loads the key, creating it on first use; two processes starting at once agree on one key. */
export async function loadOrCreateIssuerKey(file = DEFAULT_KEY_FILE): Promise<IssuerKey> {
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as {
      kid: string;
      privateJwk: JsonWebKey;
    };
    return toIssuerKey(stored.kid, createPrivateKey({ key: stored.privateJwk, format: 'jwk' }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomUUID();
  await mkdir(dirname(file), { recursive: true });
  try {
    await writeFile(
      file,
      JSON.stringify({ kid, privateJwk: privateKey.export({ format: 'jwk' }) }),
      {
        flag: 'wx',
        mode: 0o600,
      },
    );
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateIssuerKey(file);
    throw error;
  }
  return toIssuerKey(kid, privateKey);
}

/**
 * The issuer's JWKS document: the public keys it publishes, in order. An issuer that rotates
 * publishes its next key before signing with it, and withdraws the old one once no token it
 * signed should verify any more.
 */
export const jwksOf = (...keys: readonly IssuerKey[]) => ({ keys: keys.map((k) => k.publicJwk) });

/**
 * An issuer's keys over a rotation, for drills and tests: it signs with its newest key and
 * publishes every key it has not withdrawn. {@link RotatingIssuerKeys.rotate} publishes a new
 * key and signs with it from then on (the previous key stays published, so the tokens it signed
 * still verify); {@link RotatingIssuerKeys.withdraw} stops publishing a key (compromised, or no
 * token it signed should verify any more), after which verifiers must refuse its tokens once
 * they read the JWKS again.
 */
export class RotatingIssuerKeys {
  #published: IssuerKey[];
  #current: IssuerKey;

  constructor(first: IssuerKey = createIssuerKey()) {
    this.#published = [first];
    this.#current = first;
  }

  /** The key new tokens are signed with. */
  get current(): IssuerKey {
    return this.#current;
  }

  /** Publishes a new key and signs with it from now on; returns it. */
  rotate(next: IssuerKey = createIssuerKey()): IssuerKey {
    this.#published = [...this.#published, next];
    this.#current = next;
    return next;
  }

  /** Stops publishing the key `kid` (never the current one: sign with another first). */
  withdraw(kid: string): void {
    if (kid === this.#current.kid) throw new Error('Rotate before withdrawing the current key');
    this.#published = this.#published.filter((key) => key.kid !== kid);
  }

  /** The JWKS the issuer serves now. */
  jwks() {
    return jwksOf(...this.#published);
  }
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs a JWT with ES256 (RFC 7518 §3.4: the signature is r ‖ s, not DER). */
export function signJwt(key: IssuerKey, payload: Record<string, unknown>, typ = 'at+jwt'): string {
  const input = `${base64url({ alg: 'ES256', typ, kid: key.kid })}.${base64url(payload)}`;
  const signature = sign('sha256', Buffer.from(input), {
    key: key.privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${signature.toString('base64url')}`;
}

/**
 * An access token for a partner of the access configuration, shaped like a Cognito
 * client-credentials token (RFC 9068 profile): `client_id` or `sub`, the gateway scope,
 * `token_use: access`, an hour of validity, and the first `audience` of its issuer as `aud` when
 * the configuration names one.
 */
export function mintPartnerToken(
  key: IssuerKey,
  access: AccessConfig,
  partnerId: string,
  now = Date.now(),
): string {
  const partner = access.partners.find((p) => p.id === partnerId);
  if (partner === undefined) {
    const known = access.partners.map((p) => p.id).join(', ');
    throw new Error(`Unknown partner "${partnerId}" (configured: ${known || 'none'})`);
  }
  const identity = partner.identity;
  const iat = Math.floor(now / 1000);
  const subject = 'clientId' in identity ? identity.clientId : identity.subject;
  const audience = access.issuers.find((i) => i.issuer === identity.issuer)?.audience?.[0];
  return signJwt(key, {
    iss: identity.issuer,
    ...(audience !== undefined && { aud: audience }),
    sub: subject,
    ...('clientId' in identity && { client_id: identity.clientId }),
    scope: access.scope,
    token_use: 'access',
    iat,
    nbf: iat,
    exp: iat + 3600,
    jti: randomUUID(),
  });
}
