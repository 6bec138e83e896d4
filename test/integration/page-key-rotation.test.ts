import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import {
  DeleteSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  RestoreSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { IotoSimulator, SEED } from '../../dev/ioto-simulator';
import { localGatewayEnvSchema } from '../../dev/local-gateway/env';
import { InMemoryPersistenceLayer } from '../../dev/local-gateway/in-memory-persistence';
import { startLocalGateway } from '../../dev/local-gateway/start-local-gateway';
import { mintPartnerToken } from '../../dev/local-issuer';
import { staticAccess } from '../../lambda/config/access-source';
import { awsProxyEnvSchema, readEnv } from '../../lambda/config/env';
import { loadPageTokenSealer } from '../../lambda/paging/page-token-key-source';
import { createProxyHandler, type ProxyHandler } from '../../lambda/proxy/create-proxy-handler';
import { buildProxyDependencies, proxySettingsOf } from '../../lambda/proxy/proxy-dependencies';
import { secretsManagerTokenSource } from '../../lambda/upstream/secrets-token-source';
import { fullAccessConfig } from '../support/access-fixtures';
import { lambdaContext, restEvent } from '../support/api-gateway-event';
import { ACCESS_CONFIG_LOCATION } from '../support/appconfig-fake';
import { captureOutput } from '../support/capture-output';
import { type MotoServer, startMotoServer } from '../support/moto-server';
import {
  createSecret,
  putSecretValue,
  recordCommands,
  secretsManagerClientFor,
  updateSecretVersionStage,
  versionStagesOf,
} from '../support/secrets-manager-client';

/**
 * The page-token key rotated through Secrets Manager's version stages, over the real protocol
 * (moto's server), with the operator's commands of lambda/paging/page-token-key-source.ts: stage
 * a new key as AWSPENDING, promote it to AWSCURRENT (Secrets Manager moves AWSPREVIOUS), take
 * AWSPENDING off, retire AWSPREVIOUS. Each "instance" is the proxy as lambda/handlers/proxy.ts
 * composes it (buildProxyDependencies, createProxyHandler, loadPageTokenSealer and the token read
 * through Powertools Parameters with the SDK the Lambda bundles), with one difference: the clock
 * that ages its page-token keys is injected, so the re-read after TOKEN_CACHE_SECONDS is shown by
 * moving that clock, never by waiting. (Only proxy-handler-secrets-manager.test.ts may import the
 * handler module itself; the deployed handler meets a rotation in
 * test/handlers/proxy-handler.test.ts.)
 */

const CANARY = `CANARY-${randomBytes(16).toString('hex')}`;
const ACCOUNT = SEED.accounts[0]?.id ?? '';
const CACHE_SECONDS = 300;
/** A page of two devices: the seeded account has enough for several. */
const FIND = { limit: 2 };

let moto: MotoServer;
let simulator: IotoSimulator;
let admin: ReturnType<typeof secretsManagerClientFor>;
let output: ReturnType<typeof captureOutput>;
let tokenSecret: string;
/** Every key written to a secret: none may reach an answer or a log line. */
const keys: string[] = [];
const answers: string[] = [];
const clients: ReturnType<typeof secretsManagerClientFor>[] = [];

beforeAll(async () => {
  output = captureOutput();
  moto = await startMotoServer();
  admin = secretsManagerClientFor(moto.endpoint);
  simulator = await IotoSimulator.start({ token: CANARY });
  tokenSecret = await createSecret(
    admin,
    `ioto-token-${randomBytes(4).toString('hex')}`,
    JSON.stringify({ token: CANARY }),
  );
}, 30_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  await simulator?.close();
  await moto?.stop();
  admin?.destroy();
  output?.restore();
});

/** A fresh key of the stack's generated kind (64 letters and digits), for the leak check too. */
function freshKey(): string {
  const key = randomBytes(32).toString('hex');
  keys.push(key);
  return key;
}

/** A page-token key secret of its own for each test, a fresh key its AWSCURRENT. */
const pageKeySecret = (): Promise<string> =>
  createSecret(admin, `ioto-bff-page-key-${randomBytes(4).toString('hex')}`, freshKey());

/** The versions carrying each label, as the operator's list-secret-version-ids shows them. */
async function stagesOf(secretId: string, client = admin): Promise<Record<string, string[]>> {
  const byVersion = await versionStagesOf(client, secretId);
  const byStage: Record<string, string[]> = {};
  for (const [version, stages] of Object.entries(byVersion)) {
    for (const stage of stages) byStage[stage] = [...(byStage[stage] ?? []), version];
  }
  return byStage;
}

/** The one version carrying `stage`: the operator's `version_with`. */
async function versionWith(secretId: string, stage: string, client = admin): Promise<string> {
  const [version, ...others] = (await stagesOf(secretId, client))[stage] ?? [];
  if (version === undefined || others.length > 0) throw new Error(`no one version has ${stage}`);
  return version;
}

/** One warm proxy instance reading `pageKeyId`, with its own SDK client, caches and key clock. */
function instance(pageKeyId: string) {
  const client = secretsManagerClientFor(moto.endpoint);
  clients.push(client);
  const commands = recordCommands(client);
  const secrets = new SecretsProvider({ awsSdkV3Client: client });
  const env = readEnv(awsProxyEnvSchema, {
    IOTO_ENDPOINT: simulator.endpoint,
    IOTO_TOKEN_SECRET_ID: tokenSecret,
    PAGE_TOKEN_SECRET_ID: pageKeyId,
    IDEMPOTENCY_TABLE_NAME: 'unused-by-reads',
    TOKEN_CACHE_SECONDS: String(CACHE_SECONDS),
    UPSTREAM_RETRY_BASE_DELAY_MS: '1',
    ...ACCESS_CONFIG_LOCATION,
  });
  const clock = { now: 1_800_000_000_000 };
  const handler: ProxyHandler = createProxyHandler({
    ...buildProxyDependencies(proxySettingsOf(env), {
      tokenSource: secretsManagerTokenSource(
        secrets,
        env.IOTO_TOKEN_SECRET_ID,
        env.TOKEN_CACHE_SECONDS,
      ),
      loadSealer: () =>
        loadPageTokenSealer(secrets, env.PAGE_TOKEN_SECRET_ID, {
          ttlSeconds: env.PAGE_TOKEN_TTL_SECONDS,
        }),
      sealerClock: () => clock.now,
      logger: new Logger({ serviceName: 'page-key-rotation' }),
      access: staticAccess(fullAccessConfig(ACCOUNT)),
      idempotencyStore: new InMemoryPersistenceLayer(),
    }),
    metrics: new Metrics({ namespace: 'IotoBff/test', serviceName: 'page-key-rotation' }),
  });

  /** device/find, from the first page or from `pageToken`. */
  const page = async (pageToken?: string) => {
    const result = await handler(
      restEvent({ path: '/v1/device/find', body: { ...FIND, ...(pageToken && { pageToken }) } }),
      lambdaContext(),
    );
    answers.push(JSON.stringify(result));
    const body = JSON.parse(result.body) as Record<string, unknown>;
    return { status: result.statusCode, code: body.code, next: body.nextPageToken as string };
  };
  return {
    page,
    /** Moves this instance's key clock `seconds` on. */
    age: (seconds: number) => {
      clock.now += seconds * 1000;
    },
    /** GetSecretValue calls of the page-token key so far. */
    keyReads: () => commands.reads(pageKeyId).length,
    /** The VersionStage of each of those calls, in order. */
    stagesRead: () => commands.reads(pageKeyId).map((c) => c.versionStage),
  };
}
type Instance = ReturnType<typeof instance>;

afterEach(() => {
  const everything = [...answers, output.text()];
  for (const key of keys) for (const text of everything) expect(text).not.toContain(key);
});

/** What a policy grants the operator: the rotation's commands, and no GetSecretValue. */
const ROTATOR_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: [
        'secretsmanager:GetRandomPassword',
        'secretsmanager:PutSecretValue',
        'secretsmanager:ListSecretVersionIds',
        'secretsmanager:UpdateSecretVersionStage',
      ],
      Resource: '*',
    },
  ],
};

describe('a page-token key rotated through its version stages under two warm proxies (moto)', () => {
  it('keeps every token of either instance opening on both through staging and promotion, and refuses the old key once it is retired, for an operator who cannot read a key', async () => {
    const keyId = await pageKeySecret();
    // The operator: an IAM user of moto's with the rotation's permissions only. IAM is enforced
    // while it works (the instances sign as moto's default user, so they run in between).
    const rotator = secretsManagerClientFor(moto.endpoint, {
      credentials: await moto.createIamUser(
        `ioto-bff-rotator-${randomBytes(3).toString('hex')}`,
        ROTATOR_POLICY,
      ),
      maxAttempts: 1,
    });
    clients.push(rotator);
    const operator = async <T>(step: () => Promise<T>): Promise<T> => {
      await moto.enforceIam();
      try {
        return await step();
      } finally {
        await moto.relaxIam();
      }
    };
    // Refused the value: moto answers IAM's denial (403) in XML, which the SDK cannot parse.
    await expect(
      operator(() =>
        rotator.send(new GetSecretValueCommand({ SecretId: keyId, VersionStage: 'AWSCURRENT' })),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });

    const a = instance(keyId);
    const b = instance(keyId);
    /** Every token minted so far, with the key that sealed it. */
    const minted = new Map<string, 'old' | 'new'>();
    const mint = async (proxy: Instance, sealedWith: 'old' | 'new') => {
      const first = await proxy.page();
      expect(first.status).toBe(200);
      minted.set(first.next, sealedWith);
    };
    /** Each token of `sealedWith` (both keys by default) opens on both instances. */
    const everyTokenOpensOnBoth = async (
      sealedWith: readonly ('old' | 'new')[] = ['old', 'new'],
    ) => {
      for (const [token, key] of minted) {
        if (!sealedWith.includes(key)) continue;
        for (const proxy of [a, b]) expect((await proxy.page(token)).status).toBe(200);
      }
    };
    /** Each instance of `mints` pages once; then every token opens on both; then the reads so far. */
    const checkpoint = async (mints: [Instance, 'old' | 'new'][], keyReads: [number, number]) => {
      for (const [proxy, sealedWith] of mints) await mint(proxy, sealedWith);
      await everyTokenOpensOnBoth();
      expect([a.keyReads(), b.keyReads()]).toEqual(keyReads);
    };

    // Today's key alone (no AWSPENDING, no AWSPREVIOUS). b first reads it 100 s after a, so
    // their keys expire at different times.
    await mint(a, 'old');
    a.age(100);
    await checkpoint([[b, 'old']], [3, 3]);
    expect(a.stagesRead().sort()).toEqual(['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS']);

    // a. A key generated by Secrets Manager (get-random-password) is staged as AWSPENDING.
    const oldVersion = await versionWith(keyId, 'AWSCURRENT');
    const newVersion = await operator(async () => {
      const { RandomPassword } = await rotator.send(
        new GetRandomPasswordCommand({ PasswordLength: 64, ExcludePunctuation: true }),
      );
      if (RandomPassword === undefined) throw new Error('GetRandomPassword answered no password');
      keys.push(RandomPassword);
      return putSecretValue(rotator, keyId, RandomPassword, { versionStages: ['AWSPENDING'] });
    });
    expect(await stagesOf(keyId)).toEqual({ AWSCURRENT: [oldVersion], AWSPENDING: [newVersion] });
    a.age(CACHE_SECONDS - 101);
    await checkpoint([], [3, 3]); // nothing is read before TOKEN_CACHE_SECONDS
    a.age(1); // a re-reads; b has not yet: both still seal with the old key
    await checkpoint(
      [
        [a, 'old'],
        [b, 'old'],
      ],
      [6, 3],
    );
    b.age(CACHE_SECONDS);
    await checkpoint([[b, 'old']], [6, 6]);

    // b. TOKEN_CACHE_SECONDS later, AWSCURRENT moves to the new version, taken off the old one
    // by the id ListSecretVersionIds gives: Secrets Manager (moto alike) puts AWSPREVIOUS on it.
    // (moto, unlike Secrets Manager, still answers a GetSecretValue that names no stage with
    // the old version; the proxy always names one.)
    await operator(async () =>
      updateSecretVersionStage(rotator, keyId, 'AWSCURRENT', {
        moveTo: await versionWith(keyId, 'AWSPENDING', rotator),
        removeFrom: await versionWith(keyId, 'AWSCURRENT', rotator),
      }),
    );
    expect(await stagesOf(keyId)).toEqual({
      AWSCURRENT: [newVersion],
      AWSPENDING: [newVersion],
      AWSPREVIOUS: [oldVersion],
    });
    a.age(CACHE_SECONDS); // a seals with the new key; b still with the old one
    await checkpoint(
      [
        [a, 'new'],
        [b, 'old'],
      ],
      [9, 6],
    );
    b.age(CACHE_SECONDS);
    await checkpoint([[b, 'new']], [9, 9]);

    // TOKEN_CACHE_SECONDS later (optional): AWSPENDING comes off the new version.
    await operator(async () =>
      updateSecretVersionStage(rotator, keyId, 'AWSPENDING', {
        removeFrom: await versionWith(keyId, 'AWSPENDING', rotator),
      }),
    );
    expect(await stagesOf(keyId)).toEqual({ AWSCURRENT: [newVersion], AWSPREVIOUS: [oldVersion] });
    a.age(CACHE_SECONDS);
    b.age(CACHE_SECONDS);
    await checkpoint(
      [
        [a, 'new'],
        [b, 'new'],
      ],
      [12, 12],
    );

    // c. After a compromise, once the old key's tokens could have expired: AWSPREVIOUS comes off.
    await operator(async () =>
      updateSecretVersionStage(rotator, keyId, 'AWSPREVIOUS', {
        removeFrom: await versionWith(keyId, 'AWSPREVIOUS', rotator),
      }),
    );
    expect(await stagesOf(keyId)).toEqual({ AWSCURRENT: [newVersion] });
    const oldTokens = [...minted].filter(([, key]) => key === 'old').map(([token]) => token);
    a.age(CACHE_SECONDS - 1); // until a re-reads, it still opens them
    for (const token of oldTokens) expect((await a.page(token)).status).toBe(200);
    a.age(1);
    for (const token of oldTokens) {
      expect(await a.page(token)).toMatchObject({ status: 400, code: 'invalid_page_token' });
      expect((await b.page(token)).status).toBe(200); // b has not re-read yet
    }
    b.age(CACHE_SECONDS);
    for (const token of oldTokens) {
      for (const proxy of [a, b]) {
        expect(await proxy.page(token)).toMatchObject({ status: 400, code: 'invalid_page_token' });
      }
    }
    await everyTokenOpensOnBoth(['new']);
    expect([a.keyReads(), b.keyReads()]).toEqual([15, 15]);
    // Each re-read asked for the three stages, once each.
    for (const proxy of [a, b]) {
      const stages = proxy.stagesRead();
      for (let i = 0; i < stages.length; i += 3) {
        expect(stages.slice(i, i + 3).sort()).toEqual(['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS']);
      }
    }
  });

  it('breaks tokens between instances when a new key is put straight into AWSCURRENT, without being staged', async () => {
    const keyId = await pageKeySecret();
    const a = instance(keyId);
    const b = instance(keyId);
    await a.page();
    await b.page();

    // A plain put-secret-value: the new version becomes AWSCURRENT, the old one AWSPREVIOUS.
    const newVersion = await putSecretValue(admin, keyId, freshKey());
    expect((await stagesOf(keyId)).AWSCURRENT).toEqual([newVersion]);
    a.age(CACHE_SECONDS); // a seals with the new key; b knows only the old one until it re-reads
    const fromA = (await a.page()).next;
    expect(await b.page(fromA)).toMatchObject({ status: 400, code: 'invalid_page_token' });
    b.age(CACHE_SECONDS);
    expect((await b.page(fromA)).status).toBe(200);
  });

  it('answers page_token_unavailable when a stage fails otherwise than by its absence, and pages again once it reads', async () => {
    const keyId = await pageKeySecret();
    const proxy = instance(keyId);
    const token = (await proxy.page()).next;

    // A binary value staged as AWSPENDING is no key: the load fails, and is not kept.
    await putSecretValue(admin, keyId, new Uint8Array(64).fill(7), {
      versionStages: ['AWSPENDING'],
    });
    proxy.age(CACHE_SECONDS);
    expect(await proxy.page(token)).toMatchObject({ status: 503, code: 'page_token_unavailable' });
    expect(await proxy.page()).toMatchObject({ status: 503, code: 'page_token_unavailable' });
    expect(output.text()).toContain("The page-token key secret's AWSPENDING version is not text");
    await putSecretValue(admin, keyId, freshKey(), { versionStages: ['AWSPENDING'] });
    expect((await proxy.page(token)).status).toBe(200);

    // A secret scheduled for deletion: moto, as Secrets Manager, answers InvalidRequestException.
    await admin.send(new DeleteSecretCommand({ SecretId: keyId, RecoveryWindowInDays: 7 }));
    proxy.age(CACHE_SECONDS);
    expect(await proxy.page(token)).toMatchObject({ status: 503, code: 'page_token_unavailable' });
    expect(output.text()).toContain('InvalidRequestException');
    await admin.send(new RestoreSecretCommand({ SecretId: keyId }));
    expect((await proxy.page(token)).status).toBe(200);
    // Six loads of three reads: a failed load is not kept, the next request loads again.
    expect(proxy.keyReads()).toBe(6 * 3);
  });
});

describe('the local gateway', () => {
  it('keeps its one random key for its whole life, however often the proxy asks for it', async () => {
    const issuerKeyFile = join(
      tmpdir(),
      `ioto-bff-page-key-${randomBytes(6).toString('hex')}.json`,
    );
    const access = fullAccessConfig(ACCOUNT);
    const gateway = await startLocalGateway({
      env: readEnv(localGatewayEnvSchema, {
        IOTO_ENDPOINT: simulator.endpoint,
        IOTO_TOKEN: CANARY,
        // The proxy asks for its sealer again on every paged call.
        TOKEN_CACHE_SECONDS: '0',
        PORT: '0',
      }),
      access,
      issuerKeyFile,
    });
    try {
      const find = async (pageToken?: string) => {
        const response = await fetch(`${gateway.url}/v1/device/find`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${mintPartnerToken(gateway.issuerKey, access, 'tester')}`,
          },
          body: JSON.stringify({ ...FIND, ...(pageToken && { pageToken }) }),
        });
        const body = (await response.json()) as Record<string, unknown>;
        return { status: response.status, next: body.nextPageToken as string };
      };
      const first = await find();
      expect(first.status).toBe(200);
      expect((await find(first.next)).status).toBe(200);
    } finally {
      await gateway.close();
      await rm(issuerKeyFile, { force: true });
    }
  });
});
