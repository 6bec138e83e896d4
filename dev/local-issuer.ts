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

/** The issuer's JWKS document. */
export const jwksOf = (key: IssuerKey) => ({ keys: [key.publicJwk] });

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
 * `token_use: access`, an hour of validity.
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
  return signJwt(key, {
    iss: identity.issuer,
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
