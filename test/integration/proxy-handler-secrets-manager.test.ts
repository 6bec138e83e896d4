import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { IotoSimulator, SEED } from '../../dev/ioto-simulator';
import type { ProxyHandler } from '../../lambda/proxy/create-proxy-handler';
import { fullAccessConfig } from '../support/access-fixtures';
import { lambdaContext, restEvent } from '../support/api-gateway-event';
import { ACCESS_CONFIG_LOCATION, serveAccessConfig } from '../support/appconfig-fake';
import { captureOutput } from '../support/capture-output';
import { type MotoServer, startMotoServer } from '../support/moto-server';
import {
  createSecret,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  secretsManagerClientFor,
} from '../support/secrets-manager-client';

/**
 * The deployed composition root (lambda/handlers/proxy.ts) over the real Secrets Manager
 * protocol: its own `new SecretsManagerClient({})` finds moto's server through the SDK's
 * standard AWS_ENDPOINT_URL_SECRETS_MANAGER, and reads both secrets there. Only AppConfig is
 * faked. Secrets Manager through the mocked SDK is covered by proxy-handler.test.ts.
 */

const CANARY = `CANARY-${randomBytes(16).toString('hex')}`;
const ACCOUNT = SEED.accounts[0]?.id ?? '';
const PAGE_KEY = `page-token-key-${randomBytes(24).toString('hex')}`;
const IDEMPOTENCY_TABLE = 'ioto-bff-idempotency';

/** Variables this file sets, removed again in afterAll. */
const VARIABLES = [
  'IOTO_ENDPOINT',
  'IOTO_TOKEN_SECRET_ID',
  'PAGE_TOKEN_SECRET_ID',
  'UPSTREAM_RETRY_BASE_DELAY_MS',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'IDEMPOTENCY_TABLE_NAME',
  ...Object.keys(ACCESS_CONFIG_LOCATION),
];

let moto: MotoServer;
let simulator: IotoSimulator;
let output: ReturnType<typeof captureOutput>;
let admin: ReturnType<typeof secretsManagerClientFor>;
let appConfig: ReturnType<typeof serveAccessConfig> | undefined;
const results: APIGatewayProxyResult[] = [];

/** Imports the deployed handler module afresh: a cold start with the current environment. */
async function coldStart(): Promise<ProxyHandler> {
  let handler: ProxyHandler | undefined;
  await jest.isolateModulesAsync(async () => {
    const accessText = JSON.stringify(fullAccessConfig(ACCOUNT));
    appConfig = serveAccessConfig(await import('@aws-sdk/client-appconfigdata'), () => accessText);
    ({ handler } = await import('../../lambda/handlers/proxy'));
  });
  if (handler === undefined) throw new Error('the handler module exported no handler');
  return handler;
}

async function invoke(
  handler: ProxyHandler,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const result = await handler(restEvent({ path, body, headers }), lambdaContext());
  results.push(result);
  return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> };
}

const lastFailureLog = (code: string): string =>
  output
    .records()
    .filter((line) => line.level === 'ERROR' && line.code === code)
    .map((line) => JSON.stringify(line))
    .at(-1) ?? '';

const expectNoSecretLeaked = () => {
  const everything = [...results.map((r) => JSON.stringify(r)), output.text()];
  for (const text of everything) {
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain(PAGE_KEY);
  }
};

beforeAll(async () => {
  output = captureOutput();
  moto = await startMotoServer();
  admin = secretsManagerClientFor(moto.endpoint);
  simulator = await IotoSimulator.start({ token: CANARY });
  const dynamodb = new DynamoDBClient({
    endpoint: moto.endpoint,
    region: MOTO_REGION,
    credentials: MOTO_CREDENTIALS,
  });
  await dynamodb.send(
    new CreateTableCommand({
      TableName: IDEMPOTENCY_TABLE,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  dynamodb.destroy();
  const tokenSecret = await createSecret(
    admin,
    `ioto-token-${randomBytes(4).toString('hex')}`,
    JSON.stringify({ token: CANARY }),
  );
  Object.assign(process.env, {
    IOTO_ENDPOINT: simulator.endpoint,
    IOTO_TOKEN_SECRET_ID: tokenSecret,
    UPSTREAM_RETRY_BASE_DELAY_MS: '1',
    AWS_REGION: MOTO_REGION,
    AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: moto.endpoint,
    IDEMPOTENCY_TABLE_NAME: IDEMPOTENCY_TABLE,
    ...ACCESS_CONFIG_LOCATION,
  });
}, 30_000);

afterAll(async () => {
  await simulator?.close();
  await moto?.stop();
  admin?.destroy();
  output?.restore();
  for (const name of VARIABLES) delete process.env[name];
});

beforeEach(() => {
  simulator.reset();
});

afterEach(() => {
  appConfig?.mock.restore();
});

describe('the deployed proxy handler over the real Secrets Manager protocol (moto)', () => {
  it('pages with a key and a token both read from the endpoint AWS_ENDPOINT_URL_SECRETS_MANAGER names', async () => {
    process.env.PAGE_TOKEN_SECRET_ID = await createSecret(
      admin,
      `ioto-bff-page-key-${randomBytes(4).toString('hex')}`,
      PAGE_KEY,
    );
    const handler = await coldStart();

    const first = await invoke(handler, '/v1/device/find', { limit: 2 });
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(typeof first.body.nextPageToken).toBe('string');
    const second = await invoke(handler, '/v1/device/find', {
      limit: 2,
      pageToken: first.body.nextPageToken,
    });
    expect(second.status).toBe(200);
    expect(second.body.data).toHaveLength(2);
    expectNoSecretLeaked();
  });

  it('answers 503 page_token_unavailable to a paged call while the key secret is missing, serves non-paged calls, and pages once it exists', async () => {
    const keyName = `ioto-bff-page-key-${randomBytes(4).toString('hex')}`;
    process.env.PAGE_TOKEN_SECRET_ID = keyName;
    const handler = await coldStart();

    const paged = await invoke(handler, '/v1/device/find', { limit: 2 });
    expect(paged.status).toBe(503);
    expect(paged.body).toMatchObject({
      type: 'urn:ioto-bff:problem:page_token_unavailable',
      code: 'page_token_unavailable',
      status: 503,
    });
    expect(lastFailureLog('page_token_unavailable')).toContain('ResourceNotFoundException');
    expect(simulator.requests).toHaveLength(0);

    const single = await invoke(handler, '/v1/device/get', { id: SEED.deviceId });
    expect(single.status).toBe(200);
    expect(single.body.data).toMatchObject({ id: SEED.deviceId });

    // A failed load is not kept: once the operator creates the key, the next paged call pages.
    await createSecret(admin, keyName, PAGE_KEY);
    const later = await invoke(handler, '/v1/device/find', { limit: 2 });
    expect(later.status).toBe(200);
    expect(typeof later.body.nextPageToken).toBe('string');
    expectNoSecretLeaked();
  });
});

describe('the deployed proxy handler with its idempotency table on DynamoDB (moto)', () => {
  it('forwards a write with an Idempotency-Key once and replays it to a second cold start', async () => {
    process.env.PAGE_TOKEN_SECRET_ID ??= 'unused-by-writes';
    const body = { deviceId: SEED.accounts[0]?.deviceIds[0], key: 'setpoint', value: 21 };
    const headers = { 'Idempotency-Key': `moto-${randomBytes(8).toString('hex')}` };
    const first = await invoke(await coldStart(), '/v1/store/set', body, headers);
    const second = await invoke(await coldStart(), '/v1/store/set', body, headers);
    expect(first.status).toBe(200);
    expect(second).toEqual(first);
    expect(results.at(-1)?.headers).toMatchObject({ 'idempotent-replayed': 'true' });
    expect(simulator.requests.filter((r) => r.operation === 'update')).toHaveLength(1);
    expectNoSecretLeaked();
  });
});
