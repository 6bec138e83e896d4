/**
 * `npm run bench`: measurements, never assertions. Prints
 * 1. the size of the proxy Lambda bundle (minified, AWS SDK external as on the Lambda runtime)
 *    and its cold load time in a fresh Node process;
 * 2. latency percentiles, throughput and memory of the local gateway over the simulator.
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

const ROOT = process.cwd();
const BUNDLE = join(ROOT, '.local', 'bench-proxy-handler.cjs');
const REQUESTS = 2_000;
const CONCURRENCY = 16;
const COLD_RUNS = 5;

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

function measureBundle(): void {
  execFileSync(
    join(ROOT, 'node_modules', '.bin', 'esbuild'),
    [
      'lambda/handlers/proxy.ts',
      '--bundle',
      '--platform=node',
      '--target=node24',
      '--format=cjs',
      '--minify',
      '--external:@aws-sdk/*',
      '--log-level=warning',
      `--outfile=${BUNDLE}`,
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
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
          IOTO_ENDPOINT: 'https://ioto.example.com',
          IOTO_TOKEN_SECRET_ID: 'ioto-token',
          PAGE_TOKEN_SECRET_ID: 'page-key',
          ACCESS_CONFIG: readFileSync(join(ROOT, 'dev', 'dev-access.json'), 'utf8'),
          AWS_REGION: 'eu-west-1',
          POWERTOOLS_TRACE_DISABLED: 'true',
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
  await measureGateway();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
