/**
 * `npm run load [-- --requests N --concurrency C --seed S]`: a benchmark, never assertions in
 * jest. Sends N requests (default 20,000), C at a time (default 32), through a local gateway of
 * its own (the real authorizer and proxy behind the API Gateway emulator, over the Ioto
 * simulator, all in this process on 127.0.0.1), as the development partners: reads and writes
 * they are granted, refusals, and walks over every page of a list (`load-mix.ts`). Prints the
 * throughput, latency percentiles, status counts, unexpected answers (each kind names the one
 * answer it must get) and the process heap and RSS before and after. Exits 1 on any unexpected
 * answer. For a forced GC before each memory reading run it with
 * `NODE_OPTIONS=--expose-gc npm run load`.
 */
import { performance } from 'node:perf_hooks';
import { type DevGateway, startDevGateway } from '../fuzz/gateway-rig';
import { signJwt } from '../local-issuer';
import { type Expected, LOAD_KINDS, LOAD_WALKS, type LoadRequest } from './load-mix';

interface Options {
  readonly requests: number;
  readonly concurrency: number;
  readonly seed: number;
}

function parseArgs(argv: readonly string[]): Options {
  const options = { requests: 20_000, concurrency: 32, seed: 20261126 };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = (argv[i] ?? '').split('=', 2);
    const raw = inline ?? argv[++i];
    const value = Number(raw);
    const key = { '--requests': 'requests', '--concurrency': 'concurrency', '--seed': 'seed' }[
      flag ?? ''
    ] as keyof Options | undefined;
    if (key === undefined) {
      throw new Error(
        `Unknown argument ${JSON.stringify(argv[i])}: use --requests N, --concurrency C, --seed S`,
      );
    }
    if (!Number.isSafeInteger(value) || (key !== 'seed' && value < 1)) {
      throw new Error(`${flag} needs a positive integer, got ${JSON.stringify(raw)}`);
    }
    options[key] = value;
  }
  return options;
}

/** mulberry32: a small seeded generator, so the mix of a seed is always the same. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MiB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)] ?? 0;

/** `global.gc` when Node runs with --expose-gc. */
const forceGc = (globalThis as { gc?: () => void }).gc;

function memory() {
  forceGc?.();
  forceGc?.();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
  readonly ms: number;
}

/** Whether an answer is the one its kind must get; a reason when it is not. */
function unexpected(expected: Expected, answer: Answer): string | undefined {
  const { status, body } = answer;
  if (status !== expected.status) return `status ${status}, not ${expected.status}`;
  if ('code' in expected) {
    return body?.code === expected.code
      ? undefined
      : `code ${String(body?.code)}, not ${expected.code}`;
  }
  const data = body?.data;
  if (expected.data === 'list' && !Array.isArray(data)) return 'data is not a list';
  if (
    expected.data === 'record' &&
    (data === null || typeof data !== 'object' || Array.isArray(data))
  ) {
    return 'data is not a record';
  }
  if (expected.data === 'any' && !(body && 'data' in body)) return 'no data';
  return undefined;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const rig: DevGateway = await startDevGateway({ withFuzzPartner: false });
  try {
    const tokens = {
      acme: rig.tokenFor('acme'),
      globex: rig.tokenFor('globex'),
      initech: rig.tokenFor('initech'),
      'fuzz-all': '',
      // Signed by the issuer, for a client no partner holds.
      forged: signJwt(rig.issuerKey, {
        iss: 'urn:ioto-bff:local-issuer',
        sub: 'mallory-client',
        client_id: 'mallory-client',
        scope: rig.access.scope,
        token_use: 'access',
        exp: Math.floor(Date.now() / 1000) + 3600,
      }),
    };
    const call = async (request: LoadRequest, pageToken?: string): Promise<Answer> => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (request.as !== undefined) headers.authorization = `Bearer ${tokens[request.as]}`;
      const started = performance.now();
      const response = await fetch(`${rig.url}/v1/${request.operation}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(pageToken ? { ...request.body, pageToken } : request.body),
      });
      const text = await response.text();
      const ms = performance.now() - started;
      let body: Record<string, unknown> | undefined;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = undefined;
      }
      return { status: response.status, body, ms };
    };

    // Warm-up: every kind once, then memory before.
    for (const [n, kind] of LOAD_KINDS.entries()) await call(kind.request(n));
    rig.simulator.reset();
    const before = memory();

    const jobs = [
      ...LOAD_KINDS.map((kind) => ({ kind, walk: undefined, weight: kind.weight })),
      ...LOAD_WALKS.map((walk) => ({ kind: undefined, walk, weight: walk.weight })),
    ];
    const totalWeight = jobs.reduce((sum, job) => sum + job.weight, 0);
    const next = random(options.seed);
    const pick = () => {
      let r = next() * totalWeight;
      for (const job of jobs) {
        r -= job.weight;
        if (r < 0) return job;
      }
      return jobs[0];
    };

    const latencies: number[] = [];
    const byKind = new Map<string, { count: number; latencies: number[]; unexpected: number }>();
    const statuses: Record<string, number> = {};
    const failures: string[] = [];
    let unexpectedCount = 0;
    let walksStarted = 0;
    let walksCompleted = 0;
    let walksCut = 0;
    let sent = 0;
    const counters = new Map<string, number>();

    const record = (name: string, answer: Answer | undefined, problem: string | undefined) => {
      const stats = byKind.get(name) ?? { count: 0, latencies: [], unexpected: 0 };
      byKind.set(name, stats);
      stats.count += 1;
      if (answer) {
        latencies.push(answer.ms);
        stats.latencies.push(answer.ms);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      } else {
        statuses['no answer'] = (statuses['no answer'] ?? 0) + 1;
      }
      if (problem !== undefined) {
        stats.unexpected += 1;
        unexpectedCount += 1;
        if (failures.length < 20) failures.push(`${name}: ${problem}`);
      }
    };
    const attempt = async (name: string, request: LoadRequest, pageToken?: string) => {
      try {
        return await call(request, pageToken);
      } catch (error) {
        record(name, undefined, `no answer: ${(error as Error).message}`);
        return undefined;
      }
    };

    const started = performance.now();
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (sent < options.requests) {
          const job = pick();
          if (job === undefined) return;
          if (job.kind) {
            const { kind } = job;
            const n = counters.get(kind.name) ?? 0;
            counters.set(kind.name, n + 1);
            sent += 1;
            const answer = await attempt(kind.name, kind.request(n));
            if (answer) record(kind.name, answer, unexpected(kind.expected, answer));
            continue;
          }
          // A walk: every page, as long as the request budget lasts.
          const { walk } = job;
          walksStarted += 1;
          const seen: string[] = [];
          let token: string | undefined;
          let complete = false;
          let broken = false;
          while (sent < options.requests) {
            sent += 1;
            const request = { as: walk.as, operation: walk.operation, body: walk.body };
            const answer = await attempt(walk.name, request, token);
            if (answer === undefined) {
              broken = true;
              break;
            }
            const problem = unexpected({ status: 200, data: 'list' }, answer);
            record(walk.name, answer, problem);
            if (problem) {
              broken = true;
              break;
            }
            const items = (answer.body?.data ?? []) as { id?: string }[];
            for (const item of items) seen.push(item.id ?? '');
            const following = answer.body?.nextPageToken;
            if (typeof following !== 'string') {
              complete = following === null;
              break;
            }
            token = following;
          }
          if (complete) {
            walksCompleted += 1;
            if (seen.join() !== walk.ids.join()) {
              unexpectedCount += 1;
              failures.push(
                `${walk.name}: the pages hold ${seen.length} ids, not the ${walk.ids.length} in order`,
              );
            }
          } else if (!broken) walksCut += 1;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const after = memory();
    // What the simulator keeps (created items, its record of the last 10,000 requests) is not
    // the gateway's: a third reading without it.
    rig.simulator.reset();
    const withoutSimulatorState = memory();

    const sorted = [...latencies].sort((a, b) => a - b);
    const ms = (value: number) => `${value.toFixed(2)} ms`;
    const lines = [
      `load: ${sent} requests, ${options.concurrency} concurrent, mix seed ${options.seed}, gateway ${rig.url} ` +
        '(authorizer, proxy and Ioto simulator in this process; the local gateway applies no usage-plan throttling)',
      `elapsed ${seconds.toFixed(2)} s, throughput ${(sent / seconds).toFixed(0)} requests/s`,
      `latency: p50 ${ms(percentile(sorted, 0.5))}, p90 ${ms(percentile(sorted, 0.9))}, ` +
        `p99 ${ms(percentile(sorted, 0.99))}, max ${ms(sorted.at(-1) ?? 0)}`,
      `statuses: ${Object.entries(statuses)
        .sort((a, b) => b[1] - a[1])
        .map(([status, n]) => `${status}: ${n}`)
        .join(', ')}`,
      `walks: ${walksStarted} started, ${walksCompleted} complete (each checked id by id), ${walksCut} cut by the request budget`,
      'by kind (requests, p50, p99, unexpected):',
      ...[...byKind]
        .sort((a, b) => b[1].count - a[1].count)
        .map(([name, stats]) => {
          const s = [...stats.latencies].sort((a, b) => a - b);
          return `  ${name}: ${stats.count}, ${ms(percentile(s, 0.5))}, ${ms(percentile(s, 0.99))}, ${stats.unexpected}`;
        }),
      `unexpected answers: ${unexpectedCount}`,
      ...failures.map((failure) => `  ${failure}`),
      `memory${forceGc ? ' (after a forced GC)' : ' (no forced GC: run with NODE_OPTIONS=--expose-gc for one)'}: ` +
        `heap used ${MiB(before.heapUsed)} before, ${MiB(after.heapUsed)} after; ` +
        `RSS ${MiB(before.rss)} before, ${MiB(after.rss)} after; peak RSS ${MiB(process.resourceUsage().maxRSS * 1024)}; ` +
        `after resetting the simulator's data and request record: heap used ${MiB(withoutSimulatorState.heapUsed)}, ` +
        `RSS ${MiB(withoutSimulatorState.rss)}`,
    ];
    console.log(lines.join('\n'));
    return unexpectedCount === 0 ? 0 : 1;
  } finally {
    await rig.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
