import { localGatewayEnvSchema } from '../../dev/local-gateway/env';
import { awsProxyEnvSchema, ConfigurationError, readEnv } from '../../lambda/config/env';

const aws = {
  IOTO_ENDPOINT: 'https://abc.execute-api.eu-west-1.amazonaws.com',
  IOTO_TOKEN_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ioto-token',
  PAGE_TOKEN_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:page-key',
  IDEMPOTENCY_TABLE_NAME: 'ioto-bff-idempotency',
  ACCESS_CONFIG_APPLICATION: 'app',
  ACCESS_CONFIG_ENVIRONMENT: 'env',
  ACCESS_CONFIG_PROFILE: 'profile',
};

describe('readEnv', () => {
  it('applies the documented defaults', () => {
    expect(readEnv(awsProxyEnvSchema, aws)).toMatchObject({
      IOTO_AUTH_SCHEME: 'raw',
      UPSTREAM_TIMEOUT_MS: 8000,
      TOKEN_CACHE_SECONDS: 300,
      PAGE_LIMIT_DEFAULT: 25,
      PAGE_LIMIT_MAX: 100,
      MAX_BODY_BYTES: 262144,
    });
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(readEnv(awsProxyEnvSchema, aws))).toBe(true);
  });

  it.each([
    [
      'a plain-http endpoint off loopback',
      { IOTO_ENDPOINT: 'http://ioto.example.com' },
      'IOTO_ENDPOINT',
    ],
    [
      'an endpoint with credentials',
      { IOTO_ENDPOINT: 'https://u:p@ioto.example.com' },
      'IOTO_ENDPOINT',
    ],
    ['a missing token secret', { IOTO_TOKEN_SECRET_ID: '' }, 'IOTO_TOKEN_SECRET_ID'],
    ['an unknown auth scheme', { IOTO_AUTH_SCHEME: 'basic' }, 'IOTO_AUTH_SCHEME'],
    ['a deadline beyond API Gateway', { UPSTREAM_TIMEOUT_MS: '30000' }, 'UPSTREAM_TIMEOUT_MS'],
    ['a non-numeric limit', { PAGE_LIMIT_MAX: 'ten' }, 'PAGE_LIMIT_MAX'],
    [
      'a default above the maximum',
      { PAGE_LIMIT_DEFAULT: '50', PAGE_LIMIT_MAX: '10' },
      'PAGE_LIMIT_DEFAULT',
    ],
  ])('fails on %s, naming the variable', (_name, change, variable) => {
    expect(() => readEnv(awsProxyEnvSchema, { ...aws, ...change })).toThrow(ConfigurationError);
    expect(() => readEnv(awsProxyEnvSchema, { ...aws, ...change })).toThrow(new RegExp(variable));
  });

  it('accepts plain http on loopback for the simulator', () => {
    const env = readEnv(localGatewayEnvSchema, {
      IOTO_ENDPOINT: 'http://127.0.0.1:4010',
      IOTO_TOKEN: 't',
    });
    expect(env.IOTO_ENDPOINT?.href).toBe('http://127.0.0.1:4010/');
  });

  it('starts the local gateway with no configuration at all', () => {
    expect(readEnv(localGatewayEnvSchema, {})).toMatchObject({ PORT: 3000, SIMULATOR_PORT: 0 });
  });

  it('requires a token when the local gateway targets a real cloud', () => {
    expect(() =>
      readEnv(localGatewayEnvSchema, { IOTO_ENDPOINT: 'https://ioto.example.com' }),
    ).toThrow(/IOTO_TOKEN/);
  });

  it('never echoes a value in its message', () => {
    expect(() =>
      readEnv(awsProxyEnvSchema, { ...aws, IOTO_AUTH_SCHEME: 'CANARY-secret-value' }),
    ).toThrow(expect.objectContaining({ message: expect.not.stringContaining('CANARY') }));
  });
});
