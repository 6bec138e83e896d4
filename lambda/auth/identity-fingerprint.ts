import { createHash } from 'node:crypto';
import { identityKey, type PartnerIdentity } from '../config/access';

/**
 * What the authorizer's Allow carries besides the partner id, and what the proxy checks it
 * against on every call. API Gateway caches an Allow per token (`api.authorizerCacheSeconds`)
 * and hands its context to the proxy as is, so without these a cached Allow outlives:
 * - the identity it was given for: the operator swaps a compromised partner's `clientId` (or
 *   `subject`), or removes a partner and later gives its id to someone else;
 * - the token it was given for: a token that expires just after it was allowed.
 *
 * The fingerprint is a hash of the partner id and its identity (issuer, and `client_id` or
 * `sub`): the version of the one thing a cached Allow vouches for, "this token's holder is this
 * partner". It changes exactly when that binding changes. Nothing else is in it, on purpose:
 * - not a version of the whole configuration, so adding, changing or removing another partner
 *   leaves every cached Allow standing;
 * - not the partner's grants, accounts or devices: the proxy reads those from its current
 *   configuration on every call anyway, and a mismatch would answer 401 (until API Gateway's
 *   cache lapses) to a partner whose grants were merely edited;
 * - not issuer settings (JWKS location, audience, token rules, scope): they decide which
 *   tokens are acceptable, and a tightened rule reaches cached Allows within the cache time,
 *   which the deployment caps at the tokens' lifetime. To revoke every cached Allow at once,
 *   flush the stage's authorizer cache (API Gateway `FlushStageAuthorizersCache`).
 *
 * API Gateway passes context values to the proxy as strings, so all of them are strings.
 */
export const AUTHORIZER_CONTEXT = {
  partnerId: 'partnerId',
  identityFingerprint: 'identityFingerprint',
  /** The token's `exp`, in seconds since the epoch. */
  tokenExpiresAt: 'tokenExpiresAt',
} as const;

/** A partner as both sides know it (a directory `Partner` fits): its id and its identity. */
export interface IdentifiedPartner {
  readonly id: string;
  readonly config: { readonly identity: PartnerIdentity };
}

/** Separates these hashes from any other SHA-256 of the same strings. */
const DOMAIN = 'ioto-bff/identity-fingerprint/v1';

/**
 * The last fingerprint computed per partner configuration object, with what it was computed
 * from: the proxy checks one on every call, and a directory keeps its partners' objects until
 * the configuration changes. A hit must match the partner's id and identity as they are now.
 */
const fingerprints = new WeakMap<
  IdentifiedPartner['config'],
  { readonly source: string; readonly fingerprint: string }
>();

/** The fingerprint of a partner's identity binding (see {@link AUTHORIZER_CONTEXT}). */
export function identityFingerprint(partner: IdentifiedPartner): string {
  const source = JSON.stringify([DOMAIN, partner.id, identityKey(partner.config.identity)]);
  const known = fingerprints.get(partner.config);
  if (known?.source === source) return known.fingerprint;
  const fingerprint = createHash('sha256').update(source).digest('base64url');
  fingerprints.set(partner.config, { source, fingerprint });
  return fingerprint;
}

/** The authorizer context of an Allow for `partner`'s token, which expires at `exp` (seconds). */
export function authorizerContextFor(
  partner: IdentifiedPartner,
  exp: number,
): Record<string, string> {
  return {
    [AUTHORIZER_CONTEXT.partnerId]: partner.id,
    [AUTHORIZER_CONTEXT.identityFingerprint]: identityFingerprint(partner),
    [AUTHORIZER_CONTEXT.tokenExpiresAt]: String(Math.floor(exp)),
  };
}

/** Seconds since the epoch, as the authorizer writes them (no sign, no fraction, no exponent). */
const EPOCH_SECONDS = /^\d{1,12}$/;

/**
 * Whether an Allow, as the proxy receives its context (`requestContext.authorizer`), still holds
 * for `partner` at `nowMs`: the partner's identity is the one the Allow was given for and the
 * token has not expired since.
 *
 * A context with neither key comes from an authorizer older than these keys: during a rollout
 * (decision 0020) the previous authorizer version keeps answering, and its cached Allows live
 * on for a cache period; refusing them would answer 401 to every partner for that long. Such a
 * context holds, as every context did before. Only the authorizer writes the context (a partner
 * cannot), and every authorizer from this one on writes both keys; a context with one key but
 * not the other, or a malformed value, does not hold.
 */
export function authorizationHolds(
  context: unknown,
  partner: IdentifiedPartner,
  nowMs: number = Date.now(),
): boolean {
  const values = (context ?? {}) as Record<string, unknown>;
  const fingerprint = values[AUTHORIZER_CONTEXT.identityFingerprint];
  const expiresAt = values[AUTHORIZER_CONTEXT.tokenExpiresAt];
  if (fingerprint === undefined && expiresAt === undefined) return true;
  return (
    fingerprint === identityFingerprint(partner) &&
    typeof expiresAt === 'string' &&
    EPOCH_SECONDS.test(expiresAt) &&
    nowMs < Number(expiresAt) * 1000
  );
}
