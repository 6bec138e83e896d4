import { Aws, Token } from 'aws-cdk-lib';
import { LOCAL_ISSUER } from '../../dev/local-issuer';
import { grantedOperations } from '../../lambda/auth/partner-directory';
import { isWildcardGrantable } from '../../lambda/catalog/grants';
import { catalog, operationKey } from '../../lambda/catalog/index';
import {
  AccessConfigError,
  compactAccessConfig,
  isCognitoIssuer,
  issuerRules,
  type PartnerConfig,
  parseAccessConfig,
  parseAccessConfigJson,
  requiresAudience,
  usageIdentifierKey,
} from '../../lambda/config/access';
import { devAccessConfig } from '../support/access-fixtures';

const partner = (overrides: Record<string, unknown> = {}) => ({
  id: 'acme',
  operations: ['device/find'],
  accounts: ['ACC1'],
  identity: { issuer: LOCAL_ISSUER, clientId: 'acme-client' },
  ...overrides,
});
const config = (partners: unknown[], overrides: Record<string, unknown> = {}) => ({
  scope: 'ioto-bff/partner-api',
  issuers: [{ issuer: LOCAL_ISSUER }],
  partners,
  ...overrides,
});
const grants = (overrides: Record<string, unknown>) =>
  [
    ...grantedOperations(
      parseAccessConfig(config([partner(overrides)])).partners[0] as PartnerConfig,
    ),
  ].sort();

describe('parseAccessConfig', () => {
  it('accepts the shipped development configuration', () => {
    expect(devAccessConfig().partners.map((p) => p.id)).toEqual(['acme', 'globex', 'initech']);
  });

  it.each<[string, unknown[], RegExp]>([
    [
      'an unknown operation',
      [partner({ operations: ['device/remove'] })],
      /partners\[0\]\.operations\[0\]: unknown operation "device\/remove"/,
    ],
    [
      'a wildcard on an unknown controller',
      [partner({ operations: ['file/*'] })],
      /partners\[0\]\.operations\[0\]/,
    ],
    ['no account', [partner({ accounts: [] })], /partners\[0\]\.accounts/],
    [
      'an account id with spaces',
      [partner({ accounts: [' ACC1'] })],
      /partners\[0\]\.accounts\[0\]/,
    ],
    ['a bad partner id', [partner({ id: 'Acme Corp' })], /partners\[0\]\.id/],
    [
      'a duplicate partner id',
      [partner(), partner({ identity: { issuer: LOCAL_ISSUER, clientId: 'x' } })],
      /partners\[1\]\.id: duplicate/,
    ],
    [
      'a shared identity',
      [partner(), partner({ id: 'other' })],
      /partners\[1\]\.identity: another partner/,
    ],
    [
      'an identity of an unknown issuer',
      [partner({ identity: { issuer: 'https://x', clientId: 'c' } })],
      /partners\[0\]\.identity\.issuer/,
    ],
    ['an unknown field', [partner({ admin: true })], /partners\[0\]/],
    ['an empty device limit', [partner({ devices: {} })], /partners\[0\]\.devices/],
    [
      'a throttle without burst',
      [partner({ throttle: { rateLimit: 10 } })],
      /partners\[0\]\.throttle\.burstLimit/,
    ],
    [
      'actions without action/invoke',
      [partner({ operations: ['device/find'], actions: ['reboot-device'] })],
      /partners\[0\]\.actions: needs action\/invoke in operations/,
    ],
    [
      'actions with only a wildcard on the controller',
      [partner({ operations: ['action/*'], actions: ['reboot-device'] })],
      /partners\[0\]\.actions: needs action\/invoke/,
    ],
    [
      'actions on a read-only partner',
      [partner({ operations: ['action/invoke'], readOnly: true, actions: ['reboot-device'] })],
      /partners\[0\]\.actions: needs action\/invoke in operations \(and readOnly false\)/,
    ],
    [
      'action/invoke without actions',
      [partner({ operations: ['action/invoke'] })],
      /partners\[0\]\.actions: is required with action\/invoke/,
    ],
    [
      'an action wildcard',
      [partner({ operations: ['action/invoke'], actions: ['reboot-*'] })],
      /partners\[0\]\.actions\[0\]: must be an exact action name/,
    ],
    [
      'an empty action list',
      [partner({ operations: ['action/invoke'], actions: [] })],
      /partners\[0\]\.actions/,
    ],
    [
      'user/login, which the partner API does not offer',
      [partner({ operations: ['device/find', 'user/login'] })],
      /partners\[0\]\.operations\[1\]: "user\/login" is not offered: .*cloud owner/,
    ],
    [
      'an operation of assumed account scoping without the acknowledgement',
      [partner({ operations: ['device/find', 'dashboard/create'] })],
      /partners\[0\]\.operations\[1\]: "dashboard\/create" relies on account scoping Ioto does not document: list it in acceptAssumedScope/,
    ],
    [
      'an acknowledgement of an operation that is not granted',
      [partner({ operations: ['alert/find'], acceptAssumedScope: ['alert/find', 'alert/get'] })],
      /partners\[0\]\.acceptAssumedScope\[1\]: "alert\/get" is not in operations/,
    ],
    [
      'an acknowledgement of an operation whose scoping Ioto documents',
      [partner({ operations: ['device/find'], acceptAssumedScope: ['device/find'] })],
      /partners\[0\]\.acceptAssumedScope\[0\]: "device\/find" has no assumed account scoping to accept/,
    ],
    [
      'an acknowledgement by wildcard',
      [partner({ operations: ['alert/find'], acceptAssumedScope: ['alert/*', 'alert/find'] })],
      /partners\[0\]\.acceptAssumedScope\[0\]: "alert\/\*" has no assumed account scoping/,
    ],
    ...['alert', 'dashboard', 'user', 'account', 'action', 'provision'].map(
      (controller): [string, unknown[], RegExp] =>
        [
          `${controller}/*, which grants nothing`,
          [partner({ operations: ['device/find', `${controller}/*`] })],
          new RegExp(
            `partners\\[0\\]\\.operations\\[1\\]: "${controller}/\\*" grants nothing: every ${controller} operation needs its exact name`,
          ),
        ] as const,
    ),
  ])('refuses %s, naming the field', (_name, partners, message) => {
    expect(() => parseAccessConfig(config(partners))).toThrow(AccessConfigError);
    expect(() => parseAccessConfig(config(partners))).toThrow(message);
  });

  it('refuses a configuration without issuers or scope', () => {
    expect(() => parseAccessConfig(config([], { issuers: [] }))).toThrow(/issuers/);
    expect(() => parseAccessConfig(config([], { scope: 'two scopes' }))).toThrow(/scope/);
  });

  it('reports JSON syntax errors as configuration errors', () => {
    expect(() => parseAccessConfigJson('{"scope":', 'partners.json')).toThrow(
      /Invalid partners\.json: not JSON/,
    );
  });

  it('accepts action/invoke with the actions it may run and the acknowledgement', () => {
    const parsed = parseAccessConfig(
      config([
        partner({
          operations: ['action/invoke'],
          acceptAssumedScope: ['action/invoke'],
          actions: ['reboot-device'],
        }),
      ]),
    );
    expect(parsed.partners[0]?.actions).toEqual(['reboot-device']);
  });

  it('accepts operations of assumed account scoping granted by name with the acknowledgement', () => {
    const parsed = parseAccessConfig(
      config([
        partner({
          operations: ['device/*', 'dashboard/create', 'alert/find'],
          acceptAssumedScope: ['alert/find', 'dashboard/create'],
        }),
      ]),
    );
    expect(grantedOperations(parsed.partners[0] as PartnerConfig)).toEqual(
      new Set(['alert/find', 'dashboard/create', 'device/find', 'device/get', 'device/release']),
    );
  });

  it('defaults readOnly to false', () => {
    expect(parseAccessConfig(config([partner()])).partners[0]?.readOnly).toBe(false);
  });
});

describe('the issuers of an access configuration', () => {
  const COGNITO = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf';
  const OIDC = 'https://login.example.com/';
  /** A configuration of one issuer (its partner identified by it). */
  const withIssuer = (issuer: Record<string, unknown>) =>
    config([partner({ identity: { issuer: issuer.issuer, clientId: 'acme-client' } })], {
      issuers: [issuer],
    });
  const WAIVER = { reason: 'The IdP mints tokens for this API only (tenant ioto-bff).' };

  it.each<[string, Record<string, unknown>]>([
    ['a Cognito user pool without audience', { issuer: COGNITO }],
    [
      "the stack's own Cognito pool, named with CloudFormation tokens at synthesis",
      {
        issuer: `https://cognito-idp.${Aws.REGION}.amazonaws.com/${Token.asString({ Ref: 'Pool' })}`,
      },
    ],
    [
      'a Cognito pool in China',
      { issuer: 'https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_X' },
    ],
    ['an OIDC issuer with its audience', { issuer: OIDC, audience: ['https://api.example.com'] }],
    [
      'an OIDC issuer whose audience is waived, with a reason',
      { issuer: OIDC, audienceWaiver: WAIVER },
    ],
    ['an issuer named by no URL (the local issuer)', { issuer: LOCAL_ISSUER }],
    [
      'every token rule at its bounds',
      {
        issuer: COGNITO,
        jwksRefreshSeconds: 60,
        maxTokenLifetimeSeconds: 300,
        clockSkewSeconds: 0,
        requireTyp: true,
      },
    ],
    [
      'every token rule at its other bounds',
      {
        issuer: COGNITO,
        jwksRefreshSeconds: 3600,
        maxTokenLifetimeSeconds: 86_400,
        clockSkewSeconds: 300,
      },
    ],
  ])('accepts %s', (_name, issuer) => {
    expect(parseAccessConfig(withIssuer(issuer)).issuers).toEqual([issuer]);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'an OIDC issuer without audience',
      { issuer: OIDC },
      /issuers\[0\]\.audience: is required for an issuer other than Cognito .*audienceWaiver/,
    ],
    [
      'an http issuer without audience',
      { issuer: 'http://keycloak.internal:8080/realms/partners' },
      /issuers\[0\]\.audience: is required/,
    ],
    [
      'a look-alike of Cognito on another host',
      { issuer: 'https://cognito-idp.eu-west-1.evil.example/eu-west-1_AbCdEf' },
      /issuers\[0\]\.audience: is required/,
    ],
    [
      'a look-alike of Cognito hiding its host before a query',
      { issuer: 'https://cognito-idp.evil.example?.amazonaws.com/eu-west-1_AbCdEf' },
      /issuers\[0\]\.audience: is required/,
    ],
    [
      'an audience waiver without a reason',
      { issuer: OIDC, audienceWaiver: {} },
      /issuers\[0\]\.audienceWaiver\.reason/,
    ],
    [
      'an audience waiver with a reason of a few words',
      { issuer: OIDC, audienceWaiver: { reason: 'no aud' } },
      /issuers\[0\]\.audienceWaiver\.reason/,
    ],
    [
      'both an audience and its waiver',
      { issuer: OIDC, audience: ['api'], audienceWaiver: WAIVER },
      /issuers\[0\]\.audienceWaiver: cannot go with audience/,
    ],
    [
      'an audience waiver for Cognito',
      { issuer: COGNITO, audienceWaiver: WAIVER },
      /issuers\[0\]\.audienceWaiver: waives nothing/,
    ],
    [
      'a JWKS refresh under a minute',
      { issuer: COGNITO, jwksRefreshSeconds: 59 },
      /issuers\[0\]\.jwksRefreshSeconds/,
    ],
    [
      'a JWKS refresh over an hour',
      { issuer: COGNITO, jwksRefreshSeconds: 3601 },
      /issuers\[0\]\.jwksRefreshSeconds/,
    ],
    [
      'a token lifetime ceiling over a day',
      { issuer: COGNITO, maxTokenLifetimeSeconds: 86_401 },
      /issuers\[0\]\.maxTokenLifetimeSeconds/,
    ],
    [
      'a token lifetime ceiling under five minutes',
      { issuer: COGNITO, maxTokenLifetimeSeconds: 299 },
      /issuers\[0\]\.maxTokenLifetimeSeconds/,
    ],
    [
      'a clock skew over five minutes',
      { issuer: COGNITO, clockSkewSeconds: 301 },
      /issuers\[0\]\.clockSkewSeconds/,
    ],
    [
      'a typ rule that is not a boolean',
      { issuer: COGNITO, requireTyp: 'at+jwt' },
      /issuers\[0\]\.requireTyp/,
    ],
  ])('refuses %s, naming the field', (_name, issuer, message) => {
    expect(() => parseAccessConfig(withIssuer(issuer))).toThrow(AccessConfigError);
    expect(() => parseAccessConfig(withIssuer(issuer))).toThrow(message);
  });

  it('applies safe defaults to the token rules an issuer leaves out', () => {
    expect(issuerRules({ issuer: COGNITO })).toEqual({
      jwksRefreshSeconds: 300,
      maxTokenLifetimeSeconds: 86_400,
      clockSkewSeconds: 60,
      requireTyp: false,
    });
  });

  it.each<[string, boolean, boolean]>([
    [COGNITO, true, false],
    ['https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_Ab12', true, false],
    ['https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf/', false, true],
    ['https://cognito-idp.eu-west-1.amazonaws.com.evil.example/eu-west-1_AbCdEf', false, true],
    ['https://cognito-idp.eu-west-1.amazonaws.com@evil.example/x', false, true],
    [OIDC, false, true],
    ['urn:ioto-bff:local-issuer', false, false],
    ['not a url', false, false],
  ])('tells %s: Cognito %p, needs an audience %p', (issuer, cognito, needsAudience) => {
    expect(isCognitoIssuer(issuer)).toBe(cognito);
    expect(requiresAudience(issuer)).toBe(needsAudience);
  });
});

describe('grantedOperations', () => {
  it('grants exact names', () => {
    expect(grants({ operations: ['device/getCreds', 'user/getRoles'] })).toEqual([
      'device/getCreds',
      'user/getRoles',
    ]);
  });

  it('grants through a wildcard only scopable read and write operations Ioto scopes', () => {
    // device/claim's account scoping is assumed; the credential operations need their name.
    expect(grants({ operations: ['device/*'] })).toEqual([
      'device/find',
      'device/get',
      'device/release',
    ]);
    // generic/create and generic/remove: assumed account scoping.
    expect(grants({ operations: ['generic/*', 'store/*', 'metric/*'] })).toEqual([
      'generic/find',
      'generic/get',
      'generic/update',
      'metric/fetch',
      'store/get',
      'store/set',
    ]);
  });

  it.each(catalog.filter((op) => !isWildcardGrantable(op)).map(operationKey))(
    'never grants %s through a wildcard',
    (key) => {
      const controller = key.split('/')[0];
      // Straight to the expansion: the schema refuses a wildcard that grants nothing.
      const wildcard = { ...partner({ operations: [`${controller}/*`] }), readOnly: false };
      expect(grantedOperations(wildcard as PartnerConfig)).not.toContain(key);
    },
  );

  it('takes every mutating operation away from a read-only partner, even by exact name', () => {
    expect(
      grants({
        readOnly: true,
        operations: ['device/*', 'store/set', 'device/getCreds', 'account/get'],
      }),
    ).toEqual(['account/get', 'device/find', 'device/get']);
  });

  it('grants nothing by default', () => {
    expect(grants({ operations: [] })).toEqual([]);
  });
});

describe('usageIdentifierKey', () => {
  it('is at least the 20 characters API Gateway requires, and distinct per partner', () => {
    expect(usageIdentifierKey('ab').length).toBeGreaterThanOrEqual(20);
    expect(usageIdentifierKey('acme')).not.toBe(usageIdentifierKey('globex'));
  });
});

describe('compactAccessConfig', () => {
  const full = parseAccessConfig(
    config([
      partner({
        operations: ['device/find', 'action/invoke'],
        acceptAssumedScope: ['action/invoke'],
        actions: ['reboot-device'],
        throttle: { rateLimit: 5, burstLimit: 10 },
        quota: { limit: 9, period: 'DAY' },
        description: 'x',
      }),
      partner({ id: 'other', identity: { issuer: LOCAL_ISSUER, subject: 'svc-other' } }),
    ]),
  );

  it('leaves out usage-plan settings, descriptions and the sole issuer', () => {
    const compact = compactAccessConfig(full);
    const text = JSON.stringify(compact);
    expect(text).not.toMatch(/throttle|quota|description/);
    expect((compact.partners as { identity: object }[]).map((p) => p.identity)).toEqual([
      { clientId: 'acme-client' },
      { subject: 'svc-other' },
    ]);
    expect(text.length).toBeLessThan(JSON.stringify(full).length);
  });

  it('reads back as the same grants and identities', () => {
    const back = parseAccessConfig(compactAccessConfig(full));
    const view = (p: PartnerConfig) => [p.id, p.identity, p.operations, p.accounts, p.actions];
    expect(back.partners.map(view)).toEqual(full.partners.map(view));
  });

  it('keeps issuers when there are several, and requires them then', () => {
    const two = config([partner()], {
      issuers: [{ issuer: LOCAL_ISSUER }, { issuer: 'https://other', audience: ['api'] }],
    });
    const parsed = parseAccessConfig(two);
    expect(JSON.stringify(compactAccessConfig(parsed))).toContain(`"issuer":"${LOCAL_ISSUER}"`);
    expect(() =>
      parseAccessConfig({ ...two, partners: [partner({ identity: { clientId: 'c' } })] }),
    ).toThrow(/partners\[0\]\.identity/);
  });
});
