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
let ResourceNotFoundException: typeof SecretsManagerSdk.ResourceNotFoundException;

const STAGES = ['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS'] as const;
type PageKeyStages = Partial<Record<(typeof STAGES)[number], string>>;

/**
 * Answers GetSecretValue of each version stage of the page-token key from `stages()`; a stage
 * no version carries is not found, as Secrets Manager answers it.
 */
const pageKeyStages = (mock: SecretsMock, stages: () => PageKeyStages) => {
  for (const stage of STAGES) {
    mock
      .on(GetSecretValueCommand, { SecretId: PAGE_SECRET, VersionStage: stage })
      .callsFake(async () => {
        const value = stages()[stage];
        if (value === undefined) {
          throw new ResourceNotFoundException({
            message: `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
            $metadata: { httpStatusCode: 400 },
          });
        }
        return { SecretString: value, VersionStages: [stage] };
      });
  }
};

/** Answers both secrets: the token (JSON form) and the page-token key, AWSCURRENT alone. */
const healthySecrets = (mock: SecretsMock) => {
  mock.on(GetSecretValueCommand, { SecretId: TOKEN_SECRET }).callsFake(async () => ({
    SecretString: JSON.stringify({ token: secretToken }),
  }));
  pageKeyStages(mock, () => ({
    AWSCURRENT: 'page-token-key-material-generated-by-secrets-manager',
  }));
};

/** The VersionStage of each GetSecretValue of the page-token key so far, sorted. */
const pageKeyStagesRead = () =>
  secrets
    .commandCalls(GetSecretValueCommand, { SecretId: PAGE_SECRET })
    .map((call) => (call.args[0].input as { VersionStage?: string }).VersionStage)
    .sort();

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
    ResourceNotFoundException = sdk.ResourceNotFoundException;
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
  it('answers paged calls with data and page tokens, reading the token once and each stage of the page-token key once', async () => {
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
    // The next page, within TOKEN_CACHE_SECONDS: nothing is read again.
    const next = await handler(
      restEvent({
        path: '/v1/device/find',
        body: { accountId: ACCOUNT, limit: 10, pageToken: body.nextPageToken },
      }),
      lambdaContext(),
    );
    expect(next.statusCode).toBe(200);
    expect(secrets.commandCalls(GetSecretValueCommand, { SecretId: TOKEN_SECRET })).toHaveLength(1);
    // AWSPENDING and AWSPREVIOUS are asked for and found absent: the key alone pages.
    expect(pageKeyStagesRead()).toEqual([...STAGES]);
  });

  it("refuses a page token minted before the partner's identity changed", async () => {
    const page = async () => {
      const handler = await coldStart();
      return parse(
        await handler(
          restEvent({ path: '/v1/device/find', body: { accountId: ACCOUNT, limit: 5 } }),
          lambdaContext(),
        ),
      );
    };
    const first = await page();
    const next = async () =>
      (await coldStart())(
        restEvent({
          path: '/v1/device/find',
          body: { accountId: ACCOUNT, limit: 5, pageToken: first.nextPageToken },
        }),
        lambdaContext(),
      );
    expect((await next()).statusCode).toBe(200);
    // The operator swaps the partner's client id (a leaked secret), keeping its partner id.
    const swapped = fullAccessConfig(ACCOUNT);
    accessText = JSON.stringify({
      ...swapped,
      partners: swapped.partners.map((p) => ({
        ...p,
        identity: { ...p.identity, clientId: 'tester-client-rotated' },
      })),
    });
    const refused = await next();
    expect(refused.statusCode).toBe(400);
    expect(parse(refused)).toMatchObject({ code: 'invalid_page_token' });
  });

  it("answers with API Gateway's request id, echoing a well-formed client id apart", async () => {
    const handler = await coldStart();
    const event = restEvent({
      path: '/v1/alert/find',
      headers: { 'X-Request-Id': 'partner-req-0001' },
    });
    const echoed = await handler(event, lambdaContext());
    expect(echoed.headers).toMatchObject({
      'x-request-id': event.requestContext.requestId,
      'x-client-request-id': 'partner-req-0001',
    });
    const bad = restEvent({
      path: '/v1/alert/get',
      body: {},
      headers: { 'X-Request-Id': 'bad id\r\nx' },
    });
    const refused = await handler(bad, lambdaContext());
    expect(refused.headers?.['x-request-id']).toBe(bad.requestContext.requestId);
    expect(refused.headers).not.toHaveProperty('x-client-request-id');
    expect(parse(refused).requestId).toBe(bad.requestContext.requestId);
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

  it.each(STAGES)(
    'answers 503 page_token_unavailable on paged operations when the %s stage of the page-token key cannot be read',
    async (stage) => {
      const handler = await coldStart((mock) => {
        healthySecrets(mock);
        // Any failure but a stage no version carries: AWSPENDING and AWSPREVIOUS included.
        mock
          .on(GetSecretValueCommand, { SecretId: PAGE_SECRET, VersionStage: stage })
          .rejects(
            Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }),
          );
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
    },
  );

  it('reads a rotated page-token key past every cache once TOKEN_CACHE_SECONDS is over, opening tokens of the previous key', async () => {
    const OLD = 'the-old-page-token-key-material-of-64-characters-generated-by-sm';
    const NEW = 'the-new-page-token-key-material-of-64-characters-generated-by-sm';
    let stages: PageKeyStages = { AWSCURRENT: OLD };
    // No cache period at all: every paged call reads the key (Powertools' own cache included).
    process.env.TOKEN_CACHE_SECONDS = '0';
    try {
      const handler = await coldStart((mock) => {
        healthySecrets(mock);
        pageKeyStages(mock, () => stages);
      });
      const find = async (pageToken?: string) => {
        const result = await handler(
          restEvent({
            path: '/v1/device/find',
            body: { limit: 2, ...(pageToken && { pageToken }) },
          }),
          lambdaContext(),
        );
        return { status: result.statusCode, next: parse(result).nextPageToken as string };
      };

      const mintedBefore = (await find()).next;
      // a. The new key is staged: still sealed with the old one.
      stages = { AWSCURRENT: OLD, AWSPENDING: NEW };
      const staged = await find(mintedBefore);
      expect(staged.status).toBe(200);
      // b. It is promoted; Secrets Manager moves AWSPREVIOUS to the old key's version.
      stages = { AWSCURRENT: NEW, AWSPENDING: NEW, AWSPREVIOUS: OLD };
      const promoted = await find(staged.next);
      expect(promoted.status).toBe(200);
      expect((await find(mintedBefore)).status).toBe(200);
      // c. AWSPENDING, then AWSPREVIOUS, come off: the old key's tokens no longer open.
      stages = { AWSCURRENT: NEW };
      expect((await find(promoted.next)).status).toBe(200);
      expect((await find(mintedBefore)).status).toBe(400);
      expect((await find(staged.next)).status).toBe(400);
      // Seven paged calls, each reading the three stages afresh.
      expect(pageKeyStagesRead()).toEqual(STAGES.flatMap((stage) => Array(7).fill(stage)));
    } finally {
      delete process.env.TOKEN_CACHE_SECONDS;
    }
  });

  it('writes the request id as the correlation id of every log line of the request', async () => {
    const handler = await coldStart();
    const before = output.records().length;
    const okEvent = restEvent({
      path: '/v1/alert/find',
      headers: { 'X-Request-Id': 'partner-trace-0001' },
    });
    const refusedEvent = restEvent({
      path: '/v1/alert/get',
      body: {},
      headers: { 'x-request-id': 'other-trace-02' },
    });
    const requestId = okEvent.requestContext.requestId;
    const otherId = refusedEvent.requestContext.requestId;
    const ok = await handler(okEvent, lambdaContext());
    const refused = await handler(refusedEvent, lambdaContext());
    expect([ok.statusCode, refused.statusCode]).toEqual([200, 400]);
    // Log lines, not the EMF metric documents written beside them.
    const lines = output
      .records()
      .slice(before)
      .filter((line) => line.level !== undefined);
    // API Gateway's id on every line, with the partner and the client's own id beside it.
    expect(
      lines.map((line) => [
        line.message,
        line.correlation_id,
        line.partnerId,
        line.clientRequestId,
      ]),
    ).toEqual([
      ['audit', requestId, 'tester', 'partner-trace-0001'],
      ['request refused', otherId, 'tester', 'other-trace-02'],
      ['audit', otherId, 'tester', 'other-trace-02'],
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
        requestId: otherId,
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
