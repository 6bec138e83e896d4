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
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { type AccessConfig, usageIdentifierKey } from '../config/access';
import type { AccessSource } from '../config/access-source';
import { AuthorizerUnavailableError } from '../problems/problem-error';
import { PartnerDirectory } from './partner-directory';

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

/** A claim check of ours failed: a refusal, like aws-jwt-verify's own claim errors. */
class AccessTokenClaimError extends JwtInvalidClaimError {}

/**
 * Checks what aws-jwt-verify leaves to us: an expiry is required (it accepts tokens without
 * `exp`), and a `token_use` claim, when present (Cognito), must say `access`.
 */
function requireAccessTokenShape({ payload }: { payload: JwtPayload }): void {
  if (typeof payload.exp !== 'number') {
    throw new AccessTokenClaimError('no expiry', payload.exp, 'a number');
  }
  if (payload.token_use !== undefined && payload.token_use !== 'access') {
    throw new AccessTokenClaimError('not an access token', payload.token_use, 'access');
  }
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

/**
 * A verifier for every configured issuer: signature against the issuer's JWKS, `iss`, `exp`,
 * `nbf`, the gateway scope (which ID tokens and tokens for other APIs do not carry) and, where
 * configured, the audience. Algorithms come from the JWKS keys, so `alg: none` never verifies.
 *
 * Before aws-jwt-verify verifies, the token's issuer must be configured and the key its `kid`
 * names must be found in the issuer's JWKS (fetched when not cached) and fit the signature, so
 * every way a token can be wrong raises one of aws-jwt-verify's token errors (a refusal), and
 * only an unreachable or broken JWKS, a broken configuration or a bug raises anything else.
 */
export function createAccessTokenVerifier(
  access: AccessConfig,
  jwksCache: JwksCache = new SimpleJwksCache(),
): AccessTokenVerifier {
  const issuers = access.issuers.map((issuer) => ({
    issuer: issuer.issuer,
    audience: issuer.audience ?? null,
    scope: access.scope,
    customJwtCheck: requireAccessTokenShape,
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

/**
 * The authorizer context of the current access configuration, asked for on every request: a
 * new verifier and directory when the configuration changes (a partner or issuer added), the
 * same ones otherwise. Signing keys stay cached across changes (one `jwksCache`).
 */
export function authorizerContextOf(
  access: AccessSource,
  jwksCache: JwksCache = new SimpleJwksCache(),
): () => Promise<AuthorizerContext> {
  let current: { readonly config: AccessConfig; readonly context: AuthorizerContext } | undefined;
  return async () => {
    const config = await access();
    if (current?.config !== config) {
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

/**
 * The Lambda TOKEN authorizer: maps a verified access token to a partner and allows it on the
 * stage's routes, with the partner id as context and its usage-plan key. A token that is not
 * acceptable is refused (`Unauthorized`, a 401), logged at info and counted in
 * `AuthorizerRefusals`; when it cannot decide (the issuer's JWKS unreachable or broken, a bug)
 * it fails with {@link AuthorizerUnavailableError} (a 503 `authorizer_unavailable`), logged at
 * error and counted in `AuthorizerFailures`. The token is never logged.
 */
export function createTokenAuthorizer(options: TokenAuthorizerOptions) {
  const { logger, metrics } = options;

  const decide = async (
    event: APIGatewayTokenAuthorizerEvent,
    jwt: string | undefined,
  ): Promise<APIGatewayAuthorizerResult> => {
    // The configuration first: when it cannot be read, nothing can be decided (a failure).
    const { verifier, directory, usageKeyPrefix } = await options.context();
    if (jwt === undefined) throw new Refusal('no bearer token');
    const payload = await verifier.verify(jwt);
    const partner = directory.byToken({
      iss: String(payload.iss),
      ...(typeof payload.client_id === 'string' && { clientId: payload.client_id }),
      ...(typeof payload.sub === 'string' && { sub: payload.sub }),
    });
    if (partner === undefined) throw new Refusal('no partner for this identity');
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
      context: { partnerId: partner.id },
      usageIdentifierKey: usageIdentifierKey(partner.id, usageKeyPrefix),
    };
  };

  return async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const credential = String(event.authorizationToken ?? '');
    const jwt = BEARER.exec(credential)?.[1];
    try {
      const allowed = await decide(event, jwt);
      metrics.addMetric(AUTHORIZER_ALLOWED_METRIC, MetricUnit.Count, 1);
      return allowed;
    } catch (error) {
      const { refused, reason } = outcomeOf(error);
      if (refused) {
        logger.info('authorization refused', { reason });
        metrics.addMetric(AUTHORIZER_REFUSALS_METRIC, MetricUnit.Count, 1);
        throw new Error(UNAUTHORIZED);
      }
      logger.error('authorization failed', {
        reason,
        error: describeError(error, credential, jwt),
      });
      metrics.addMetric(AUTHORIZER_FAILURES_METRIC, MetricUnit.Count, 1);
      // A fixed message, never 'Unauthorized' and never the cause (Lambda logs thrown errors).
      throw new AuthorizerUnavailableError();
    }
  };
}
