import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { IotoSimulator, SEED, sampleRequests } from '../../dev/ioto-simulator';
import { localGatewayEnvSchema } from '../../dev/local-gateway/env';
import {
  type RunningLocalGateway,
  startLocalGateway,
} from '../../dev/local-gateway/start-local-gateway';
import { mintPartnerToken } from '../../dev/local-issuer';
import { readEnv } from '../../lambda/config/env';
import { secretsManagerTokenSource } from '../../lambda/upstream/secrets-token-source';
import { fullAccessConfig } from '../support/access-fixtures';
import { captureOutput } from '../support/capture-output';
import { type MotoServer, startMotoServer } from '../support/moto-server';
import {
  createSecret,
  type MotoClientOptions,
  putSecretValue,
  recordCommands,
  secretsManagerClientFor,
} from '../support/secrets-manager-client';
import {
  type SecretsManagerFront,
  startSecretsManagerFront,
} from '../support/secrets-manager-front';
import type { CallResult } from './gateway-harness';
import { callResultOf, TEST_ENV } from './gateway-harness';

/**
 * The Ioto token read over the real Secrets Manager protocol: the SDK the Lambda bundles and
 * Powertools Parameters, against moto's server (through a loopback front that counts attempts
 * and injects what moto cannot produce), wired into the proxy of the local gateway as
 * lambda/handlers/proxy.ts wires it, in front of a canary-token Ioto simulator.
 */

const [OWNER] = SEED.accounts;
const ACCESS = fullAccessConfig(OWNER.id);
const PARTNER = 'tester';
/** A non-paged operation: one Ioto call, no page-token key involved. */
const DEVICE_GET = { path: '/v1/device/get', body: sampleRequests(OWNER)['device/get'] };
const GET_SECRET_VALUE = 'GetSecretValue';
/** The pause before each SDK retry of the proxy's clients (the SDK default is up to 1 s, 2 s). */
const RETRY_DELAY_MS = 10;

let moto: MotoServer;
let front: SecretsManagerFront;
let simulator: IotoSimulator;
let output: ReturnType<typeof captureOutput>;
/** Creates and rotates secrets straight at moto, as an operator would (not through the front). */
let admin: ReturnType<typeof secretsManagerClientFor>;
const canary = `CANARY-${randomBytes(16).toString('hex')}`;
/** Every token value written to a secret or the simulator: none may reach a response or log. */
const tokenValues: string[] = [canary];
/** Every access token minted for the partner: credentials too, never logged. */
const accessTokens: string[] = [];
const responses: CallResult[] = [];
const gateways: RunningLocalGateway[] = [];
const issuerKeyFile = join(tmpdir(), `ioto-bff-moto-issuer-${randomBytes(6).toString('hex')}.json`);

beforeAll(async () => {
  output = captureOutput();
  moto = await startMotoServer();
  front = await startSecretsManagerFront(moto.endpoint);
  admin = secretsManagerClientFor(moto.endpoint);
  simulator = await IotoSimulator.start({ token: canary });
}, 30_000);

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await simulator?.close();
  await front?.close();
  await moto?.stop();
  admin?.destroy();
  output?.restore();
  await rm(issuerKeyFile, { force: true });
});

beforeEach(() => {
  simulator.reset();
  simulator.rotateToken(canary);
});

afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.close();
});

/** A secret name of its own for each test, so tests share nothing in moto. */
const secretName = (label: string) => `ioto-token-${label}-${randomBytes(4).toString('hex')}`;

/**
 * A local gateway whose proxy reads the Ioto token from `secretId` through Powertools
 * Parameters and a real SDK client pointed at the front, with the same cache period for both
 * caches, as lambda/handlers/proxy.ts passes TOKEN_CACHE_SECONDS.
 */
async function gatewayReading(
  secretId: string,
  options: { readonly cacheSeconds?: number; readonly client?: MotoClientOptions } = {},
) {
  const client = secretsManagerClientFor(front.endpoint, {
    retryDelayMs: RETRY_DELAY_MS,
    ...options.client,
  });
  const commands = recordCommands(client);
  const env = readEnv(localGatewayEnvSchema, {
    ...TEST_ENV,
    IOTO_ENDPOINT: simulator.endpoint,
    IOTO_TOKEN_FILE: '/nonexistent/the-secret-source-is-used-instead',
    TOKEN_CACHE_SECONDS: String(options.cacheSeconds ?? 300),
    PORT: '0',
  });
  const gateway = await startLocalGateway({
    env,
    tokenSource: secretsManagerTokenSource(
      new SecretsProvider({ awsSdkV3Client: client }),
      secretId,
      env.TOKEN_CACHE_SECONDS,
    ),
    access: ACCESS,
    issuerKeyFile,
  });
  gateways.push(gateway);
  return { gateway, commands, reads: () => commands.reads(secretId).length };
}

/** POSTs a partner call to `gateway` and records the whole response. */
async function call(
  gateway: RunningLocalGateway,
  request: { readonly path: string; readonly body: unknown } = DEVICE_GET,
): Promise<CallResult> {
  const accessToken = mintPartnerToken(gateway.issuerKey, ACCESS, PARTNER);
  accessTokens.push(accessToken);
  const response = await fetch(`${gateway.url}${request.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify(request.body),
  });
  const result = await callResultOf(response);
  responses.push(result);
  return result;
}

/** `count` calls, `concurrency` at a time. */
async function callMany(gateway: RunningLocalGateway, count: number, concurrency: number) {
  const results: CallResult[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        results.push(await call(gateway));
      }
    }),
  );
  return results;
}

const expectProblem = (result: CallResult, status: number, code: string) => {
  expect(result.status).toBe(status);
  expect(result.headers.get('content-type')).toBe('application/problem+json');
  expect(result.body).toEqual(
    expect.objectContaining({ type: `urn:ioto-bff:problem:${code}`, status, code }),
  );
};

/** The error log line of the last failed request, serialized as Powertools wrote it. */
const lastFailureLog = (code: string): string => {
  const failures = output
    .records()
    .filter((line) => line.level === 'ERROR' && line.code === code)
    .map((line) => JSON.stringify(line));
  return failures.at(-1) ?? '';
};

/** No token value, nor any partner access token, in a response or a captured log line. */
const expectNoSecretLeaked = () => {
  const everything = [
    ...responses.map((r) => `${[...r.headers].join('\n')}\n${r.text}`),
    output.text(),
  ];
  for (const text of everything) {
    for (const token of [...tokenValues, ...accessTokens]) expect(text).not.toContain(token);
  }
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits, bounded, until `condition` holds; returns whether it did. */
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

describe('the Ioto token over the real Secrets Manager protocol (moto)', () => {
  it('reads the token once per cache period however many requests it serves', async () => {
    const cacheSeconds = 2;
    const secretId = await createSecret(
      admin,
      secretName('ttl'),
      JSON.stringify({ token: canary }),
    );
    const { gateway, commands, reads } = await gatewayReading(secretId, { cacheSeconds });

    const first = await callMany(gateway, 20, 4);
    expect(first.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(reads()).toBe(1);
    const firstRead = commands.reads(secretId)[0]?.at ?? 0;
    // Well inside the period: the batch did not outlast it (it takes a few hundred ms).
    expect(Date.now() - firstRead).toBeLessThan(cacheSeconds * 1000);

    await sleep(Math.max(0, firstRead + cacheSeconds * 1000 + 150 - Date.now()));
    const second = await callMany(gateway, 20, 4);
    expect(second.map((r) => r.status)).toEqual(Array(20).fill(200));

    const readTimes = commands.reads(secretId).map((c) => c.at);
    expect(readTimes).toHaveLength(2);
    expect((readTimes[1] ?? 0) - (readTimes[0] ?? 0)).toBeGreaterThanOrEqual(cacheSeconds * 1000);
    // One SDK attempt per read, every one answered by moto.
    expect(front.attempts({ operation: GET_SECRET_VALUE, secretId })).toBe(2);
    expect(simulator.requests.filter((r) => !r.authorized)).toHaveLength(0);
    expect(simulator.requests).toHaveLength(40);
    expectNoSecretLeaked();
  });

  it('re-reads a rotated token once for sixteen concurrent requests refused with the old one', async () => {
    const secretId = await createSecret(
      admin,
      secretName('rotation'),
      JSON.stringify({ token: canary }),
    );
    const { gateway, reads } = await gatewayReading(secretId);
    expect((await call(gateway)).status).toBe(200);
    expect(reads()).toBe(1);
    simulator.reset();

    // The refresh read is held until every worker was refused once, so all sixteen are
    // waiting on it together: the strongest case for sharing one read.
    const refresh = front.holdNext({ operation: GET_SECRET_VALUE, secretId });
    const workers = 16;
    let rotated = false;
    let completed = 0;
    const worker = async () => {
      const results: CallResult[] = [];
      let callsAfterRotation = 0;
      // Bounded: every worker keeps calling until two of its calls started after rotation.
      for (let i = 0; i < 20 && callsAfterRotation < 2; i += 1) {
        if (rotated) callsAfterRotation += 1;
        results.push(await call(gateway));
        completed += 1;
      }
      return results;
    };
    const traffic = Promise.all(Array.from({ length: workers }, worker));

    // Traffic runs; then the operator's order: the new token into the secret, then Ioto's
    // old token replaced (the simulator accepts only the new one from now on).
    expect(await waitFor(() => completed >= workers, 10_000)).toBe(true);
    const rotatedToken = `${canary}-rotated-${randomBytes(4).toString('hex')}`;
    tokenValues.push(rotatedToken);
    await putSecretValue(admin, secretId, JSON.stringify({ token: rotatedToken }));
    simulator.rotateToken(rotatedToken);
    rotated = true;

    const refused = () => simulator.requests.filter((r) => !r.authorized).length;
    let refreshArrived = false;
    let allRefused = false;
    void refresh.arrived.then(() => {
      refreshArrived = true;
    });
    try {
      allRefused = await waitFor(() => refreshArrived && refused() >= workers, 10_000);
    } finally {
      refresh.release();
    }
    const results = (await traffic).flat();

    expect(refreshArrived).toBe(true);
    expect(allRefused).toBe(true);
    expect(results.every((r) => r.status === 200)).toBe(true);
    // The old token was refused once per worker, and one read fetched the new one for all.
    expect(refused()).toBe(workers);
    expect(reads()).toBe(2);
    expect(front.attempts({ operation: GET_SECRET_VALUE, secretId })).toBe(2);
    expectNoSecretLeaked();
  });

  it('answers 503 token_unavailable when the token secret does not exist', async () => {
    const secretId =
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ioto-token-absent-AbCdEf';
    const { gateway, reads } = await gatewayReading(secretId);

    expectProblem(await call(gateway), 503, 'token_unavailable');
    expect(lastFailureLog('token_unavailable')).toContain('ResourceNotFoundException');
    // Not retried by the SDK, and not remembered: the next request asks again.
    expect(front.attempts({ operation: GET_SECRET_VALUE, secretId })).toBe(1);
    expectProblem(await call(gateway), 503, 'token_unavailable');
    expect(reads()).toBe(2);
    expect(simulator.requests).toHaveLength(0);
    expectNoSecretLeaked();
  });

  it('answers 503 token_unavailable when moto, enforcing IAM, denies the proxy its read', async () => {
    const secretId = await createSecret(
      admin,
      secretName('iam'),
      JSON.stringify({ token: canary }),
    );
    const reader = await moto.createIamUser(`ioto-bff-reader-${randomBytes(3).toString('hex')}`, {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
    });
    const denied = await moto.createIamUser(`ioto-bff-denied-${randomBytes(3).toString('hex')}`, {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: '*' }],
    });
    const allowedProxy = await gatewayReading(secretId, { client: { credentials: reader } });
    const deniedProxy = await gatewayReading(secretId, { client: { credentials: denied } });

    await moto.enforceIam();
    let allowed: CallResult;
    let refused: CallResult;
    try {
      allowed = await call(allowedProxy.gateway);
      refused = await call(deniedProxy.gateway);
    } finally {
      await moto.relaxIam();
    }

    // The same signed request succeeds for a user granted the read: the denial is IAM's.
    expect(allowed.status).toBe(200);
    expectProblem(refused, 503, 'token_unavailable');
    // moto answers a JSON service's denial as IAM's XML (403 AccessDenied), which the SDK
    // cannot parse; the proxy fails closed all the same.
    const deniedAttempts = front.requests.filter(
      (r) => r.secretId === secretId && r.status === 403,
    );
    expect(deniedAttempts).toHaveLength(1);
    expect(lastFailureLog('token_unavailable')).toContain('Deserialization error');
    expect(deniedProxy.reads()).toBe(1);
    expectNoSecretLeaked();
  });

  it('answers 503 token_unavailable when Secrets Manager answers AccessDeniedException', async () => {
    const secretId = await createSecret(
      admin,
      secretName('denied'),
      JSON.stringify({ token: canary }),
    );
    const { gateway, reads } = await gatewayReading(secretId);
    front.failNext(
      1,
      {
        status: 400,
        type: 'AccessDeniedException',
        message: `User: arn:aws:sts::123456789012:assumed-role/ioto-bff-proxy/fn is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretId} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
      },
      { operation: GET_SECRET_VALUE, secretId },
    );

    expectProblem(await call(gateway), 503, 'token_unavailable');
    expect(lastFailureLog('token_unavailable')).toContain('AccessDeniedException');
    // Not a retryable error: one attempt.
    expect(front.attempts({ operation: GET_SECRET_VALUE, secretId })).toBe(1);
    expect(reads()).toBe(1);
    expect(simulator.requests).toHaveLength(0);
    expectNoSecretLeaked();
  });

  it("rides out two throttled answers with the SDK's own retries and answers 200", async () => {
    const secretId = await createSecret(
      admin,
      secretName('throttle-ok'),
      JSON.stringify({ token: canary }),
    );
    const { gateway, reads } = await gatewayReading(secretId);
    front.failNext(
      2,
      { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' },
      { operation: GET_SECRET_VALUE, secretId },
    );

    const result = await call(gateway);

    expect(result.status).toBe(200);
    expect(reads()).toBe(1);
    const attempts = front.requests.filter((r) => r.secretId === secretId);
    expect(attempts.map((r) => [r.answeredBy, r.status])).toEqual([
      ['fault', 400],
      ['fault', 400],
      ['moto', 200],
    ]);
    expect(front.pendingFaults()).toBe(0);
    expectNoSecretLeaked();
  });

  it('answers 503 token_unavailable when throttling outlasts the three SDK attempts, then reads again', async () => {
    const secretId = await createSecret(
      admin,
      secretName('throttle-out'),
      JSON.stringify({ token: canary }),
    );
    const { gateway, reads } = await gatewayReading(secretId);
    front.failNext(
      3,
      { status: 429, type: 'ThrottlingException', message: 'Rate exceeded' },
      { operation: GET_SECRET_VALUE, secretId },
    );

    expectProblem(await call(gateway), 503, 'token_unavailable');
    expect(lastFailureLog('token_unavailable')).toContain('ThrottlingException');
    expect(front.attempts({ operation: GET_SECRET_VALUE, secretId })).toBe(3);
    expect(simulator.requests).toHaveLength(0);
    expect(front.pendingFaults()).toBe(0);

    // The failure is not cached: the next request reads again and is served.
    expect((await call(gateway)).status).toBe(200);
    expect(reads()).toBe(2);
    expect(front.attempts({ operation: GET_SECRET_VALUE, secretId })).toBe(4);
    expectNoSecretLeaked();
  });

  it('answers 503 token_unavailable when the secret holds an empty token', async () => {
    const secretId = await createSecret(admin, secretName('empty'), JSON.stringify({ token: '' }));
    const { gateway, reads } = await gatewayReading(secretId);

    expectProblem(await call(gateway), 503, 'token_unavailable');
    // Secrets Manager served it; the proxy refused what it holds, naming the shape only.
    expect(front.requests.filter((r) => r.secretId === secretId).map((r) => r.status)).toEqual([
      200,
    ]);
    expect(lastFailureLog('token_unavailable')).toContain('empty or holds control characters');
    expect(reads()).toBe(1);
    expect(simulator.requests).toHaveLength(0);
    expectNoSecretLeaked();
  });
});
