/**
 * `npm run bench`: measurements, never assertions. Prints, side by side with a bare passthrough
 * handler (dev/bench/bare-passthrough.ts: the token read once with the same Secrets Manager
 * client, the body forwarded with `fetch`) and as ratios to it:
 * 1. bundle sizes (minified, AWS SDK external, as the stack builds them), the authorizer's too;
 * 2. cold module load: the median of COLD_RUNS fresh Node processes per bundle, interleaved,
 *    with source maps enabled as deployed (and the proxy without, for the record);
 * 3. warm invocations of both in one process against the loopback simulator, in interleaved
 *    blocks (dev/bench/warm-run.ts), heap growth, and the Secrets Manager and AppConfig calls
 *    counted by fakes that speak the real protocols (dev/bench/aws-fakes.ts);
 * 4. for 3 and for 500 partners: the synth time of the stack, and each function's cold start
 *    in a fresh process (load, then the first invocation, which reads, validates and indexes
 *    the access configuration), against the second invocation;
 * 5. latency percentiles, throughput and memory of the local gateway over the simulator.
 * Loops are bounded; everything listens on 127.0.0.1 and stops by itself.
 */
import { execFile, execFileSync, fork } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { readEnv } from '../../lambda/config/env';
import { SEED } from '../ioto-simulator';
import { localGatewayEnvSchema } from '../local-gateway/env';
import { startLocalGateway } from '../local-gateway/start-local-gateway';
import { mintPartnerToken } from '../local-issuer';
import { benchPartners } from './bench-partners';
import { runWarm, startBenchUpstreams, type WarmFigures } from './warm-run';

const ROOT = process.cwd();
const BUNDLE = join(ROOT, '.local', 'bench-proxy-handler.cjs');
const AUTHORIZER_BUNDLE = join(ROOT, '.local', 'bench-authorizer-handler.cjs');
const BARE_BUNDLE = join(ROOT, '.local', 'bench-bare-passthrough.cjs');
const PARTNER_COUNTS = [3, 500];
/** Where the deployed functions are told the access configuration is (any ids do). */
const APPCONFIG_ENV = {
  ACCESS_CONFIG_APPLICATION: 'bench-app',
  ACCESS_CONFIG_ENVIRONMENT: 'bench-env',
  ACCESS_CONFIG_PROFILE: 'bench-profile',
};
const REQUESTS = 2_000;
const CONCURRENCY = 16;
const COLD_RUNS = 9;

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/** Bundles a handler as the stack does: minified, CommonJS, AWS SDK external. */
function bundle(entry: string, outfile: string): void {
  execFileSync(
    join(ROOT, 'node_modules', '.bin', 'esbuild'),
    [
      entry,
      '--bundle',
      '--platform=node',
      '--target=node24',
      '--format=cjs',
      '--minify',
      // An external source map without the sources, as the stack writes it (bff-function.ts).
      '--sourcemap',
      '--sources-content=false',
      '--external:@aws-sdk/*',
      // As the stack bundles: `import()` of the runtime's SDK becomes `require` (bff-function.ts).
      '--supported:dynamic-import=false',
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
  IDEMPOTENCY_TABLE_NAME: 'bench-idempotency',
  ...APPCONFIG_ENV,
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_TRACE_DISABLED: 'true',
};

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const ms = (value: number) => `${value.toFixed(value < 10 ? 3 : 1)} ms`;
const ratio = (value: number, base: number) => (value / base).toFixed(2);
/** One line of the goals table: the figure, the proxy's, the baseline's, their ratio, the goal. */
function report(figure: string, proxy: string, bare: string, times: string, goal: string): void {
  console.log(
    `${figure.padEnd(34)}${proxy.padStart(12)}${bare.padStart(12)}${times.padStart(8)}  ${goal}`,
  );
}
const holds = (met: boolean) => (met ? 'holds' : 'MISSED');

/**
 * The time `require` of a bundle takes in a fresh process, with source maps enabled as the
 * stack deploys every function (NODE_OPTIONS=--enable-source-maps) or without.
 */
function coldLoad(file: string, sourceMaps = true): number {
  const out = execFileSync(
    process.execPath,
    [
      ...(sourceMaps ? ['--enable-source-maps'] : []),
      '-e',
      `const t=performance.now();require(${JSON.stringify(file)});console.log(performance.now()-t)`,
    ],
    { env: { ...process.env, ...PROXY_ENV } },
  );
  return Number(out.toString().trim());
}

/** Bundle sizes and cold loads of the proxy against the baseline. */
function measureBundles(): void {
  bundle('lambda/handlers/proxy.ts', BUNDLE);
  bundle('lambda/handlers/authorizer.ts', AUTHORIZER_BUNDLE);
  bundle('dev/bench/bare-passthrough.ts', BARE_BUNDLE);
  const loads = { proxy: [] as number[], bare: [] as number[], proxyNoMaps: [] as number[] };
  for (let i = 0; i < COLD_RUNS; i += 1) {
    loads.bare.push(coldLoad(BARE_BUNDLE));
    loads.proxy.push(coldLoad(BUNDLE));
    loads.proxyNoMaps.push(coldLoad(BUNDLE, false));
  }
  const size = { proxy: statSync(BUNDLE).size, bare: statSync(BARE_BUNDLE).size };
  report('figure', 'proxy', 'bare', 'ratio', 'goal');
  report(
    'bundle (minified, SDK external)',
    kib(size.proxy),
    kib(size.bare),
    ratio(size.proxy, size.bare),
    `<= 150 KiB: ${holds(size.proxy <= 150 * 1024)}`,
  );
  report('authorizer bundle', kib(statSync(AUTHORIZER_BUNDLE).size), '', '', 'reported');
  const cold = { proxy: median(loads.proxy), bare: median(loads.bare) };
  report(
    `cold module load (median of ${COLD_RUNS})`,
    ms(cold.proxy),
    ms(cold.bare),
    ratio(cold.proxy, cold.bare),
    `<= 1.3x: ${holds(cold.proxy <= 1.3 * cold.bare)}`,
  );
  const noMaps = median(loads.proxyNoMaps);
  report(
    '  proxy without --enable-source-maps',
    ms(noMaps),
    '',
    ratio(noMaps, cold.bare),
    'reported',
  );
}

/**
 * Cold starts as a partner meets them: in fresh processes (interleaved, COLD_RUNS each), the
 * module load and the first invocation, device/get against the simulator, with the token read
 * from Secrets Manager and, for the proxy, the access configuration from AppConfig (both faked
 * over their real protocols by this process).
 */
async function measureColdStarts(): Promise<void> {
  const upstreams = await startBenchUpstreams();
  // As deployed: metrics and INFO logs on (the npm script turns them off for this process).
  const { POWERTOOLS_METRICS_DISABLED: _metrics, ...inherited } = process.env;
  const childEnv = {
    ...inherited,
    ...upstreams.env,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    BENCH_EVENT: JSON.stringify(upstreams.get()),
  };
  const run = promisify(execFile);
  const coldStart = async (file: string) => {
    const { stdout } = await run(
      process.execPath,
      ['--enable-source-maps', join(ROOT, 'dev', 'bench', 'cold-start.cjs'), file],
      { env: childEnv, maxBuffer: 2 ** 24 },
    );
    // The handler's own log lines come first; the figures are the last line.
    const figures = JSON.parse(stdout.slice(stdout.lastIndexOf('{"loadMs"'))) as {
      loadMs: number;
      firstMs: number;
      status: number;
    };
    if (figures.status !== 200) throw new Error(`cold start answered ${figures.status}`);
    return figures.loadMs + figures.firstMs;
  };
  const starts = { proxy: [] as number[], bare: [] as number[] };
  for (let i = 0; i < COLD_RUNS; i += 1) {
    starts.bare.push(await coldStart(BARE_BUNDLE));
    starts.proxy.push(await coldStart(BUNDLE));
  }
  await upstreams.simulator.close();
  await upstreams.fakes.close();
  const cold = { proxy: median(starts.proxy), bare: median(starts.bare) };
  report(
    `cold start: load + 1st call (med. ${COLD_RUNS})`,
    ms(cold.proxy),
    ms(cold.bare),
    ratio(cold.proxy, cold.bare),
    'reported',
  );
}

/** Warm invocations, heap and AWS reads, from a child process (dev/bench/warm-run.ts). */
async function measureWarm(): Promise<void> {
  const { POWERTOOLS_METRICS_DISABLED: _metrics, ...env } = process.env;
  const child = fork(__filename, ['warm'], {
    execArgv: ['--expose-gc'],
    env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const figures = await new Promise<WarmFigures>((resolve, reject) => {
    child.once('message', (message) => resolve(message as WarmFigures));
    child.once('exit', (code) => reject(new Error(`the warm run exited with ${code}`)));
  });
  const { proxy, bare } = figures;
  report(
    `warm p50 (${figures.invocations} each)`,
    ms(proxy.p50),
    ms(bare.p50),
    ratio(proxy.p50, bare.p50),
    `<= 1.15x: ${holds(proxy.p50 <= 1.15 * bare.p50)}`,
  );
  report(
    'warm p99',
    ms(proxy.p99),
    ms(bare.p99),
    ratio(proxy.p99, bare.p99),
    `<= 1.3x: ${holds(proxy.p99 <= 1.3 * bare.p99)}`,
  );
  report('warm mean', ms(proxy.mean), ms(bare.mean), ratio(proxy.mean, bare.mean), 'reported');
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  report(
    'heap after 2,000 invocations',
    mib(figures.heapAfter2000),
    '',
    '',
    'both handlers, forced GC',
  );
  report(
    `heap after ${figures.invocations.toLocaleString('en')}`,
    mib(figures.heapAfterAll),
    '',
    ratio(figures.heapAfterAll, figures.heapAfter2000),
    `within 10%: ${holds(figures.heapAfterAll <= 1.1 * figures.heapAfter2000)}`,
  );
  const reads = Object.entries(figures.secretReads)
    .map(([secret, count]) => `${secret} ${count}`)
    .join(', ');
  console.log(
    `Secrets Manager GetSecretValue over the run (both handlers, one container each, TTL 300 s): ${reads}; ` +
      `AppConfig configuration reads: ${figures.configurationReads}`,
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
  console.log(
    `node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown CPU'}`,
  );
  measureBundles();
  await measureColdStarts();
  await measureWarm();
  measurePartners();
  await measureGateway();
}

if (process.argv[2] === 'warm') {
  runWarm({ proxy: BUNDLE, bare: BARE_BUNDLE }).then(
    (figures) => process.send?.(figures, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
