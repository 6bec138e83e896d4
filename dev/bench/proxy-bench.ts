/**
 * `npm run bench`: measurements, never assertions. Prints
 * 1. the size of the proxy Lambda bundle (minified, AWS SDK external as on the Lambda runtime)
 *    and its cold load time in a fresh Node process;
 * 2. for 3 and for 500 partners: the synth time of the stack, and each function's cold start
 *    in a fresh process (load, then the first invocation, which reads, validates and indexes
 *    the access configuration served by a faked AppConfig), against the second invocation;
 * 3. latency percentiles, throughput and memory of the local gateway over the simulator.
 * Loops are bounded; everything listens on 127.0.0.1 and stops by itself.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readEnv } from '../../lambda/config/env';
import { SEED } from '../ioto-simulator';
import { localGatewayEnvSchema } from '../local-gateway/env';
import { startLocalGateway } from '../local-gateway/start-local-gateway';
import { mintPartnerToken } from '../local-issuer';
import { benchPartners } from './bench-partners';

const ROOT = process.cwd();
const BUNDLE = join(ROOT, '.local', 'bench-proxy-handler.cjs');
const AUTHORIZER_BUNDLE = join(ROOT, '.local', 'bench-authorizer-handler.cjs');
const PARTNER_COUNTS = [3, 500];
/** Where the deployed functions are told the access configuration is (any ids do). */
const APPCONFIG_ENV = {
  ACCESS_CONFIG_APPLICATION: 'bench-app',
  ACCESS_CONFIG_ENVIRONMENT: 'bench-env',
  ACCESS_CONFIG_PROFILE: 'bench-profile',
};
const REQUESTS = 2_000;
const CONCURRENCY = 16;
const COLD_RUNS = 5;

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/** Bundles a handler as the stack does: minified, CommonJS, AWS SDK external. */
function bundle(handler: string, outfile: string): void {
  execFileSync(
    join(ROOT, 'node_modules', '.bin', 'esbuild'),
    [
      `lambda/handlers/${handler}.ts`,
      '--bundle',
      '--platform=node',
      '--target=node24',
      '--format=cjs',
      '--minify',
      '--external:@aws-sdk/*',
      '--log-level=warning',
      `--outfile=${outfile}`,
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
}

/** The proxy's environment, as the stack sets it (the token and key secrets are never read). */
const PROXY_ENV = {
  IOTO_ENDPOINT: 'https://ioto.example.com',
  IOTO_TOKEN_SECRET_ID: 'ioto-token',
  PAGE_TOKEN_SECRET_ID: 'page-key',
  ...APPCONFIG_ENV,
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_TRACE_DISABLED: 'true',
};

function measureBundle(): void {
  bundle('proxy', BUNDLE);
  bundle('authorizer', AUTHORIZER_BUNDLE);
  const loads: number[] = [];
  for (let i = 0; i < COLD_RUNS; i += 1) {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `const t=performance.now();require(${JSON.stringify(BUNDLE)});console.log(performance.now()-t)`,
      ],
      {
        env: {
          ...process.env,
          ...PROXY_ENV,
        },
      },
    );
    loads.push(Number(out.toString().trim()));
  }
  console.log(
    `proxy bundle: ${(statSync(BUNDLE).size / 1024).toFixed(0)} KiB minified (AWS SDK external)`,
  );
  console.log(
    `cold load (require of the bundle, median of ${COLD_RUNS}): ${median(loads).toFixed(1)} ms`,
  );
}

/** The access configuration of `count` partners, as the stack deploys it to AppConfig. */
function accessConfigOf(count: number): string {
  const dev = JSON.parse(readFileSync(join(ROOT, 'dev', 'dev-access.json'), 'utf8'));
  return JSON.stringify({
    scope: dev.scope,
    issuers: dev.issuers,
    usageKeyPrefix: 'iotobff-bench000000',
    partners: benchPartners(count).map(({ throttle: _throttle, ...partner }) => ({
      ...partner,
      identity: { issuer: dev.issuers[0].issuer, clientId: `${partner.id}-client` },
    })),
  });
}

/** Synth time and both functions' cold starts, with few and with many partners. */
function measurePartners(): void {
  const coldInvoke = (bundleFile: string, env: Record<string, string>, event: unknown) =>
    JSON.parse(
      execFileSync(process.execPath, [join(ROOT, 'dev', 'bench', 'cold-invoke.cjs'), bundleFile], {
        env: { ...process.env, ...env, BENCH_EVENT: JSON.stringify(event) },
      }).toString(),
    ) as { loadMs: number; firstMs: number; secondMs: number };
  for (const count of PARTNER_COUNTS) {
    const synth = JSON.parse(
      execFileSync(
        join(ROOT, 'node_modules', '.bin', 'tsx'),
        ['dev/bench/synth-time.ts', String(count)],
        {
          cwd: ROOT,
        },
      ).toString(),
    ) as { ms: number; templates: number; largestBytes: number };
    const access = accessConfigOf(count);
    const proxy = coldInvoke(
      BUNDLE,
      { ...PROXY_ENV, BENCH_ACCESS_CONFIG: access },
      // A partner id the configuration does not know: the proxy reads, validates and indexes
      // the configuration, then answers 401 before anything is sent to Ioto.
      {
        httpMethod: 'POST',
        path: '/v1/device/find',
        resource: '/v1/device/find',
        headers: {},
        body: '{}',
        requestContext: { authorizer: { partnerId: 'not-a-partner' }, requestId: 'bench' },
      },
    );
    const authorizer = coldInvoke(
      AUTHORIZER_BUNDLE,
      { ...APPCONFIG_ENV, AWS_REGION: 'eu-west-1', BENCH_ACCESS_CONFIG: access },
      // Read, validate and index the configuration, build the verifier, refuse the token.
      {
        type: 'TOKEN',
        authorizationToken: 'Bearer a.b.c',
        methodArn: 'arn:aws:execute-api:eu-west-1:1:a/prod/POST/v1/x/y',
      },
    );
    const ms = (value: number) => `${value.toFixed(1)} ms`;
    console.log(
      `${count} partners: synth ${ms(synth.ms)} (${synth.templates} templates, largest ` +
        `${(synth.largestBytes / 1024).toFixed(0)} KiB); proxy load ${ms(proxy.loadMs)}, first ` +
        `invocation ${ms(proxy.firstMs)}, next ${ms(proxy.secondMs)}; authorizer load ` +
        `${ms(authorizer.loadMs)}, first ${ms(authorizer.firstMs)}, next ${ms(authorizer.secondMs)}`,
    );
  }
}

async function measureGateway(): Promise<void> {
  const env = readEnv(localGatewayEnvSchema, { PORT: '0', POWERTOOLS_LOG_LEVEL: 'ERROR' });
  const gateway = await startLocalGateway({
    env,
    issuerKeyFile: join(tmpdir(), `ioto-bff-bench-${process.pid}.json`),
  });
  // As the development partner acme: authorizer (cached per token, as API Gateway does), policy
  // and proxy are all on the measured path.
  const authorization = `Bearer ${mintPartnerToken(gateway.issuerKey, gateway.access, 'acme')}`;
  const body = JSON.stringify({ id: SEED.deviceId });
  const call = async () => {
    const started = performance.now();
    const response = await fetch(`${gateway.url}/v1/device/get`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body,
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`unexpected ${response.status}`);
    return performance.now() - started;
  };
  for (let i = 0; i < 100; i += 1) await call(); // warm-up
  const rssBefore = process.memoryUsage().rss;
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        next += 1;
        latencies.push(await call());
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  console.log(
    `gateway device/get x${REQUESTS}, ${CONCURRENCY} concurrent: ${(REQUESTS / seconds).toFixed(0)} req/s, ` +
      `p50 ${percentile(sorted, 0.5).toFixed(2)} ms, p95 ${percentile(sorted, 0.95).toFixed(2)} ms, ` +
      `p99 ${percentile(sorted, 0.99).toFixed(2)} ms`,
  );
  console.log(
    `RSS: ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB after (gateway, handler and simulator in one process)`,
  );
  await gateway.close();
}

async function main(): Promise<void> {
  console.log(`node ${process.version}`);
  measureBundle();
  measurePartners();
  await measureGateway();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
