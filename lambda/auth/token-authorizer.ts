import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { JwtVerifier } from 'aws-jwt-verify';
import {
  FetchError,
  JwkInvalidKtyError,
  JwkInvalidUseError,
  JwksNotAvailableInCacheError,
  JwksValidationError,
  JwkValidationError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidClaimError,
  JwtInvalidIssuerError,
  JwtInvalidScopeError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  NonRetryableFetchError,
  ParameterValidationError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import {
  assertIsSignatureJwk,
  type Jwk,
  type JwksCache,
  SimpleJwksCache,
} from 'aws-jwt-verify/jwk';
import { type DecomposedJwt, decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import type { JwtHeader, JwtPayload } from 'aws-jwt-verify/jwt-model';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import {
  type AccessConfig,
  type IssuerRules,
  issuerRules,
  JWKS_REFRESH_SECONDS,
  usageIdentifierKey,
} from '../config/access';
import type { AccessSource } from '../config/access-source';
import { AuthorizerUnavailableError } from '../problems/problem-error';
import { authorizerContextFor } from './identity-fingerprint';
import { type Partner, PartnerDirectory } from './partner-directory';
import { RefreshingJwksCache } from './refreshing-jwks-cache';

/** What the authorizer needs of a JWT verifier ({@link createAccessTokenVerifier} builds one). */
export interface AccessTokenVerifier {
  verify(jwt: string): Promise<JwtPayload>;
}

/**
 * API Gateway turns exactly this message into a 401; any other error is an authorizer failure
 * (a 5xx gateway response, rendered as `authorizer_unavailable`).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html
 */
export const UNAUTHORIZED = 'Unauthorized';

/** Counted once per refused token: the partner's token is not acceptable (an API Gateway 401). */
export const AUTHORIZER_REFUSALS_METRIC = 'AuthorizerRefusals';

/**
 * The metric of allowed tokens (API Gateway caches the result per token, so each counts once per
 * cache period): the denominator of the refusal rate, and an invocation that publishes a metric
 * rather than Powertools' "no application metrics" warning on every allowed token.
 */
export const AUTHORIZER_ALLOWED_METRIC = 'AuthorizerAllowed';

/** Counted once per invocation that could not decide (JWKS unreachable, a bug): an operator's. */
export const AUTHORIZER_FAILURES_METRIC = 'AuthorizerFailures';

/** `Bearer <compact JWS>`, scheme case-insensitive (RFC 6750 §2.1). */
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;

/**
 * A check of ours failed: a refusal, like aws-jwt-verify's own claim errors. Its message is the
 * fixed reason the authorizer logs: `no expiry`, `no issue time`, `issued in the future`,
 * `lifetime too long`, `not an access token` or `token type not accepted`.
 */
class AccessTokenClaimError extends JwtInvalidClaimError {}

/**
 * Whether a JWS header's `typ` fits an access token. RFC 9068 §2.1 types JWT access tokens
 * `at+jwt` (or `application/at+jwt`: media types compare case-insensitively and may leave out
 * `application/`, RFC 7515 §4.1.9). Where the issuer is not known to type them so, also no `typ`
 * (Cognito's access tokens have none) and the generic `JWT` (RFC 7519 §5.1; Microsoft Entra ID,
 * Keycloak and Auth0's default profile write it): those cannot tell an ID token from an access
 * token, which the scope and audience do. Any other type (`logout+jwt`, `dpop+jwt`, Okta's
 * `application/okta-internal-at+jwt`, ...) names a token made for something else.
 */
export function acceptedTokenType(typ: unknown, requireTyp: boolean): boolean {
  if (typ === undefined) return !requireTyp;
  if (typeof typ !== 'string') return false;
  const type = typ.toLowerCase().replace(/^application\//, '');
  return type === 'at+jwt' || (!requireTyp && type === 'jwt');
}

/**
 * The checks aws-jwt-verify leaves to us, once it has verified signature, `iss`, `exp`, `nbf`,
 * `aud` and scope, with the issuer's rules:
 * - an expiry is required (aws-jwt-verify accepts tokens without `exp`; it refuses an `exp`,
 *   `nbf` or `iat` that is not a number as malformed, and honours `nbf`);
 * - `iat` is required: RFC 9068 §2.2 requires it of JWT access tokens, and Cognito, Entra ID,
 *   Okta, Auth0 and Keycloak all write it. Without it the lifetime cannot be told, only what is
 *   left of it, and an issuer that omits it is not one this gateway expects;
 * - `iat` may lie at most `clockSkewSeconds` in the future, and `exp - iat` may be at most
 *   `maxTokenLifetimeSeconds`: together they bound what is left of any token's life to the
 *   lifetime plus the skew, so a token "issued" ten years ahead and valid for ten more fails;
 * - a `token_use` claim, when present (Cognito), must say `access`;
 * - the header's `typ` must fit an access token ({@link acceptedTokenType}).
 */
function accessTokenRules(rules: IssuerRules) {
  return ({ header, payload }: { header: JwtHeader; payload: JwtPayload }): void => {
    const { exp, iat } = payload;
    if (typeof exp !== 'number') throw new AccessTokenClaimError('no expiry', exp, 'a number');
    if (typeof iat !== 'number') throw new AccessTokenClaimError('no issue time', iat, 'a number');
    const latest = Date.now() / 1000 + rules.clockSkewSeconds;
    if (iat > latest) throw new AccessTokenClaimError('issued in the future', iat, String(latest));
    if (exp - iat > rules.maxTokenLifetimeSeconds) {
      const most = String(rules.maxTokenLifetimeSeconds);
      throw new AccessTokenClaimError('lifetime too long', exp - iat, most);
    }
    if (payload.token_use !== undefined && payload.token_use !== 'access') {
      throw new AccessTokenClaimError('not an access token', payload.token_use, 'access');
    }
    if (!acceptedTokenType(header.typ, rules.requireTyp)) {
      throw new AccessTokenClaimError('token type not accepted', header.typ, 'at+jwt');
    }
  };
}

/**
 * The key type each supported algorithm needs and, for the fixed-size signatures, the size per
 * curve (RFC 7518 §3.1, RFC 7518 §3.4, RFC 8037 §3.1). Node's crypto throws, rather than
 * answering "invalid", when an ECDSA or EdDSA signature has the wrong size or the key the wrong
 * type, and a thrown error would count as an authorizer failure: a forged token must be a
 * refusal.
 */
const SIGNATURE_KEYS = new Map<string, { kty: string; bytes?: ReadonlyMap<string, number> }>([
  ['RS256', { kty: 'RSA' }],
  ['RS384', { kty: 'RSA' }],
  ['RS512', { kty: 'RSA' }],
  ['ES256', { kty: 'EC', bytes: new Map([['P-256', 64]]) }],
  ['ES384', { kty: 'EC', bytes: new Map([['P-384', 96]]) }],
  ['ES512', { kty: 'EC', bytes: new Map([['P-521', 132]]) }],
  [
    'EdDSA',
    {
      kty: 'OKP',
      bytes: new Map([
        ['Ed25519', 64],
        ['Ed448', 114],
      ]),
    },
  ],
]);

/** Refuses a token whose algorithm or signature cannot belong to the key its `kid` names. */
function requireSignatureFitsKey({ header, signatureB64 }: DecomposedJwt, jwk: Jwk): void {
  // aws-jwt-verify's own key checks first, so a broken key stays the issuer's failure.
  assertIsSignatureJwk(jwk);
  const alg = String(header.alg);
  const needs = SIGNATURE_KEYS.get(alg);
  // Unsupported algorithms (`none`, HS256, ...) are aws-jwt-verify's to refuse.
  if (needs === undefined) return;
  const bytes = needs.bytes?.get(jwk.crv ?? '');
  if (jwk.kty !== needs.kty || (needs.bytes !== undefined && bytes === undefined)) {
    throw new JwtInvalidSignatureAlgorithmError(
      `${alg} does not fit the ${jwk.kty} key`,
      alg,
      needs.kty,
    );
  }
  if (bytes !== undefined && Buffer.from(signatureB64, 'base64url').length !== bytes) {
    throw new JwtInvalidSignatureError(`The ${alg} signature is not ${bytes} bytes long`);
  }
}

/** aws-jwt-verify's default JWKS location of an issuer (its `withJwksUri`), made explicit. */
const defaultJwksUri = (issuer: string): string =>
  new URL(`${new URL(issuer).pathname.replace(/\/$/, '')}/.well-known/jwks.json`, issuer).href;

/** Each JWKS URI of `access` with how often it is read again (the shortest, if shared). */
export function jwksRefreshSecondsOf(access: AccessConfig): ReadonlyMap<string, number> {
  const refresh = new Map<string, number>();
  for (const issuer of access.issuers) {
    const uri = issuer.jwksUri ?? defaultJwksUri(issuer.issuer);
    const seconds = issuerRules(issuer).jwksRefreshSeconds;
    refresh.set(uri, Math.min(seconds, refresh.get(uri) ?? seconds));
  }
  return refresh;
}

/**
 * A verifier for every configured issuer: signature against the issuer's JWKS, `iss`, `exp`,
 * `nbf`, the gateway scope (which ID tokens and tokens for other APIs do not carry), the
 * audience (required by the configuration for every issuer but Cognito, unless waived), and
 * the issuer's token rules ({@link accessTokenRules}). Algorithms come from the JWKS keys, so
 * `alg: none` never verifies. The JWKS cache defaults to one that reads each issuer's keys
 * again every `jwksRefreshSeconds` ({@link RefreshingJwksCache}).
 *
 * Before aws-jwt-verify verifies, the token's issuer must be configured and the key its `kid`
 * names must be found in the issuer's JWKS (fetched when not cached) and fit the signature, so
 * every way a token can be wrong raises one of aws-jwt-verify's token errors (a refusal), and
 * only an unreachable or broken JWKS, a broken configuration or a bug raises anything else.
 * A claim error raised once the signature has verified carries the decoded token
 * (`includeRawJwtInErrors`), so that the refusal can name the partner in the log.
 */
export function createAccessTokenVerifier(
  access: AccessConfig,
  jwksCache: JwksCache = refreshingCacheOf(access),
): AccessTokenVerifier {
  const issuers = access.issuers.map((issuer) => ({
    issuer: issuer.issuer,
    audience: issuer.audience ?? null,
    scope: access.scope,
    customJwtCheck: accessTokenRules(issuerRules(issuer)),
    includeRawJwtInErrors: true,
    jwksUri: issuer.jwksUri ?? defaultJwksUri(issuer.issuer),
  }));
  const [first, ...others] = issuers;
  if (first === undefined) throw new Error('No token issuer is configured');
  const verifier = JwtVerifier.create([first, ...others], { jwksCache });
  const jwksUris = new Map(issuers.map((issuer) => [issuer.issuer, issuer.jwksUri]));
  // Every verification property is set per issuer above, so none is passed per call.
  const verifyJwt = verifier.verify.bind(verifier) as (jwt: string) => Promise<JwtPayload>;
  return {
    async verify(jwt) {
      const decomposed = decomposeUnverifiedJwt(jwt);
      const { iss } = decomposed.payload;
      const jwksUri = typeof iss === 'string' ? jwksUris.get(iss) : undefined;
      if (jwksUri === undefined) {
        // aws-jwt-verify says ParameterValidationError here, which also means a configuration
        // error; an issuer we do not know is the token's fault.
        throw new JwtInvalidIssuerError('Issuer not configured', iss, [...jwksUris.keys()]);
      }
      requireSignatureFitsKey(decomposed, await jwksCache.getJwk(jwksUri, decomposed));
      // Finds the same key in the cache and checks everything else.
      return verifyJwt(jwt);
    },
  };
}

/** A JWKS cache that reads the keys of `access`'s issuers again at their refresh times. */
function refreshingCacheOf(access: AccessConfig): RefreshingJwksCache {
  const refresh = jwksRefreshSecondsOf(access);
  return new RefreshingJwksCache({
    refreshSeconds: (uri) => refresh.get(uri) ?? JWKS_REFRESH_SECONDS.default,
  });
}

/**
 * The policy resource: every POST route of the stage that called, so a result API Gateway
 * caches for this token (the cache is keyed by token, not by route) stays right when the same
 * partner calls another operation. Which operations the partner may call is the proxy's check.
 */
export function stageRoutesArn(methodArn: string): string {
  // arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{resource path}
  const [api = '', stage = ''] = methodArn.split('/', 2);
  const parts = api.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'execute-api' || stage === '') {
    throw new Error('Unexpected methodArn');
  }
  return `${api}/${stage}/POST/v1/*`;
}

/** The partner's token is not acceptable for a reason found outside aws-jwt-verify. */
class Refusal extends Error {}

/** What became of a token the authorizer could not allow, and why (a stable log value). */
type Outcome = { readonly refused: boolean; readonly reason: string };

/**
 * aws-jwt-verify's errors, most specific first: what the token did wrong (refused) and what kept
 * the authorizer from deciding (failed). Its error classes have no `name` of their own, and the
 * bundles are minified, so the reason is written out here.
 */
const OUTCOMES: readonly [abstract new (...args: never[]) => Error, Outcome][] = [
  // The token: malformed, forged, expired, or not for this gateway.
  [JwtParseError, { refused: true, reason: 'malformed token' }],
  [JwtExpiredError, { refused: true, reason: 'expired' }],
  [JwtNotBeforeError, { refused: true, reason: 'not yet valid' }],
  [JwtInvalidIssuerError, { refused: true, reason: 'issuer not accepted' }],
  [JwtInvalidAudienceError, { refused: true, reason: 'audience not accepted' }],
  [JwtInvalidScopeError, { refused: true, reason: 'scope not granted' }],
  [JwtInvalidClaimError, { refused: true, reason: 'claim not accepted' }],
  [JwtInvalidSignatureError, { refused: true, reason: 'bad signature' }],
  [JwtInvalidSignatureAlgorithmError, { refused: true, reason: 'algorithm not accepted' }],
  [JwtWithoutValidKidError, { refused: true, reason: 'no key id' }],
  // After a successful JWKS fetch: a kid the issuer does not publish.
  [KidNotFoundInJwksError, { refused: true, reason: 'unknown key id' }],
  // The penalty box holds only after a fetch that succeeded without this kid (jwk.js).
  [WaitPeriodNotYetEndedJwkError, { refused: true, reason: 'unknown key id' }],
  // The kid names a key the issuer publishes for something else (encryption, a secret key).
  [JwkInvalidUseError, { refused: true, reason: 'not a signing key' }],
  [JwkInvalidKtyError, { refused: true, reason: 'not a signing key' }],
  // The issuer's keys: unreachable, refused (non-200), unparsable or broken.
  [NonRetryableFetchError, { refused: false, reason: 'JWKS refused' }],
  [FetchError, { refused: false, reason: 'JWKS unreachable' }],
  [JwksValidationError, { refused: false, reason: 'JWKS invalid' }],
  [JwkValidationError, { refused: false, reason: 'JWKS key invalid' }],
  [JwksNotAvailableInCacheError, { refused: false, reason: 'JWKS not available' }],
  // The verifier's configuration (the issuer lookup that also raises it is ours, above).
  [ParameterValidationError, { refused: false, reason: 'verifier misconfigured' }],
];

/** Refused or failed: anything not known to be the token's fault is a failure. */
function outcomeOf(error: unknown): Outcome {
  if (error instanceof AccessTokenClaimError) return { refused: true, reason: error.message };
  if (error instanceof Refusal) return { refused: true, reason: error.message };
  const known = OUTCOMES.find(([type]) => error instanceof type);
  return known?.[1] ?? { refused: false, reason: 'unexpected error' };
}

/**
 * An error as a log value, with every occurrence of the credential replaced: an unexpected
 * error may quote its input.
 */
function describeError(error: unknown, credential: string, jwt: string | undefined) {
  const secrets = [credential, jwt, ...(jwt?.split('.') ?? [])]
    .filter((s): s is string => s !== undefined && s.length >= 16)
    .sort((a, b) => b.length - a.length);
  const scrub = (text: string) =>
    secrets.reduce((clean, secret) => clean.replaceAll(secret, '[token]'), text);
  if (!(error instanceof Error)) return { message: scrub(String(error)) };
  return { message: scrub(error.message), stack: scrub(error.stack ?? '') };
}

/** What the authorizer needs of Powertools Metrics (a `Metrics` fits). */
export interface AuthorizerMetrics {
  addMetric(name: string, unit: typeof MetricUnit.Count, value: number): unknown;
}

/** What the authorizer decides with: all of it comes from one access configuration. */
export interface AuthorizerContext {
  readonly verifier: AccessTokenVerifier;
  readonly directory: Pick<PartnerDirectory, 'byToken'>;
  /** What the usage-plan key values start with (see `usageIdentifierKey`). */
  readonly usageKeyPrefix?: string | undefined;
}

/** How {@link authorizerContextOf} keeps the issuers' signing keys. */
export interface SigningKeyOptions {
  /** The clock of the JWKS cache, in milliseconds (tests move it). */
  readonly now?: () => number;
}

/**
 * The authorizer context of the current access configuration, asked for on every request: a
 * new verifier and directory when the configuration changes (a partner or issuer added), the
 * same ones otherwise. Signing keys stay cached across changes in one
 * {@link RefreshingJwksCache}, which reads each issuer's JWKS through `jwksSource` (aws-jwt-verify's
 * `SimpleJwksCache`, or one with a fetcher of its own) and again every `jwksRefreshSeconds` of
 * the current configuration.
 */
export function authorizerContextOf(
  access: AccessSource,
  jwksSource: Pick<JwksCache, 'getJwks'> = new SimpleJwksCache(),
  options: SigningKeyOptions = {},
): () => Promise<AuthorizerContext> {
  let refresh: ReadonlyMap<string, number> = new Map();
  const jwksCache = new RefreshingJwksCache({
    source: jwksSource,
    refreshSeconds: (uri) => refresh.get(uri) ?? JWKS_REFRESH_SECONDS.default,
    ...(options.now && { now: options.now }),
  });
  let current: { readonly config: AccessConfig; readonly context: AuthorizerContext } | undefined;
  return async () => {
    const config = await access();
    if (current?.config !== config) {
      refresh = jwksRefreshSecondsOf(config);
      current = {
        config,
        context: {
          verifier: createAccessTokenVerifier(config, jwksCache),
          directory: new PartnerDirectory(config),
          usageKeyPrefix: config.usageKeyPrefix,
        },
      };
    }
    return current.context;
  };
}

export interface TokenAuthorizerOptions {
  /** The verifier and partners of the current access configuration ({@link authorizerContextOf}). */
  readonly context: () => Promise<AuthorizerContext>;
  readonly logger: Logger;
  /** Counts refusals and failures; the handler's `logMetrics` middleware flushes them. */
  readonly metrics: AuthorizerMetrics;
}

/** The partner a token's claims identify: by `client_id`, then by `sub`. */
const partnerOf = (
  directory: AuthorizerContext['directory'],
  payload: JwtPayload,
): Partner | undefined =>
  directory.byToken({
    iss: String(payload.iss),
    ...(typeof payload.client_id === 'string' && { clientId: payload.client_id }),
    ...(typeof payload.sub === 'string' && { sub: payload.sub }),
  });

/**
 * The partner a refused token names, for the log only, never for a decision: known when the
 * token's signature verified, since aws-jwt-verify then attaches the decoded token to the claim
 * error (`includeRawJwtInErrors`).
 */
function partnerOfRefused(
  error: unknown,
  directory: AuthorizerContext['directory'] | undefined,
): string | undefined {
  if (!(error instanceof JwtInvalidClaimError) || error.rawJwt === undefined) return undefined;
  try {
    return directory === undefined ? undefined : partnerOf(directory, error.rawJwt.payload)?.id;
  } catch {
    return undefined;
  }
}

/** What one invocation has learnt so far, for its log lines. */
interface Progress {
  directory?: AuthorizerContext['directory'];
  partnerId?: string;
}

/**
 * The Lambda TOKEN authorizer: maps a verified access token to a partner and allows it on the
 * stage's routes, with an authorizer context the proxy checks again on every call (partner id,
 * identity fingerprint and the token's expiry: `identity-fingerprint.ts`) and its usage-plan
 * key. A token that is not acceptable is refused (`Unauthorized`, a 401), logged at info and
 * counted in `AuthorizerRefusals`; when it cannot decide (the issuer's JWKS unreachable or
 * broken, a bug) it fails with {@link AuthorizerUnavailableError} (a 503
 * `authorizer_unavailable`), logged at error and counted in `AuthorizerFailures`. Both lines name
 * the partner once it is known (also when a token whose signature verified is refused for a
 * claim). The token is never logged.
 */
export function createTokenAuthorizer(options: TokenAuthorizerOptions) {
  const { logger, metrics } = options;

  const decide = async (
    event: APIGatewayTokenAuthorizerEvent,
    jwt: string | undefined,
    progress: Progress,
  ): Promise<APIGatewayAuthorizerResult> => {
    // The configuration first: when it cannot be read, nothing can be decided (a failure).
    const { verifier, directory, usageKeyPrefix } = await options.context();
    progress.directory = directory;
    if (jwt === undefined) throw new Refusal('no bearer token');
    const payload = await verifier.verify(jwt);
    const partner = partnerOf(directory, payload);
    if (partner === undefined) throw new Refusal('no partner for this identity');
    progress.partnerId = partner.id;
    return {
      principalId: partner.id,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'execute-api:Invoke',
            Effect: 'Allow',
            Resource: stageRoutesArn(event.methodArn),
          },
        ],
      },
      // The verifier checked `exp` is a number.
      context: authorizerContextFor(partner, Number(payload.exp)),
      usageIdentifierKey: usageIdentifierKey(partner.id, usageKeyPrefix),
    };
  };

  return async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const credential = String(event.authorizationToken ?? '');
    const jwt = BEARER.exec(credential)?.[1];
    const progress: Progress = {};
    try {
      const allowed = await decide(event, jwt, progress);
      metrics.addMetric(AUTHORIZER_ALLOWED_METRIC, MetricUnit.Count, 1);
      return allowed;
    } catch (error) {
      const { refused, reason } = outcomeOf(error);
      const partnerId = progress.partnerId ?? partnerOfRefused(error, progress.directory);
      const who = partnerId === undefined ? {} : { partnerId };
      if (refused) {
        logger.info('authorization refused', { reason, ...who });
        metrics.addMetric(AUTHORIZER_REFUSALS_METRIC, MetricUnit.Count, 1);
        throw new Error(UNAUTHORIZED);
      }
      logger.error('authorization failed', {
        reason,
        ...who,
        error: describeError(error, credential, jwt),
      });
      metrics.addMetric(AUTHORIZER_FAILURES_METRIC, MetricUnit.Count, 1);
      // A fixed message, never 'Unauthorized' and never the cause (Lambda logs thrown errors).
      throw new AuthorizerUnavailableError();
    }
  };
}
