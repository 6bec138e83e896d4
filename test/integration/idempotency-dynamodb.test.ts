import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import {
  createIdempotentWrites,
  type IdempotentWrite,
  type IdempotentWrites,
} from '../../lambda/idempotency/idempotent-writes';
import { type MotoServer, startMotoServer } from '../support/moto-server';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../support/secrets-manager-client';

/**
 * The deployed idempotency store: Powertools' DynamoDB persistence layer and the real SDK client,
 * over HTTP against moto's DynamoDB on a loopback port, with the table the stack creates (key
 * `id`, TTL on `expiration`). Each "invocation" is its own persistence layer and runner, as two
 * Lambda containers would be.
 */
const TABLE = 'ioto-bff-idempotency';
let moto: MotoServer;
let admin: DynamoDBClient;

const clientFor = (endpoint: string) =>
  new DynamoDBClient({
    endpoint,
    region: MOTO_REGION,
    credentials: MOTO_CREDENTIALS,
    maxAttempts: 1,
  });

/** A runner as one Lambda container builds it. */
const container = (endpoint = moto.endpoint): IdempotentWrites =>
  createIdempotentWrites({
    persistence: new DynamoDBPersistenceLayer({
      tableName: TABLE,
      awsSdkV3Client: clientFor(endpoint),
    }),
    windowSeconds: 3_600,
    logger: new Logger({ logLevel: 'SILENT' }),
  });

beforeAll(async () => {
  moto = await startMotoServer();
  admin = clientFor(moto.endpoint);
  await admin.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}, 30_000);

afterAll(async () => {
  admin?.destroy();
  await moto?.stop();
});

let keys = 0;
const write = (overrides: Partial<IdempotentWrite> = {}): IdempotentWrite => {
  keys += 1;
  return {
    partnerId: 'alpha',
    operation: 'store/set',
    key: `key-${keys}`,
    fields: { deviceId: 'D1', key: 'setpoint', value: 21 },
    remainingMs: 10_000,
    ...overrides,
  };
};

const answer = (n: number): APIGatewayProxyResult => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ data: { n } }),
});

/** A forward that counts its calls and answers with the count. */
const counter = () => {
  let calls = 0;
  const forward = async () => {
    calls += 1;
    return answer(calls);
  };
  return { forward, calls: () => calls };
};

const items = async () =>
  ((await admin.send(new ScanCommand({ TableName: TABLE }))).Items ?? []).map((item) =>
    unmarshall(item),
  );

describe('idempotent writes on DynamoDB (moto)', () => {
  it('stores the first answer with a conditional put and replays it to a second container', async () => {
    const request = write();
    const first = counter();
    const one = await container()(request, first.forward);
    const two = await container()(request, first.forward);
    expect(one).toEqual({ response: answer(1), replayed: false });
    expect(two).toEqual({ response: answer(1), replayed: true });
    expect(first.calls()).toBe(1);
    const stored = (await items()).filter((item) => item.status === 'COMPLETED');
    expect(stored.length).toBeGreaterThan(0);
    for (const item of stored) {
      // The key and the payload are hashes: no partner id, key or body in the table.
      expect(JSON.stringify({ ...item, data: undefined })).not.toMatch(/alpha|setpoint|key-/);
      expect(item.expiration).toBeGreaterThan(Date.now() / 1000);
      expect(item.id).toMatch(/^ioto-bff#/);
    }
  });

  it('refuses the same key with another body as reused', async () => {
    const request = write();
    await container()(request, counter().forward);
    await expect(
      container()({ ...request, fields: { ...request.fields, value: 22 } }, counter().forward),
    ).rejects.toMatchObject({ status: 422, code: 'idempotency_key_reused' });
  });

  it('lets exactly one of two concurrent containers forward; the other is told it is in progress', async () => {
    const request = write();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let forwarded = 0;
    const slow = async () => {
      forwarded += 1;
      await gate;
      return answer(forwarded);
    };
    const first = container()(request, slow);
    // The first has written its in-progress record once its forward runs.
    while (forwarded === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await expect(container()(request, slow)).rejects.toMatchObject({
      status: 409,
      code: 'idempotency_in_progress',
    });
    release();
    await expect(first).resolves.toEqual({ response: answer(1), replayed: false });
    expect(forwarded).toBe(1);
  });

  it('takes over a key whose in-progress record outlived its caller', async () => {
    const request = write({ remainingMs: 1 });
    let abandoned = false;
    // The first caller writes its record, then "dies" (its forward never settles).
    void container()(request, () => {
      abandoned = true;
      return new Promise<APIGatewayProxyResult>(() => {});
    });
    while (!abandoned) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const next = counter();
    await expect(container()({ ...request, remainingMs: 10_000 }, next.forward)).resolves.toEqual({
      response: answer(1),
      replayed: false,
    });
    expect(next.calls()).toBe(1);
  });

  it('forwards again once the stored answer has expired (DynamoDB TTL may lag: the condition does not)', async () => {
    const request = write();
    const forward = counter();
    await container()(request, forward.forward);
    // Age every record of this key past its expiry, as time would.
    for (const item of await items()) {
      await admin.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { id: { S: String(item.id) } },
          UpdateExpression: 'SET expiration = :past',
          ExpressionAttributeValues: { ':past': { N: String(Math.floor(Date.now() / 1000) - 1) } },
        }),
      );
    }
    await expect(container()(request, forward.forward)).resolves.toEqual({
      response: answer(2),
      replayed: false,
    });
  });

  it('leaves no record of a call that failed, so a retry forwards', async () => {
    const request = write();
    const failing = async (): Promise<APIGatewayProxyResult> => {
      throw new Error('Ioto answered 500');
    };
    await expect(container()(request, failing)).rejects.toThrow('Ioto answered 500');
    const retry = counter();
    await expect(container()(request, retry.forward)).resolves.toEqual({
      response: answer(1),
      replayed: false,
    });
  });

  it('answers 503 idempotency_unavailable without forwarding when DynamoDB cannot be reached', async () => {
    const forward = counter();
    await expect(container('http://127.0.0.1:9')(write(), forward.forward)).rejects.toMatchObject({
      status: 503,
      code: 'idempotency_unavailable',
    });
    expect(forward.calls()).toBe(0);
  });

  it('reads what it wrote with consistent reads: a record exists right after the first answer', async () => {
    const request = write();
    await container()(request, counter().forward);
    const completed = (await items()).filter((item) => item.status === 'COMPLETED');
    const [one] = completed;
    expect(one).toBeDefined();
    const got = await admin.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { id: { S: String(one?.id) } },
        ConsistentRead: true,
      }),
    );
    expect(got.Item).toBeDefined();
  });
});
