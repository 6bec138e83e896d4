import { randomBytes } from 'node:crypto';
import type * as SecretsManagerSdk from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { IotoSimulator, SEED } from '../../dev/ioto-simulator';
import type { ProxyHandler } from '../../lambda/proxy/create-proxy-handler';
import { fullAccessConfig } from '../support/access-fixtures';
import { lambdaContext, restEvent } from '../support/api-gateway-event';
import { ACCESS_CONFIG_LOCATION, serveAccessConfig } from '../support/appconfig-fake';
import { captureOutput } from '../support/capture-output';

const CANARY = `CANARY-${randomBytes(16).toString('hex')}`;
const TOKEN_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ioto-token-AbCdEf';
const PAGE_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:page-key-AbCdEf';
const ACCOUNT = SEED.accounts[0]?.id ?? '';

type SecretsMock = ReturnType<typeof mockClient>;
let simulator: IotoSimulator;
let output: ReturnType<typeof captureOutput>;
let secretToken = CANARY;

let secrets: SecretsMock;
let GetSecretValueCommand: typeof SecretsManagerSdk.GetSecretValueCommand;

/** Answers both secrets: the token (JSON form) and the page-token key. */
const healthySecrets = (mock: SecretsMock) => {
  mock.on(GetSecretValueCommand, { SecretId: TOKEN_SECRET }).callsFake(async () => ({
    SecretString: JSON.stringify({ token: secretToken }),
  }));
  mock
    .on(GetSecretValueCommand, { SecretId: PAGE_SECRET })
    .resolves({ SecretString: 'page-token-key-material-generated-by-secrets-manager' });
};

/**
 * Imports the deployed handler module afresh: a new cold start with the current env. The SDK is
 * loaded inside the same module registry, so the mock patches the client the handler uses.
 */
async function coldStart(
  configure: (mock: SecretsMock) => void = healthySecrets,
): Promise<ProxyHandler> {
  let handler: ProxyHandler | undefined;
  await jest.isolateModulesAsync(async () => {
    const sdk = await import('@aws-sdk/client-secrets-manager');
    GetSecretValueCommand = sdk.GetSecretValueCommand;
    secrets = mockClient(sdk.SecretsManagerClient) as unknown as SecretsMock;
    configure(secrets);
    appConfig = serveAccessConfig(await import('@aws-sdk/client-appconfigdata'), () => accessText);
    ({ handler } = await import('../../lambda/handlers/proxy'));
  });
  if (handler === undefined) throw new Error('the handler module exported no handler');
  return handler;
}

/** The access configuration AppConfig serves to the handler. */
let accessText = '';
let appConfig: ReturnType<typeof serveAccessConfig> | undefined;

const parse = (result: APIGatewayProxyResult) => JSON.parse(result.body) as Record<string, unknown>;

beforeAll(async () => {
  output = captureOutput();
  simulator = await IotoSimulator.start({ token: CANARY });
  Object.assign(process.env, {
    IOTO_ENDPOINT: simulator.endpoint,
    IOTO_TOKEN_SECRET_ID: TOKEN_SECRET,
    PAGE_TOKEN_SECRET_ID: PAGE_SECRET,
    IDEMPOTENCY_TABLE_NAME: 'idempotency',
    UPSTREAM_RETRY_BASE_DELAY_MS: '1',
    ...ACCESS_CONFIG_LOCATION,
  });
});

afterAll(async () => {
  await simulator.close();
  output.restore();
  for (const name of [
    'IOTO_ENDPOINT',
    'IOTO_TOKEN_SECRET_ID',
    'PAGE_TOKEN_SECRET_ID',
    'IDEMPOTENCY_TABLE_NAME',
    ...Object.keys(ACCESS_CONFIG_LOCATION),
  ]) {
    delete process.env[name];
  }
});

beforeEach(() => {
  accessText = JSON.stringify(fullAccessConfig(ACCOUNT));
  simulator.reset();
  simulator.rotateToken(CANARY);
  secretToken = CANARY;
});

afterEach(() => {
  secrets?.restore();
  appConfig?.mock.restore();
});

describe('the deployed proxy handler', () => {
  it('answers a paged call with data and page tokens, reading both secrets once', async () => {
    const handler = await coldStart();
    const result = await handler(
      restEvent({ path: '/v1/device/find', body: { accountId: ACCOUNT, limit: 10 } }),
      lambdaContext(),
    );
    expect(result.statusCode).toBe(200);
    expect(result.headers).toMatchObject({ 'content-type': 'application/json' });
    const body = parse(result);
    expect(body.data).toHaveLength(10);
    expect(typeof body.nextPageToken).toBe('string');
    expect(body.prevPageToken).toBeNull();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('keeps a well-formed inbound x-request-id and generates none otherwise', async () => {
    const handler = await coldStart();
    const kept = await handler(
      restEvent({ path: '/v1/alert/find', headers: { 'X-Request-Id': 'partner-req-0001' } }),
      lambdaContext(),
    );
    expect(kept.headers?.['x-request-id']).toBe('partner-req-0001');
    const event = restEvent({ path: '/v1/alert/find', headers: { 'X-Request-Id': 'bad id\r\nx' } });
    const replaced = await handler(event, lambdaContext());
    expect(replaced.headers?.['x-request-id']).toBe(event.requestContext.requestId);
  });

  it('re-reads a rotated token once and retries, without failing the call', async () => {
    const handler = await coldStart();
    await handler(restEvent({ path: '/v1/alert/find' }), lambdaContext());
    const before = secrets.commandCalls(GetSecretValueCommand, { SecretId: TOKEN_SECRET }).length;
    secretToken = simulator.rotateToken(`${CANARY}-rotated`);
    const result = await handler(restEvent({ path: '/v1/alert/find' }), lambdaContext());
    expect(result.statusCode).toBe(200);
    expect(secrets.commandCalls(GetSecretValueCommand, { SecretId: TOKEN_SECRET })).toHaveLength(
      before + 1,
    );
  });

  it('answers 502 upstream_auth_failed and logs an error when Ioto keeps refusing the token', async () => {
    const handler = await coldStart();
    simulator.rotateToken('a-token-nobody-has');
    const result = await handler(restEvent({ path: '/v1/alert/find' }), lambdaContext());
    expect(result.statusCode).toBe(502);
    expect(parse(result)).toMatchObject({ code: 'upstream_auth_failed' });
    expect(output.records()).toContainEqual(
      expect.objectContaining({ level: 'ERROR', code: 'upstream_auth_failed' }),
    );
  });

  it('answers 503 token_unavailable when the token secret cannot be read', async () => {
    const handler = await coldStart((mock) => {
      healthySecrets(mock);
      mock
        .on(GetSecretValueCommand, { SecretId: TOKEN_SECRET })
        .rejects(new Error('AccessDeniedException'));
    });
    const result = await handler(restEvent({ path: '/v1/alert/find' }), lambdaContext());
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    expect(parse(result)).toMatchObject({ code: 'token_unavailable', status: 503 });
  });

  it('answers 503 page_token_unavailable on paged operations when the page-token key cannot be read', async () => {
    const handler = await coldStart((mock) => {
      healthySecrets(mock);
      mock
        .on(GetSecretValueCommand, { SecretId: PAGE_SECRET })
        .rejects(new Error('AccessDeniedException'));
    });
    const paged = await handler(restEvent({ path: '/v1/alert/find' }), lambdaContext());
    expect(paged.statusCode).toBe(503);
    expect(parse(paged)).toMatchObject({ code: 'page_token_unavailable', status: 503 });
    expect(simulator.requests).toHaveLength(0);
    const single = await handler(
      restEvent({ path: '/v1/alert/get', body: { id: SEED.accounts[0]?.alertIds[0] } }),
      lambdaContext(),
    );
    expect(single.statusCode).toBe(200);
  });

  it('writes the request id as the correlation id of every log line of the request', async () => {
    const handler = await coldStart();
    const before = output.records().length;
    const requestId = 'partner-trace-0001';
    const ok = await handler(
      restEvent({ path: '/v1/alert/find', headers: { 'X-Request-Id': requestId } }),
      lambdaContext(),
    );
    const refused = await handler(
      restEvent({ path: '/v1/alert/get', body: {}, headers: { 'x-request-id': 'other-trace-02' } }),
      lambdaContext(),
    );
    expect([ok.statusCode, refused.statusCode]).toEqual([200, 400]);
    // Log lines, not the EMF metric documents written beside them.
    const lines = output
      .records()
      .slice(before)
      .filter((line) => line.level !== undefined);
    expect(lines.map((line) => [line.message, line.correlation_id])).toEqual([
      ['forwarded', requestId],
      ['audit', requestId],
      ['request refused', 'other-trace-02'],
      ['audit', 'other-trace-02'],
    ]);
    // The audit lines: what was done, by whom, how it ended; never a body or a token.
    const audits = lines.filter((line) => line.message === 'audit');
    expect(audits).toEqual([
      expect.objectContaining({
        partnerId: 'tester',
        operation: 'alert/find',
        outcome: 'forwarded',
        requestId,
        account: ACCOUNT,
        upstreamStatus: 200,
        status: 200,
      }),
      expect.objectContaining({
        partnerId: 'tester',
        operation: 'alert/get',
        outcome: 'refused',
        code: 'validation_failed',
        status: 400,
        requestId: 'other-trace-02',
      }),
    ]);
    expect(JSON.stringify(audits)).not.toContain(CANARY);
  });

  it('answers problems through the whole chain for unknown routes and methods', async () => {
    const handler = await coldStart();
    const missing = await handler(restEvent({ path: '/v1/device/remove' }), lambdaContext());
    expect(missing.statusCode).toBe(404);
    const wrongMethod = await handler(
      restEvent({ method: 'GET', path: '/v1/device/find' }),
      lambdaContext(),
    );
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers).toMatchObject({ allow: 'POST' });
    expect(simulator.requests).toHaveLength(0);
  });

  it('answers 401 unauthorized when no partner was identified, before calling Ioto', async () => {
    const handler = await coldStart();
    for (const partnerId of [null, 'someone-else']) {
      const result = await handler(
        restEvent({ path: '/v1/alert/find', partnerId }),
        lambdaContext(),
      );
      expect(result.statusCode).toBe(401);
      expect(parse(result)).toMatchObject({ code: 'unauthorized' });
    }
    expect(simulator.requests).toHaveLength(0);
  });

  it('reads the access configuration from AppConfig once per cold start, then from its cache', async () => {
    const handler = await coldStart();
    for (let i = 0; i < 3; i += 1) {
      const result = await handler(restEvent({ path: '/v1/alert/find' }), lambdaContext());
      expect(result.statusCode).toBe(200);
    }
    expect(appConfig?.calls).toEqual({ sessions: 1, reads: 1 });
  });

  it('answers 503 access_config_unavailable, naming the field in its log, on a bad access configuration', async () => {
    accessText = JSON.stringify({ scope: 's', issuers: [], partners: [] });
    const handler = await coldStart();
    const result = await handler(restEvent({ path: '/v1/alert/find' }), lambdaContext());
    expect(result.statusCode).toBe(503);
    expect(parse(result)).toMatchObject({ code: 'access_config_unavailable' });
    expect(output.text()).toMatch(/issuers: /);
    expect(simulator.requests).toHaveLength(0);
  });

  it('fails its cold start, naming the variable, without a location for the access configuration', async () => {
    const profile = process.env.ACCESS_CONFIG_PROFILE;
    delete process.env.ACCESS_CONFIG_PROFILE;
    try {
      await expect(coldStart()).rejects.toThrow(/ACCESS_CONFIG_PROFILE/);
    } finally {
      process.env.ACCESS_CONFIG_PROFILE = profile;
    }
  });

  it("bounds the upstream deadline by the function's remaining time, less a margin", async () => {
    const handler = await coldStart();
    simulator.faults.delayMs = 2_000;
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => 1_600 };
    const started = Date.now();
    const result = await handler(restEvent({ path: '/v1/alert/find' }), context);
    expect(result.statusCode).toBe(504);
    expect(parse(result)).toMatchObject({ code: 'upstream_timeout' });
    // 600 ms to ask Ioto (1,600 left, less the 1,000 ms margin), not UPSTREAM_TIMEOUT_MS.
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('answers 504 without asking Ioto when no time is left', async () => {
    const handler = await coldStart();
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => 900 };
    const result = await handler(restEvent({ path: '/v1/alert/find' }), context);
    expect(result.statusCode).toBe(504);
    expect(parse(result)).toMatchObject({ code: 'upstream_timeout' });
    expect(simulator.requests).toHaveLength(0);
  });

  it('never writes the token to a response or a log line', () => {
    expect(output.text()).not.toContain(CANARY);
  });
});
