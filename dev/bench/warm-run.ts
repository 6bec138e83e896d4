import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { authorizerContextFor } from '../../lambda/auth/identity-fingerprint';
import { type AccessConfig, accessConfigSchema } from '../../lambda/config/access';
import { IotoSimulator, SEED } from '../ioto-simulator';
import { callerIdentity, lambdaContext } from '../local-gateway/api-gateway-emulator';
import { startAwsFakes } from './aws-fakes';

/**
 * The warm half of `npm run bench`, run in a child process of its own (`bench.cjs warm`) whose
 * stdout is discarded, as the Lambda runtime ships it away: both handler bundles loaded side by
 * side, invoked in interleaved blocks against one loopback simulator, with Secrets Manager and
 * AppConfig faked over their real protocols. Reports to the parent through IPC.
 */

export interface WarmFigures {
  readonly invocations: number;
  readonly proxy: { readonly p50: number; readonly p99: number; readonly mean: number };
  readonly bare: { readonly p50: number; readonly p99: number; readonly mean: number };
  /** Heap used after a forced collection, after 2,000 and after all proxy invocations. */
  readonly heapAfter2000: number;
  readonly heapAfterAll: number;
  /** GetSecretValue calls per secret (and stage) over the whole run. */
  readonly secretReads: Record<string, number>;
  readonly configurationReads: number;
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const BLOCK = 500;
const BLOCKS = 40;
const PARTNER = 'acme';

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), mean };
};

/** An API Gateway REST event of `operation` for the partner, as its authorizer allowed it. */
function eventFor(access: AccessConfig, operation: string, body: unknown): APIGatewayProxyEvent {
  const partner = access.partners.find((p) => p.id === PARTNER);
  if (partner === undefined) throw new Error(`no partner ${PARTNER} in the access configuration`);
  const context = authorizerContextFor(
    { id: partner.id, config: partner },
    Date.now() / 1000 + 3600,
  );
  const path = `/v1/${operation}`;
  return {
    httpMethod: 'POST',
    path,
    resource: path,
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: { 'content-type': ['application/json'] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      authorizer: { principalId: partner.id, ...context },
      protocol: 'HTTP/1.1',
      httpMethod: 'POST',
      identity: callerIdentity('127.0.0.1', 'bench'),
      path,
      stage: 'prod',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'bench',
      resourcePath: path,
    },
  };
}

/**
 * What both handlers run against: the simulator, Secrets Manager and AppConfig fakes, the
 * development access configuration, and the environment the stack gives the proxy.
 */
export async function startBenchUpstreams() {
  const configuration = readFileSync(join(process.cwd(), 'dev', 'dev-access.json'), 'utf8');
  const access = accessConfigSchema.parse(JSON.parse(configuration));
  const token = randomBytes(24).toString('hex');
  const simulator = await IotoSimulator.start({ token });
  const fakes = await startAwsFakes({
    secrets: {
      'ioto-token': JSON.stringify({ token }),
      'page-key': randomBytes(32).toString('hex'),
    },
    configuration,
  });
  // As the stack sets them (lib/constructs/bff-function.ts, lib/ioto-bff-stack.ts), tracing off:
  // the baseline traces nothing either.
  const env: Record<string, string> = {
    ...fakes.env,
    IOTO_ENDPOINT: simulator.endpoint,
    IOTO_TOKEN_SECRET_ID: 'ioto-token',
    PAGE_TOKEN_SECRET_ID: 'page-key',
    IDEMPOTENCY_TABLE_NAME: 'bench-idempotency',
    ACCESS_CONFIG_APPLICATION: 'bench-app',
    ACCESS_CONFIG_ENVIRONMENT: 'bench-env',
    ACCESS_CONFIG_PROFILE: 'bench-profile',
    POWERTOOLS_SERVICE_NAME: 'ioto-bff-proxy',
    POWERTOOLS_METRICS_NAMESPACE: 'IotoBff/bench',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_TRACE_DISABLED: 'true',
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
  };
  const accountId = access.partners.find((p) => p.id === PARTNER)?.accounts[0];
  return {
    simulator,
    fakes,
    env,
    /** device/get as the development partner acme; the account named, as the bare handler needs. */
    get: () => eventFor(access, 'device/get', { id: SEED.deviceId, accountId }),
    find: () => eventFor(access, 'device/find', { limit: 1, accountId }),
  };
}

export async function runWarm(bundles: { proxy: string; bare: string }): Promise<WarmFigures> {
  const { simulator, fakes, env, get: getEvent, find: findEvent } = await startBenchUpstreams();
  Object.assign(process.env, env);
  const proxy = (require(bundles.proxy) as { handler: Handler }).handler;
  const bare = (require(bundles.bare) as { handler: Handler }).handler;
  const get = getEvent();
  const context = () => lambdaContext('bench', 10_000);
  const invoke = async (handler: Handler, event: APIGatewayProxyEvent) => {
    const started = performance.now();
    const result = await handler(event, context());
    const elapsed = performance.now() - started;
    if (result.statusCode !== 200)
      throw new Error(`unexpected ${result.statusCode}: ${result.body}`);
    return elapsed;
  };
  // Warm-up: the first invocations read the token, the configuration, and JIT both paths.
  for (let i = 0; i < BLOCK; i += 1) {
    await invoke(bare, get);
    await invoke(proxy, get);
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  const heap = () => {
    // The simulator keeps the last 10,000 requests it received: forget them, so the figure is
    // the handlers' heap, not the simulator's record.
    simulator.reset();
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const times = { proxy: [] as number[], bare: [] as number[] };
  let heapAfter2000 = 0;
  for (let block = 0; block < BLOCKS; block += 1) {
    // Alternate which handler goes first, so neither always meets a freshly collected heap.
    const order = block % 2 === 0 ? (['bare', 'proxy'] as const) : (['proxy', 'bare'] as const);
    for (const name of order) {
      const handler = name === 'proxy' ? proxy : bare;
      for (let i = 0; i < BLOCK; i += 1) times[name].push(await invoke(handler, get));
    }
    if (times.proxy.length === 2_000) heapAfter2000 = heap();
  }
  const heapAfterAll = heap();
  // Paged calls: the page-token key is read when the first page token is sealed.
  const find = findEvent();
  for (let i = 0; i < 100; i += 1) {
    await invoke(bare, find);
    await invoke(proxy, find);
  }
  const figures: WarmFigures = {
    invocations: times.proxy.length,
    proxy: summary(times.proxy),
    bare: summary(times.bare),
    heapAfter2000,
    heapAfterAll,
    secretReads: Object.fromEntries(fakes.secretReads),
    configurationReads: fakes.configurationReads(),
  };
  await simulator.close();
  await fakes.close();
  return figures;
}
