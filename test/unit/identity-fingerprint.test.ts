import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import {
  type IssuerKey,
  jwksOf,
  LOCAL_ISSUER,
  loadOrCreateIssuerKey,
  mintPartnerToken,
} from '../../dev/local-issuer';
import {
  AUTHORIZER_CONTEXT,
  authorizationHolds,
  authorizerContextFor,
  identityFingerprint,
} from '../../lambda/auth/identity-fingerprint';
import { PartnerDirectory } from '../../lambda/auth/partner-directory';
import { ScopedPartnerPolicy } from '../../lambda/auth/scoped-partner-policy';
import { authorizerContextOf, createTokenAuthorizer } from '../../lambda/auth/token-authorizer';
import { findOperation } from '../../lambda/catalog/index';
import { type AccessConfig, parseAccessConfig } from '../../lambda/config/access';

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/v1/device/find';
const JWKS_URI = 'https://issuer.example/jwks.json';

type PartnerInput = { id: string; clientId?: string; subject?: string; operations?: string[] };

/** A configuration of the local issuer (its JWKS at {@link JWKS_URI}) with these partners. */
const configOf = (...partners: PartnerInput[]): AccessConfig =>
  parseAccessConfig({
    scope: 'ioto-bff/partner-api',
    issuers: [{ issuer: LOCAL_ISSUER, jwksUri: JWKS_URI }],
    partners: partners.map(({ id, clientId, subject, operations }) => ({
      id,
      operations: operations ?? ['device/find'],
      accounts: ['ACC1'],
      identity:
        subject === undefined
          ? { issuer: LOCAL_ISSUER, clientId: clientId ?? `${id}-client` }
          : { issuer: LOCAL_ISSUER, subject },
    })),
  });

const partnerOf = (config: AccessConfig, id: string) => {
  const partner = new PartnerDirectory(config).byId(id);
  if (partner === undefined) throw new Error(`no partner ${id}`);
  return partner;
};

let key: IssuerKey;

beforeAll(async () => {
  key = await loadOrCreateIssuerKey(
    join(tmpdir(), `ioto-bff-fp-${randomBytes(6).toString('hex')}`),
  );
});

describe('identityFingerprint', () => {
  const base = configOf({ id: 'acme' }, { id: 'globex' });
  const acme = identityFingerprint(partnerOf(base, 'acme'));

  it('is the same for the same partner id and identity, whatever else the configuration holds', () => {
    const other = configOf({ id: 'globex', operations: ['device/get'] }, { id: 'acme' });
    expect(identityFingerprint(partnerOf(other, 'acme'))).toBe(acme);
    const regranted = configOf({ id: 'acme', operations: ['device/get', 'device/find'] });
    expect(identityFingerprint(partnerOf(regranted, 'acme'))).toBe(acme);
  });

  it.each<[string, AccessConfig, string]>([
    ['a swapped client id', configOf({ id: 'acme', clientId: 'acme-client-2' }), 'acme'],
    [
      'a subject instead of the same client id',
      configOf({ id: 'acme', subject: 'acme-client' }),
      'acme',
    ],
    [
      'the identity under another partner id',
      configOf({ id: 'acme2', clientId: 'acme-client' }),
      'acme2',
    ],
  ])('changes with %s', (_name, config, id) => {
    expect(identityFingerprint(partnerOf(config, id))).not.toBe(acme);
  });
});

describe('authorizationHolds', () => {
  const config = configOf({ id: 'acme' });
  const acme = partnerOf(config, 'acme');
  const exp = 1_900_000_000;
  const context = authorizerContextFor(acme, exp);
  const before = exp * 1000 - 1;

  it('holds for the partner it was given for, until the token expires', () => {
    expect(authorizationHolds(context, acme, before)).toBe(true);
    expect(authorizationHolds(context, acme, exp * 1000)).toBe(false);
  });

  it('holds for a context from an authorizer older than the fingerprint (a rollout)', () => {
    expect(authorizationHolds({ partnerId: 'acme', principalId: 'acme' }, acme, before)).toBe(true);
  });

  it.each<[string, Record<string, unknown>]>([
    ['another identity', { ...context, [AUTHORIZER_CONTEXT.identityFingerprint]: 'x' }],
    [
      'a fingerprint without expiry',
      { ...context, [AUTHORIZER_CONTEXT.tokenExpiresAt]: undefined },
    ],
    [
      'an expiry without fingerprint',
      { ...context, [AUTHORIZER_CONTEXT.identityFingerprint]: undefined },
    ],
    ['an expiry in exponent form', { ...context, [AUTHORIZER_CONTEXT.tokenExpiresAt]: '2e9' }],
    ['a negative expiry', { ...context, [AUTHORIZER_CONTEXT.tokenExpiresAt]: '-1' }],
    ['an expiry that is no string', { ...context, [AUTHORIZER_CONTEXT.tokenExpiresAt]: exp }],
  ])('does not hold with %s', (_name, values) => {
    expect(authorizationHolds(values, acme, before)).toBe(false);
  });
});

describe('a cached authorization after the access configuration changes', () => {
  const op = findOperation('device', 'find');
  if (op === undefined) throw new Error('device/find');
  const logger = new Logger({ logLevel: 'SILENT' });

  /** The authorizer's Allow for a token of `partnerId` under `config`, as the proxy sees it. */
  const allowUnder = async (config: AccessConfig, partnerId: string) => {
    const jwks = {
      fetch: async () =>
        new TextEncoder().encode(JSON.stringify(jwksOf(key))).buffer as ArrayBuffer,
    };
    const authorize = createTokenAuthorizer({
      context: authorizerContextOf(async () => config, new SimpleJwksCache({ fetcher: jwks })),
      logger,
      metrics: { addMetric: () => undefined },
    });
    const token = mintPartnerToken(key, config, partnerId);
    const result = await authorize({
      type: 'TOKEN',
      authorizationToken: `Bearer ${token}`,
      methodArn: METHOD_ARN,
    });
    // API Gateway hands the context to the proxy with every value as a string.
    return {
      requestContext: {
        authorizer: { principalId: result.principalId, integrationLatency: 3, ...result.context },
      },
    } as unknown as APIGatewayProxyEvent;
  };
  /** What the proxy's policy answers to that event under `config`. */
  const proxyUnder = (config: AccessConfig, event: APIGatewayProxyEvent) => {
    const policy = new ScopedPartnerPolicy({
      directory: new PartnerDirectory(config),
      ioto: async () => undefined,
      logger,
    });
    try {
      return policy.authorize(op, event).partner.id;
    } catch (error) {
      return (error as { code: string }).code;
    }
  };
  const before = configOf({ id: 'acme' }, { id: 'globex' });

  it.each<[string, AccessConfig, string]>([
    ['is honoured while nothing changed', before, 'acme'],
    [
      "is refused once the partner's client id was swapped (compromise)",
      configOf({ id: 'acme', clientId: 'acme-client-rotated' }, { id: 'globex' }),
      'unauthorized',
    ],
    [
      'is refused when the partner id was given to someone else',
      configOf({ id: 'globex' }, { id: 'acme', clientId: 'newcomer-client' }),
      'unauthorized',
    ],
    [
      'is refused when the partner id now names a subject',
      configOf({ id: 'acme', subject: 'svc-acme' }, { id: 'globex' }),
      'unauthorized',
    ],
    ['is refused once the partner is removed', configOf({ id: 'globex' }), 'unauthorized'],
    [
      'is honoured when another partner changed',
      configOf({ id: 'acme' }, { id: 'globex', clientId: 'globex-2' }, { id: 'initech' }),
      'acme',
    ],
    [
      "is honoured when the partner's grants changed (they are checked on every call)",
      configOf({ id: 'acme', operations: ['device/find', 'device/get'] }, { id: 'globex' }),
      'acme',
    ],
  ])('%s', async (_name, after, verdict) => {
    const event = await allowUnder(before, 'acme');
    expect(proxyUnder(after, event)).toBe(verdict);
  });

  it('is refused once its token has expired, however long API Gateway keeps it', async () => {
    const event = await allowUnder(before, 'acme');
    const context = event.requestContext.authorizer as Record<string, unknown>;
    // The same Allow, an hour and a second later (the local issuer's tokens live an hour).
    context[AUTHORIZER_CONTEXT.tokenExpiresAt] = String(Math.floor(Date.now() / 1000) - 1);
    expect(proxyUnder(before, event)).toBe('unauthorized');
  });
});
