import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsFakes, startAwsFakes } from '../../dev/bench/aws-fakes';
import { IotoSimulator, SEED } from '../../dev/ioto-simulator';
import { XRayTracer } from '../../lambda/tracing/xray-tracer';
import { nodeTransport } from '../../lambda/upstream/http-transport';

/**
 * The X-Ray subsegments the proxy sends, received by a UDP socket standing in for the X-Ray
 * daemon: a real SDK call to a Secrets Manager endpoint over HTTP and a real Ioto call to the
 * simulator, inside one traced invocation.
 */

const CANARY = `CANARY-${randomBytes(16).toString('hex')}`;
const ROOT = '1-67890abc-0123456789abcdef01234567';
const PARENT = '53995c3f42cd8ad8';

let daemon: Socket;
let port: number;
let datagrams: string[];
let fakes: AwsFakes;
let simulator: IotoSimulator;
const clients: SecretsManagerClient[] = [];

/** A fresh client each time: the tracer adds its middleware once per client. */
function secretsClient(): SecretsManagerClient {
  const client = new SecretsManagerClient({
    endpoint: fakes.env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  daemon = createSocket('udp4');
  daemon.on('message', (message) => datagrams.push(message.toString('utf8')));
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  port = (daemon.address() as AddressInfo).port;
  simulator = await IotoSimulator.start({ token: CANARY });
  fakes = await startAwsFakes({
    secrets: { 'ioto-token': JSON.stringify({ token: CANARY }) },
    configuration: '{}',
  });
});

beforeEach(() => {
  datagrams = [];
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await fakes?.close();
  await simulator?.close();
  daemon?.close();
});

/** The documents received, once `count` have arrived. */
async function received(count: number): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 200 && datagrams.length < count; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return datagrams.map((datagram) => {
    const [header, document] = datagram.split('\n');
    expect(JSON.parse(header ?? '')).toEqual({ format: 'json', version: 1 });
    return JSON.parse(document ?? '') as Record<string, unknown>;
  });
}

function tracerFor(sampled: '0' | '1', options: { enabled?: boolean } = {}) {
  return new XRayTracer({
    serviceName: 'ioto-bff-proxy',
    daemonAddress: `tcp:127.0.0.1:${port} udp:127.0.0.1:${port}`,
    traceData: () => ({ Root: ROOT, Parent: PARENT, Sampled: sampled }),
    // The suite runs with POWERTOOLS_TRACE_DISABLED, as every test does.
    enabled: true,
    ...options,
  });
}

/** One invocation that reads the token and calls Ioto, as the proxy does. */
function invocation(tracer: XRayTracer) {
  const client = tracer.instrumentAwsClient(secretsClient());
  const transport = tracer.traceTransport(nodeTransport);
  return tracer.traceHandler(async (_event: unknown, _context: { functionName: string }) => {
    await client.send(new GetSecretValueCommand({ SecretId: 'ioto-token' }));
    const answer = await transport(new URL(`${simulator.endpoint}/tok/device/get?limit=1`), {
      headers: { authorization: CANARY, 'content-type': 'application/json' },
      body: JSON.stringify({ id: SEED.deviceId, accountId: SEED.accounts[0]?.id }),
      signal: AbortSignal.timeout(5_000),
    });
    await answer.read(1_000_000);
    return { statusCode: answer.status };
  });
}

describe('XRayTracer', () => {
  it('sends the invocation, the AWS call and the Ioto call as subsegments of the trace', async () => {
    const tracer = tracerFor('1');
    const handler = invocation(tracer);
    expect(await handler({}, { functionName: 'ioto-bff-proxy' })).toEqual({ statusCode: 200 });
    const documents = await received(3);
    expect(documents).toHaveLength(3);
    const invocationDoc = documents.find((d) => d.name === '## ioto-bff-proxy');
    expect(invocationDoc).toMatchObject({
      trace_id: ROOT,
      parent_id: PARENT,
      type: 'subsegment',
      annotations: { ColdStart: true, Service: 'ioto-bff-proxy' },
    });
    const id = invocationDoc?.id as string;
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(documents.find((d) => d.name === 'Secrets Manager')).toMatchObject({
      trace_id: ROOT,
      parent_id: id,
      namespace: 'aws',
      aws: { operation: 'GetSecretValue', region: 'eu-west-1', retries: 0 },
      http: { response: { status: 200 } },
    });
    expect(documents.find((d) => d.name === '127.0.0.1')).toMatchObject({
      trace_id: ROOT,
      parent_id: id,
      namespace: 'remote',
      http: {
        request: { method: 'POST', url: `${simulator.endpoint}/tok/device/get` },
        response: { status: 200 },
      },
    });
    for (const document of documents) {
      expect(document.end_time as number).toBeGreaterThanOrEqual(document.start_time as number);
    }
    // Neither the token nor the answer reaches a trace.
    expect(datagrams.join('\n')).not.toContain(CANARY);
    expect(datagrams.join('\n')).not.toContain(SEED.deviceId);
  });

  it('annotates only the first invocation of the process as a cold start', async () => {
    const handler = invocation(tracerFor('1'));
    await handler({}, { functionName: 'proxy' });
    await received(3);
    datagrams = [];
    await handler({}, { functionName: 'proxy' });
    const documents = await received(3);
    expect(documents.find((d) => d.name === '## proxy')).toMatchObject({
      annotations: { ColdStart: false },
    });
  });

  it('marks an AWS call that failed with its status', async () => {
    const tracer = tracerFor('1');
    const client = tracer.instrumentAwsClient(secretsClient());
    const handler = tracer.traceHandler(
      async (_event: unknown, _context: { functionName: string }) => {
        await client
          .send(new GetSecretValueCommand({ SecretId: 'missing' }))
          .catch(() => undefined);
        return { statusCode: 503 };
      },
    );
    await handler({}, { functionName: 'proxy' });
    const documents = await received(2);
    expect(documents.find((d) => d.name === '## proxy')).toMatchObject({ fault: true });
    expect(documents.find((d) => d.name === 'Secrets Manager')).toMatchObject({
      aws: { operation: 'GetSecretValue' },
      http: { response: { status: 400 } },
      error: true,
    });
  });

  it.each([
    ['an invocation that is not sampled', tracerFor('0')],
    ['tracing switched off', tracerFor('1', { enabled: false })],
    [
      'no daemon',
      new XRayTracer({
        enabled: true,
        serviceName: 'ioto-bff-proxy',
        traceData: () => ({ Root: ROOT, Parent: PARENT, Sampled: '1' }),
      }),
    ],
  ])('sends nothing for %s, and still runs the handler', async (_case, tracer) => {
    const handler = invocation(tracer);
    expect(await handler({}, { functionName: 'proxy' })).toEqual({ statusCode: 200 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(datagrams).toEqual([]);
  });
});
