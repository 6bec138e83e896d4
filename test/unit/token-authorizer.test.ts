import { generateKeyPairSync, randomBytes, sign as signBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { FetchError, NonRetryableFetchError } from 'aws-jwt-verify/error';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import fc from 'fast-check';
import { policyAllows } from '../../dev/local-gateway/api-gateway-emulator';
import {
  type IssuerKey,
  jwksOf,
  LOCAL_ISSUER,
  loadOrCreateIssuerKey,
  mintPartnerToken,
  signJwt,
} from '../../dev/local-issuer';
import { identityFingerprint } from '../../lambda/auth/identity-fingerprint';
import { PartnerDirectory } from '../../lambda/auth/partner-directory';
import {
  type AccessTokenVerifier,
  AUTHORIZER_ALLOWED_METRIC,
  AUTHORIZER_FAILURES_METRIC,
  AUTHORIZER_REFUSALS_METRIC,
  acceptedTokenType,
  createAccessTokenVerifier,
  createTokenAuthorizer,
  stageRoutesArn,
} from '../../lambda/auth/token-authorizer';
import {
  type AccessConfig,
  parseAccessConfig,
  usageIdentifierKey,
} from '../../lambda/config/access';
import { AuthorizerUnavailableError } from '../../lambda/problems/problem-error';
import { devAccessConfig, globexClaims, nowSeconds, TEST_SCOPE } from '../support/access-fixtures';
import { captureOutput } from '../support/capture-output';

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/v1/device/find';
const JWKS_URI = 'https://issuer.example/jwks.json';
const access = devAccessConfig();
/** The development configuration with its issuer's JWKS at {@link JWKS_URI}. */
const localAccess: AccessConfig = {
  ...access,
  issuers: access.issuers.map((i) => ({ ...i, jwksUri: JWKS_URI })),
};
const keyFile = () => join(tmpdir(), `ioto-bff-key-${randomBytes(6).toString('hex')}.json`);
const now = nowSeconds;
const claims = globexClaims;

/** Keys the issuer publishes besides its signing key, none with an `alg`. */
const publicJwk = (type: 'rsa' | 'ec' | 'ed25519', extra: Record<string, string>) => {
  const { publicKey } =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return { ...publicKey.export({ format: 'jwk' }), ...extra };
};
const OTHER_KEYS = [
  publicJwk('rsa', { kid: 'rsa-without-alg', use: 'sig' }),
  publicJwk('ec', { kid: 'ec-without-alg' }),
  publicJwk('ed25519', { kid: 'ed25519-without-alg' }),
  publicJwk('ec', { kid: 'encryption-key', use: 'enc' }),
];

const bytesOf = (value: unknown): ArrayBuffer => {
  const buffer = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length) as ArrayBuffer;
};

/** A Metrics stand-in that records what is counted. */
const recordingMetrics = () => {
  const added: { name: string; unit: string; value: number }[] = [];
  return {
    added,
    addMetric: (name: string, unit: string, value: number) => {
      added.push({ name, unit, value });
    },
  };
};

let key: IssuerKey;
let otherKey: IssuerKey;
let output: ReturnType<typeof captureOutput>;
const logger = new Logger({ logLevel: 'INFO' });

beforeAll(async () => {
  key = await loadOrCreateIssuerKey(keyFile());
  otherKey = await loadOrCreateIssuerKey(keyFile());
  output = captureOutput();
});

afterAll(() => {
  output.restore();
});

/**
 * The authorizer over an issuer whose JWKS `fetch` answers (from memory: the same verifier
 * code, without a network), with a fresh JWKS cache and metrics.
 */
function authorizerOver(
  fetch: (uri: string) => Promise<ArrayBuffer> = async () =>
    bytesOf({ keys: [...jwksOf(key).keys, ...OTHER_KEYS] }),
  overrides: { verifier?: AccessTokenVerifier; directory?: PartnerDirectory } = {},
) {
  const fetcher = { fetch: jest.fn(fetch) };
  const metrics = recordingMetrics();
  const verifier =
    overrides.verifier ?? createAccessTokenVerifier(localAccess, new SimpleJwksCache({ fetcher }));
  const directory = overrides.directory ?? new PartnerDirectory(access);
  const authorize = createTokenAuthorizer({
    context: async () => ({ verifier, directory }),
    logger,
    metrics,
  });
  return { authorize, metrics, fetcher };
}

const event = (authorizationToken: string, methodArn = METHOD_ARN) => ({
  type: 'TOKEN' as const,
  authorizationToken,
  methodArn,
});

/** Runs one authorization that must throw; returns the error, its log records and its metrics. */
async function refusedOrFailed(
  rig: ReturnType<typeof authorizerOver>,
  authorizationToken: string,
  methodArn = METHOD_ARN,
) {
  const before = output.records().length;
  const textBefore = output.text().length;
  const error = await rig.authorize(event(authorizationToken, methodArn)).then(
    (result: APIGatewayAuthorizerResult) => {
      throw new Error(`expected a refusal or failure, got ${JSON.stringify(result)}`);
    },
    (thrown: unknown) => thrown as Error,
  );
  return {
    error,
    records: output.records().slice(before),
    text: output.text().slice(textBefore),
    metrics: rig.metrics.added,
  };
}

/** The token (and each of its parts long enough to matter) appears nowhere. */
const expectNoTrace = (token: string, ...texts: string[]) => {
  const pieces = [token, ...token.split(/[ .]/)].filter((piece) => piece.length >= 16);
  for (const text of texts) for (const piece of pieces) expect(text).not.toContain(piece);
};

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A token with any header and signature: what a forger can send. */
const forged = (header: Record<string, unknown>, signature: Buffer, payload = claims()) =>
  `${b64(header)}.${b64(payload)}.${signature.toString('base64url')}`;
const unsigned = (payload: Record<string, unknown>) =>
  `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;

describe('the token authorizer', () => {
  it('allows a partner access token and returns its context and usage-plan key', async () => {
    const { authorize, metrics } = authorizerOver();
    const token = mintPartnerToken(key, access, 'globex');
    const exp = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).exp;
    const globex = new PartnerDirectory(access).byId('globex');
    if (globex === undefined) throw new Error('the development configuration has no globex');
    const result = await authorize(event(`Bearer ${token}`));
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
      // What the proxy checks again on every call: who, under which identity, until when.
      context: {
        partnerId: 'globex',
        identityFingerprint: identityFingerprint(globex),
        tokenExpiresAt: String(exp),
      },
      usageIdentifierKey: usageIdentifierKey('globex'),
    });
    // Each token API Gateway has not cached yet: one AuthorizerAllowed.
    expect(metrics.added).toEqual([{ name: AUTHORIZER_ALLOWED_METRIC, unit: 'Count', value: 1 }]);
  });

  it('returns a policy that stays right when API Gateway caches it for other routes', async () => {
    const { authorize } = authorizerOver();
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
    const { authorize } = authorizerOver();
    const token = mintPartnerToken(key, access, 'globex');
    await expect(authorize(event(`bearer ${token}`))).resolves.toMatchObject({
      principalId: 'globex',
    });
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

describe('a token the authorizer refuses', () => {
  const sign = (overrides: Record<string, unknown>, typ?: string) =>
    `Bearer ${signJwt(key, claims(overrides), typ)}`;

  it.each<[string, () => string, string]>([
    ['no token', () => '', 'no bearer token'],
    [
      'a token without the Bearer scheme',
      () => mintPartnerToken(key, access, 'globex'),
      'no bearer token',
    ],
    ['a Basic credential', () => 'Basic Z2xvYmV4OnNlY3JldA==', 'no bearer token'],
    ['garbage', () => 'Bearer not-a-jwt', 'no bearer token'],
    ['a token whose header is not JSON', () => 'Bearer a.b.c', 'malformed token'],
    ['an expired token', () => sign({ iat: now() - 7200, exp: now() - 3600 }), 'expired'],
    ['a token not yet valid', () => sign({ nbf: now() + 3600 }), 'not yet valid'],
    ['a token without expiry', () => sign({ exp: undefined }), 'no expiry'],
    [
      'a token signed with another key',
      () => `Bearer ${signJwt({ ...otherKey, kid: key.kid }, claims())}`,
      'bad signature',
    ],
    [
      'a token with an unknown key id',
      () => `Bearer ${signJwt(otherKey, claims())}`,
      'unknown key id',
    ],
    [
      'a token without a key id',
      () => `Bearer ${forged({ alg: 'ES256' }, randomBytes(64))}`,
      'no key id',
    ],
    ['an alg none token', () => `Bearer ${unsigned(claims())}`, 'malformed token'],
    [
      'a token from another issuer',
      () => sign({ iss: 'https://evil.example' }),
      'issuer not accepted',
    ],
    ['a token without issuer', () => sign({ iss: undefined }), 'issuer not accepted'],
    ['a token for another scope', () => sign({ scope: 'other-api/read' }), 'scope not granted'],
    ['a token without scope', () => sign({ scope: undefined }), 'scope not granted'],
    [
      'an ID token',
      () => sign({ token_use: 'id', scope: undefined, aud: 'globex-local-client' }, 'JWT'),
      'scope not granted',
    ],
    ['an ID token that carries the scope', () => sign({ token_use: 'id' }), 'not an access token'],
    [
      'a token of an identity no partner has',
      () => sign({ client_id: 'hooli-client', sub: 'hooli-client' }),
      'no partner for this identity',
    ],
    [
      'a tampered payload',
      () => {
        const [h, , s] = mintPartnerToken(key, access, 'acme').split('.');
        return `Bearer ${h}.${b64(claims())}.${s}`;
      },
      'bad signature',
    ],
    // Node's crypto throws on these instead of answering "invalid": still the token's fault.
    [
      'an ES256 token whose signature is too short',
      () => `Bearer ${forged({ alg: 'ES256', kid: key.kid }, randomBytes(3))}`,
      'bad signature',
    ],
    [
      'an RS256 token naming the EC signing key',
      () => `Bearer ${forged({ alg: 'RS256', kid: key.kid }, randomBytes(256))}`,
      'algorithm not accepted',
    ],
    [
      'an ES256 token naming an Ed25519 key that declares no algorithm',
      () => `Bearer ${forged({ alg: 'ES256', kid: 'ed25519-without-alg' }, randomBytes(64))}`,
      'algorithm not accepted',
    ],
    [
      'an ES512 token naming a P-256 key that declares no algorithm',
      () => `Bearer ${forged({ alg: 'ES512', kid: 'ec-without-alg' }, randomBytes(132))}`,
      'algorithm not accepted',
    ],
    [
      'a token naming an encryption key',
      () => `Bearer ${forged({ alg: 'ES256', kid: 'encryption-key' }, randomBytes(64))}`,
      'not a signing key',
    ],
  ])(
    'refuses %s with Unauthorized, logs the reason at info and counts one refusal',
    async (_name, token, reason) => {
      const rig = authorizerOver();
      const credential = token();
      const { error, records, text, metrics } = await refusedOrFailed(rig, credential);
      expect(error.message).toBe('Unauthorized');
      expect(metrics).toEqual([{ name: AUTHORIZER_REFUSALS_METRIC, unit: 'Count', value: 1 }]);
      expect(records).toEqual([
        expect.objectContaining({ level: 'INFO', message: 'authorization refused', reason }),
      ]);
      expectNoTrace(credential, text, error.message, String(error.stack));
    },
  );

  it('refuses a second unknown key id while aws-jwt-verify backs off from the JWKS', async () => {
    const rig = authorizerOver();
    for (const kid of ['unknown-1', 'unknown-2']) {
      const token = `Bearer ${signJwt({ ...otherKey, kid }, claims())}`;
      const { error } = await refusedOrFailed(rig, token);
      expect(error.message).toBe('Unauthorized');
    }
    expect(rig.fetcher.fetch).toHaveBeenCalledTimes(1);
    expect(rig.metrics.added.map((m) => m.name)).toEqual([
      AUTHORIZER_REFUSALS_METRIC,
      AUTHORIZER_REFUSALS_METRIC,
    ]);
    expect(
      output
        .records()
        .slice(-2)
        .map((r) => r.reason),
    ).toEqual(['unknown key id', 'unknown key id']);
  });

  it('refuses a token of an unknown issuer without fetching any JWKS', async () => {
    const rig = authorizerOver();
    const token = `Bearer ${signJwt(key, claims({ iss: 'https://evil.example' }))}`;
    expect((await refusedOrFailed(rig, token)).error.message).toBe('Unauthorized');
    expect(rig.fetcher.fetch).not.toHaveBeenCalled();
  });

  it('refuses, and never fails on, any forged signature for any published key (fast-check, seeded)', async () => {
    const rig = authorizerOver();
    const kids = [key.kid, ...OTHER_KEYS.map((k) => String(k.kid)), 'unknown'];
    const algs = ['RS256', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'PS256', 'none'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...algs),
        fc.constantFrom(...kids),
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        async (alg, kid, signature) => {
          const token = `Bearer ${forged({ alg, kid }, Buffer.from(signature))}`;
          const { error } = await refusedOrFailed(rig, token);
          expect(error.message).toBe('Unauthorized');
        },
      ),
      { seed: 20261126, numRuns: 300, endOnFailure: true },
    );
    expect(rig.metrics.added.every((m) => m.name === AUTHORIZER_REFUSALS_METRIC)).toBe(true);
  });
});

describe("an issuer's token rules", () => {
  const DAY = 86_400;
  const TEN_YEARS = 10 * 365 * DAY;
  /** Signs `payload` under exactly `header` (plus `alg` and `kid`): any `typ`, or none. */
  const signedWith = (header: Record<string, unknown>, payload: Record<string, unknown>) => {
    const input = `${b64({ alg: 'ES256', kid: key.kid, ...header })}.${b64(payload)}`;
    const signature = signBytes('sha256', Buffer.from(input), {
      key: key.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return `Bearer ${input}.${signature.toString('base64url')}`;
  };
  const typed = (typ: unknown, overrides: Record<string, unknown> = {}) =>
    signedWith(typ === undefined ? {} : { typ }, claims(overrides));
  /** The authorizer over `config`, its issuers' keys served from memory. */
  const authorizerFor = (config: AccessConfig) =>
    authorizerOver(undefined, {
      verifier: createAccessTokenVerifier(
        config,
        new SimpleJwksCache({ fetcher: { fetch: async () => bytesOf(jwksOf(key)) } }),
      ),
      directory: new PartnerDirectory(config),
    });
  /** The development configuration with its issuer's rules set. */
  const devWith = (rules: Record<string, unknown>): AccessConfig =>
    parseAccessConfig({
      ...localAccess,
      issuers: localAccess.issuers.map((issuer) => ({ ...issuer, ...rules })),
    });

  it.each<[string, () => string]>([
    [
      'a token valid for exactly the default ceiling of 24 h',
      () => typed('at+jwt', { iat: now() - 60, exp: now() - 60 + DAY }),
    ],
    ['a token issued less than the clock skew ahead', () => typed('at+jwt', { iat: now() + 30 })],
    ['a token whose nbf has passed', () => typed('at+jwt', { nbf: now() - 10 })],
    ['a token without typ, as Cognito issues them', () => typed(undefined)],
    ['a token typed JWT', () => typed('JWT')],
    ['a token typed at+jwt (RFC 9068)', () => typed('at+jwt')],
    ['a token typed application/AT+JWT', () => typed('application/AT+JWT')],
  ])('allows %s', async (_name, token) => {
    await expect(authorizerOver().authorize(event(token()))).resolves.toMatchObject({
      principalId: 'globex',
    });
  });

  it.each<[string, () => string, string]>([
    [
      'a token valid for a second more than 24 h',
      () => typed('at+jwt', { iat: now() - 60, exp: now() - 59 + DAY }),
      'lifetime too long',
    ],
    [
      'a token valid for ten years',
      () => typed('at+jwt', { exp: now() + TEN_YEARS }),
      'lifetime too long',
    ],
    [
      'a token valid for ten years, issued ten years ahead',
      () => typed('at+jwt', { iat: now() + TEN_YEARS, exp: now() + 2 * TEN_YEARS }),
      'issued in the future',
    ],
    [
      'a token issued two minutes ahead',
      () => typed('at+jwt', { iat: now() + 120 }),
      'issued in the future',
    ],
    ['a token without iat', () => typed('at+jwt', { iat: undefined }), 'no issue time'],
    [
      'a token not valid before an hour',
      () => typed('at+jwt', { nbf: now() + 3600 }),
      'not yet valid',
    ],
    ['a token typed logout+jwt', () => typed('logout+jwt'), 'token type not accepted'],
    [
      "a token typed as Okta's internal access token",
      () => typed('application/okta-internal-at+jwt'),
      'token type not accepted',
    ],
    ['a token whose typ is a number', () => typed(42), 'token type not accepted'],
  ])(
    'refuses %s with Unauthorized and names the partner its verified claims identify',
    async (_name, token, reason) => {
      const credential = token();
      const { error, records, text } = await refusedOrFailed(authorizerOver(), credential);
      expect(error.message).toBe('Unauthorized');
      expect(records).toEqual([
        expect.objectContaining({ message: 'authorization refused', reason, partnerId: 'globex' }),
      ]);
      expectNoTrace(credential, text);
    },
  );

  it.each<[string, () => string, string]>([
    [
      'a forged signature',
      () => `Bearer ${signJwt({ ...otherKey, kid: key.kid }, claims())}`,
      'bad signature',
    ],
    ['an unknown key id', () => `Bearer ${signJwt(otherKey, claims())}`, 'unknown key id'],
    [
      'an identity no partner has',
      () => `Bearer ${signJwt(key, claims({ client_id: 'hooli', sub: 'hooli' }))}`,
      'no partner for this identity',
    ],
    // aws-jwt-verify refuses time claims that are not numbers before it checks the signature.
    ['a token whose iat is text', () => typed('at+jwt', { iat: String(now()) }), 'malformed token'],
    ['a token whose nbf is text', () => typed('at+jwt', { nbf: 'soon' }), 'malformed token'],
  ])('names no partner when it refuses %s', async (_name, token, reason) => {
    const { records } = await refusedOrFailed(authorizerOver(), token());
    expect(records).toEqual([expect.objectContaining({ reason })]);
    expect(records[0]).not.toHaveProperty('partnerId');
  });

  it('takes its lifetime ceiling, clock skew and typ rule from the issuer configuration', async () => {
    const strict = authorizerFor(
      devWith({ maxTokenLifetimeSeconds: 3600, clockSkewSeconds: 0, requireTyp: true }),
    );
    const hour = { iat: now() - 60, exp: now() - 60 + 3600 };
    await expect(strict.authorize(event(typed('at+jwt', hour)))).resolves.toMatchObject({
      principalId: 'globex',
    });
    await expect(strict.authorize(event(typed('application/at+jwt', hour)))).resolves.toMatchObject(
      { principalId: 'globex' },
    );
    const refusals: [string, string][] = [
      [typed('at+jwt', { iat: now() - 60, exp: now() - 59 + 3600 }), 'lifetime too long'],
      [typed('at+jwt', { iat: now() + 30 }), 'issued in the future'],
      [typed(undefined), 'token type not accepted'],
      [typed('JWT'), 'token type not accepted'],
    ];
    for (const [token, reason] of refusals) {
      const { error, records } = await refusedOrFailed(strict, token);
      expect(error.message).toBe('Unauthorized');
      expect(records).toEqual([expect.objectContaining({ reason })]);
    }
  });

  describe('of an OIDC issuer', () => {
    const IDP = 'https://idp.example';
    const API = 'https://api.ioto-bff.example';
    const oidc = (issuer: Record<string, unknown>) =>
      parseAccessConfig({
        scope: TEST_SCOPE,
        issuers: [{ issuer: IDP, jwksUri: JWKS_URI, ...issuer }],
        partners: [
          {
            id: 'hooli',
            operations: ['device/find'],
            accounts: ['ACC1'],
            identity: { issuer: IDP, clientId: 'hooli-client' },
          },
        ],
      });
    const hooli = (overrides: Record<string, unknown>) =>
      `Bearer ${signJwt(key, claims({ iss: IDP, client_id: 'hooli-client', sub: 'hooli-client', ...overrides }))}`;

    it.each<[string, Record<string, unknown>]>([
      ['its audience', { aud: API }],
      ['its audience among others', { aud: ['https://other.example', API] }],
    ])('allows a token for %s', async (_name, aud) => {
      const rig = authorizerFor(oidc({ audience: [API] }));
      await expect(rig.authorize(event(hooli(aud)))).resolves.toMatchObject({
        principalId: 'hooli',
      });
    });

    it.each<[string, Record<string, unknown>]>([
      ['another API that carries the scope', { aud: 'https://billing.example' }],
      ['no audience at all', { aud: undefined }],
    ])('refuses a token minted for %s', async (_name, aud) => {
      const rig = authorizerFor(oidc({ audience: [API] }));
      const { error, records } = await refusedOrFailed(rig, hooli(aud));
      expect(error.message).toBe('Unauthorized');
      expect(records).toEqual([
        expect.objectContaining({ reason: 'audience not accepted', partnerId: 'hooli' }),
      ]);
    });

    it('allows a token without audience when the configuration waives it, with a reason', async () => {
      const rig = authorizerFor(
        oidc({ audienceWaiver: { reason: 'This IdP issues tokens for this one API only.' } }),
      );
      await expect(rig.authorize(event(hooli({ aud: undefined })))).resolves.toMatchObject({
        principalId: 'hooli',
      });
    });
  });
});

describe('acceptedTokenType', () => {
  it.each<[unknown, boolean, boolean]>([
    [undefined, true, false],
    ['JWT', true, false],
    ['jwt', true, false],
    ['at+jwt', true, true],
    ['application/at+jwt', true, true],
    ['Application/At+JWT', true, true],
    ['at+JWT ', false, false],
    ['JOSE', false, false],
    ['id_token+jwt', false, false],
    ['dpop+jwt', false, false],
    [null, false, false],
    [['at+jwt'], false, false],
  ])('typ %p: %p by default, %p when the issuer requires at+jwt', (typ, loose, strict) => {
    expect(acceptedTokenType(typ, false)).toBe(loose);
    expect(acceptedTokenType(typ, true)).toBe(strict);
  });
});

describe('an authorization the authorizer cannot decide', () => {
  const rejectsWith = (error: Error) => async () => {
    throw error;
  };
  const answers = (body: unknown) => async () => bytesOf(body);
  // The key is made in beforeAll, after the table is built: read it when the JWKS is fetched.
  const signingKeyWith = (fields: Record<string, unknown>) => async () =>
    bytesOf({ keys: [{ ...key.publicJwk, ...fields }] });

  it.each<[string, (uri: string) => Promise<ArrayBuffer>, string]>([
    [
      'the JWKS is unreachable (aws-jwt-verify: network error or time-out)',
      rejectsWith(new FetchError(JWKS_URI, 'connect ECONNREFUSED 127.0.0.1:443')),
      'JWKS unreachable',
    ],
    [
      'the JWKS answers a non-2xx status (aws-jwt-verify)',
      rejectsWith(new NonRetryableFetchError(JWKS_URI, 'Status code is 500, expected 200')),
      'JWKS refused',
    ],
    [
      'the JWKS fetch rejects with an error of its own',
      rejectsWith(new TypeError('fetch failed')),
      'unexpected error',
    ],
    ['the JWKS is not JSON', answers('<html>Bad gateway</html>'), 'JWKS invalid'],
    ['the JWKS has no keys', answers({ keys: 'none' }), 'JWKS invalid'],
    ['the JWKS holds a malformed key', answers({ keys: [{ kty: 7 }] }), 'JWKS key invalid'],
    ['the signing key lacks its coordinates', signingKeyWith({ x: undefined }), 'JWKS key invalid'],
    [
      'the signing key cannot be imported',
      signingKeyWith({ x: 'not-a-point-on-the-curve' }),
      'unexpected error',
    ],
  ])(
    'fails when %s: not Unauthorized, logged at error, one failure counted',
    async (_name, fetch, reason) => {
      const rig = authorizerOver(fetch);
      const credential = `Bearer ${mintPartnerToken(key, access, 'globex')}`;
      const { error, records, text, metrics } = await refusedOrFailed(rig, credential);
      expect(error).toBeInstanceOf(AuthorizerUnavailableError);
      expect(error.message).not.toBe('Unauthorized');
      expect(metrics).toEqual([{ name: AUTHORIZER_FAILURES_METRIC, unit: 'Count', value: 1 }]);
      expect(records).toEqual([
        expect.objectContaining({ level: 'ERROR', message: 'authorization failed', reason }),
      ]);
      expectNoTrace(credential, text, error.message, String(error.stack));
    },
  );

  it('fails, naming no token, when something unexpected throws with the token in its message', async () => {
    const verifier = {
      verify: async (jwt: string) => {
        throw new TypeError(`Cannot read properties of undefined (reading '${jwt}')`);
      },
    };
    const rig = authorizerOver(undefined, { verifier });
    const credential = `Bearer ${mintPartnerToken(key, access, 'globex')}`;
    const { error, records, text, metrics } = await refusedOrFailed(rig, credential);
    expect(error).toBeInstanceOf(AuthorizerUnavailableError);
    expect(metrics).toEqual([{ name: AUTHORIZER_FAILURES_METRIC, unit: 'Count', value: 1 }]);
    expect(records).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'authorization failed',
        reason: 'unexpected error',
        error: expect.objectContaining({ message: expect.stringContaining('[token]') }),
      }),
    ]);
    expectNoTrace(credential, text, error.message, String(error.stack));
  });

  it('fails when the partner directory throws', async () => {
    const directory = new PartnerDirectory(access);
    jest.spyOn(directory, 'byToken').mockImplementation(() => {
      throw new RangeError('index out of range');
    });
    const rig = authorizerOver(undefined, { directory });
    const { error, metrics } = await refusedOrFailed(
      rig,
      `Bearer ${mintPartnerToken(key, access, 'globex')}`,
    );
    expect(error).toBeInstanceOf(AuthorizerUnavailableError);
    expect(metrics.map((m) => m.name)).toEqual([AUTHORIZER_FAILURES_METRIC]);
  });

  it('fails on a method ARN it does not understand', async () => {
    const rig = authorizerOver();
    const { error, metrics } = await refusedOrFailed(
      rig,
      `Bearer ${mintPartnerToken(key, access, 'globex')}`,
      'not-an-arn',
    );
    expect(error).toBeInstanceOf(AuthorizerUnavailableError);
    expect(metrics.map((m) => m.name)).toEqual([AUTHORIZER_FAILURES_METRIC]);
  });

  it('allows the same token once the JWKS answers again', async () => {
    let down = true;
    const rig = authorizerOver(async () => {
      if (down) throw new FetchError(JWKS_URI, 'socket hang up');
      return bytesOf(jwksOf(key));
    });
    const credential = `Bearer ${mintPartnerToken(key, access, 'globex')}`;
    expect((await refusedOrFailed(rig, credential)).error).toBeInstanceOf(
      AuthorizerUnavailableError,
    );
    down = false;
    await expect(rig.authorize(event(credential))).resolves.toMatchObject({
      principalId: 'globex',
    });
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
