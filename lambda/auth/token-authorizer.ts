import type { Logger } from '@aws-lambda-powertools/logger';
import { JwtVerifier } from 'aws-jwt-verify';
import type { JwksCache } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { type AccessConfig, usageIdentifierKey } from '../config/access';
import type { PartnerDirectory } from './partner-directory';

/** What the authorizer needs of a JWT verifier (aws-jwt-verify's `JwtVerifier` fits). */
export interface AccessTokenVerifier {
  verify(jwt: string): Promise<JwtPayload>;
}

/**
 * API Gateway turns this message into a 401 (any other failure becomes a 500).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html
 */
export const UNAUTHORIZED = 'Unauthorized';

/** `Bearer <compact JWS>`, scheme case-insensitive (RFC 6750 §2.1). */
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;

/**
 * Checks what aws-jwt-verify leaves to us: an expiry is required (it accepts tokens without
 * `exp`), and a `token_use` claim, when present (Cognito), must say `access`.
 */
function requireAccessTokenShape({ payload }: { payload: JwtPayload }): void {
  if (typeof payload.exp !== 'number') throw new Error('The token has no expiry');
  if (payload.token_use !== undefined && payload.token_use !== 'access') {
    throw new Error('The token is not an access token');
  }
}

/**
 * A verifier for every configured issuer: signature against the issuer's JWKS, `iss`, `exp`,
 * `nbf`, the gateway scope (which ID tokens and tokens for other APIs do not carry) and, where
 * configured, the audience. Algorithms come from the JWKS keys, so `alg: none` never verifies.
 */
export function createAccessTokenVerifier(
  access: AccessConfig,
  jwksCache?: JwksCache,
): AccessTokenVerifier {
  const issuers = access.issuers.map((issuer) => ({
    issuer: issuer.issuer,
    audience: issuer.audience ?? null,
    scope: access.scope,
    customJwtCheck: requireAccessTokenShape,
    ...(issuer.jwksUri !== undefined && { jwksUri: issuer.jwksUri }),
  }));
  const [first, ...others] = issuers;
  if (first === undefined) throw new Error('No token issuer is configured');
  const verifier = JwtVerifier.create(
    [first, ...others],
    jwksCache === undefined ? undefined : { jwksCache },
  );
  // Every verification property is set per issuer above, so none is passed per call.
  const verify = verifier.verify.bind(verifier) as (jwt: string) => Promise<JwtPayload>;
  return { verify };
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

export interface TokenAuthorizerOptions {
  readonly verifier: AccessTokenVerifier;
  readonly directory: PartnerDirectory;
  readonly logger: Logger;
}

/**
 * The Lambda TOKEN authorizer: maps a verified access token to a partner and allows it on the
 * stage's routes, with the partner id as context and its usage-plan key. Anything else is 401,
 * with the reason logged (never the token).
 */
export function createTokenAuthorizer(options: TokenAuthorizerOptions) {
  const { verifier, directory, logger } = options;
  return async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const jwt = BEARER.exec(event.authorizationToken ?? '')?.[1];
    if (jwt === undefined) {
      logger.info('authorization refused', { reason: 'no bearer token' });
      throw new Error(UNAUTHORIZED);
    }
    let payload: JwtPayload;
    try {
      payload = await verifier.verify(jwt);
    } catch (error) {
      // aws-jwt-verify's errors never carry the raw token unless asked (includeRawJwtInErrors).
      logger.info('authorization refused', { reason: (error as Error).name });
      throw new Error(UNAUTHORIZED);
    }
    const partner = directory.byToken({
      iss: String(payload.iss),
      ...(typeof payload.client_id === 'string' && { clientId: payload.client_id }),
      ...(typeof payload.sub === 'string' && { sub: payload.sub }),
    });
    if (partner === undefined) {
      logger.info('authorization refused', { reason: 'no partner for this identity' });
      throw new Error(UNAUTHORIZED);
    }
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
      usageIdentifierKey: usageIdentifierKey(partner.id),
    };
  };
}
