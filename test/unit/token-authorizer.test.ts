import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { policyAllows } from '../../dev/local-gateway/api-gateway-emulator';
import {
  type IssuerKey,
  jwksOf,
  LOCAL_ISSUER,
  loadOrCreateIssuerKey,
  mintPartnerToken,
  signJwt,
} from '../../dev/local-issuer';
import { PartnerDirectory } from '../../lambda/auth/partner-directory';
import {
  createAccessTokenVerifier,
  createTokenAuthorizer,
  stageRoutesArn,
} from '../../lambda/auth/token-authorizer';
import { usageIdentifierKey } from '../../lambda/config/access';
import { devAccessConfig, globexClaims, nowSeconds } from '../support/access-fixtures';

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/v1/device/find';
const access = devAccessConfig();
const keyFile = () => join(tmpdir(), `ioto-bff-key-${randomBytes(6).toString('hex')}.json`);

let key: IssuerKey;
let otherKey: IssuerKey;
let authorize: ReturnType<typeof createTokenAuthorizer>;

beforeAll(async () => {
  key = await loadOrCreateIssuerKey(keyFile());
  otherKey = await loadOrCreateIssuerKey(keyFile());
  // The JWKS is served from memory: the same verifier code, without a network.
  const jwks = Buffer.from(JSON.stringify(jwksOf(key)));
  const cache = new SimpleJwksCache({
    fetcher: {
      fetch: async () => jwks.buffer.slice(jwks.byteOffset, jwks.byteOffset + jwks.length),
    },
  });
  const localAccess = {
    ...access,
    issuers: access.issuers.map((i) => ({ ...i, jwksUri: 'https://issuer.example/jwks.json' })),
  };
  authorize = createTokenAuthorizer({
    verifier: createAccessTokenVerifier(localAccess, cache),
    directory: new PartnerDirectory(access),
    logger: new Logger({ logLevel: 'SILENT' }),
  });
});

const now = nowSeconds;
const claims = globexClaims;
const event = (token: string, methodArn = METHOD_ARN) => ({
  type: 'TOKEN' as const,
  authorizationToken: token,
  methodArn,
});

describe('the token authorizer', () => {
  it('allows a partner access token and returns its context and usage-plan key', async () => {
    const result = await authorize(event(`Bearer ${mintPartnerToken(key, access, 'globex')}`));
    expect(result).toEqual({
      principalId: 'globex',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'execute-api:Invoke',
            Effect: 'Allow',
            Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/v1/*',
          },
        ],
      },
      context: { partnerId: 'globex' },
      usageIdentifierKey: usageIdentifierKey('globex'),
    });
  });

  it('returns a policy that stays right when API Gateway caches it for other routes', async () => {
    const result = await authorize(event(`Bearer ${mintPartnerToken(key, access, 'acme')}`));
    const stage = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod';
    expect(policyAllows(result, `${stage}/POST/v1/store/get`)).toBe(true);
    expect(policyAllows(result, `${stage}/POST/v1/generic/find`)).toBe(true);
    expect(policyAllows(result, `${stage}/GET/v1/store/get`)).toBe(false);
    expect(
      policyAllows(
        result,
        'arn:aws:execute-api:eu-west-1:123456789012:other/prod/POST/v1/store/get',
      ),
    ).toBe(false);
  });

  it('accepts the scheme in any case', async () => {
    const token = mintPartnerToken(key, access, 'globex');
    await expect(authorize(event(`bearer ${token}`))).resolves.toMatchObject({
      principalId: 'globex',
    });
  });

  const unsigned = (payload: Record<string, unknown>) =>
    `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;

  it.each([
    ['no token', () => ''],
    ['a token without the Bearer scheme', () => mintPartnerToken(key, access, 'globex')],
    ['a Basic credential', () => 'Basic Z2xvYmV4OnNlY3JldA=='],
    ['garbage', () => 'Bearer not-a-jwt'],
    [
      'an expired token',
      () => `Bearer ${signJwt(key, claims({ iat: now() - 7200, exp: now() - 3600 }))}`,
    ],
    ['a token not yet valid', () => `Bearer ${signJwt(key, claims({ nbf: now() + 3600 }))}`],
    ['a token without expiry', () => `Bearer ${signJwt(key, claims({ exp: undefined }))}`],
    [
      'a token signed with another key',
      () => `Bearer ${signJwt({ ...otherKey, kid: key.kid }, claims())}`,
    ],
    ['a token with an unknown key id', () => `Bearer ${signJwt(otherKey, claims())}`],
    ['an alg none token', () => `Bearer ${unsigned(claims())}`],
    [
      'a token from another issuer',
      () => `Bearer ${signJwt(key, claims({ iss: 'https://evil.example' }))}`,
    ],
    [
      'a token for another scope',
      () => `Bearer ${signJwt(key, claims({ scope: 'other-api/read' }))}`,
    ],
    ['a token without scope', () => `Bearer ${signJwt(key, claims({ scope: undefined }))}`],
    [
      'an ID token',
      () =>
        `Bearer ${signJwt(key, claims({ token_use: 'id', scope: undefined, aud: 'globex-local-client' }), 'JWT')}`,
    ],
    [
      'an ID token that carries the scope',
      () => `Bearer ${signJwt(key, claims({ token_use: 'id' }))}`,
    ],
    [
      'a token of an identity no partner has',
      () => `Bearer ${signJwt(key, claims({ client_id: 'hooli-client', sub: 'hooli-client' }))}`,
    ],
    [
      'a tampered payload',
      () => {
        const [h, , s] = mintPartnerToken(key, access, 'acme').split('.');
        return `Bearer ${h}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.${s}`;
      },
    ],
  ])('refuses %s with Unauthorized (a 401)', async (_name, token) => {
    await expect(authorize(event(token()))).rejects.toThrow(/^Unauthorized$/);
  });

  it('maps a token by sub when the identity is a subject', async () => {
    const bySubject = {
      ...access,
      partners: access.partners.map((p) =>
        p.id === 'initech'
          ? { ...p, identity: { issuer: LOCAL_ISSUER, subject: 'svc-initech' } }
          : p,
      ),
    };
    const directory = new PartnerDirectory(bySubject);
    expect(directory.byToken({ iss: LOCAL_ISSUER, sub: 'svc-initech' })?.id).toBe('initech');
    expect(directory.byToken({ iss: 'https://other', sub: 'svc-initech' })).toBeUndefined();
  });
});

describe('stageRoutesArn', () => {
  it.each(['not-an-arn', 'arn:aws:s3:::bucket/key', 'arn:aws:execute-api:eu-west-1:1:api'])(
    'refuses the malformed method ARN %s',
    (arn) => {
      expect(() => stageRoutesArn(arn)).toThrow();
    },
  );
});
