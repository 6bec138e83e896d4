/**
 * `npm run fuzz [-- --runs N --seed S --concurrency C --case I[,J...] --examples E]`: the
 * seeded fast-check property of `gateway-fuzz.ts` against a local gateway of its own (the real
 * authorizer and proxy behind the API Gateway emulator, over a canary-token Ioto simulator, all
 * on 127.0.0.1). Prints the seed, the runs, the status and problem-code counts, the elapsed time
 * and every finding (grouped by rule, with reproductions: `--seed S --case I` runs one case
 * alone and prints it whole). Exits 1 on any finding, or when the gateway no longer answers a
 * valid device/find afterwards.
 */

import { formatReport, runGatewayFuzz } from './gateway-fuzz';
import { startDevGateway } from './gateway-rig';

/** The seed of `npm run fuzz` and of the jest sample, unless `--seed` says otherwise. */
export const DEFAULT_SEED = 20261126;
const DEFAULT_RUNS = 1000;

function parseArgs(argv: readonly string[]) {
  const options = {
    runs: DEFAULT_RUNS,
    seed: DEFAULT_SEED,
    concurrency: 8,
    examples: 2,
    only: undefined as number[] | undefined,
  };
  const integer = (name: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (value === undefined || !Number.isSafeInteger(n) || n < min) {
      throw new Error(`${name} needs an integer of at least ${min}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = (argv[i] ?? '').split('=', 2);
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--runs':
        options.runs = integer('--runs', value(), 1);
        break;
      case '--seed':
        options.seed = integer('--seed', value(), -(2 ** 31));
        break;
      case '--concurrency':
        options.concurrency = integer('--concurrency', value(), 1);
        break;
      case '--examples':
        options.examples = integer('--examples', value(), 0);
        break;
      case '--case':
        options.only = (value() ?? '').split(',').map((n) => integer('--case', n, 0));
        break;
      default:
        throw new Error(
          `Unknown argument ${JSON.stringify(argv[i])}: use --runs N, --seed S, --concurrency C, --case I[,J], --examples E`,
        );
    }
  }
  return options;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const rig = await startDevGateway();
  try {
    const runs = options.only?.length ?? options.runs;
    console.log(
      `fuzz: seed ${options.seed}, ${runs} ${options.only ? `case(s) ${options.only.join(',')}` : 'runs'}, ` +
        `${options.concurrency} concurrent, gateway ${rig.url} (MAX_BODY_BYTES ${rig.maxBodyBytes})`,
    );
    const progressEvery = Math.max(1000, Math.ceil(runs / 10));
    let reported = 0;
    const report = await runGatewayFuzz(
      { ...rig, resetUpstream: () => rig.simulator.reset() },
      {
        runs: options.runs,
        seed: options.seed,
        concurrency: options.concurrency,
        ...(options.only && { only: options.only }),
        onProgress: (done, findings) => {
          if (done - reported < progressEvery && done < runs) return;
          reported = done;
          console.log(`  ${done}/${runs} cases, ${findings} finding(s)`);
        },
      },
    );
    console.log(formatReport(report, options.only ? Number.POSITIVE_INFINITY : options.examples));
    if (options.only) {
      for (const finding of report.findings) console.log(JSON.stringify(finding, null, 2));
    }
    const memory = process.memoryUsage();
    console.log(
      `process: up, heap used ${(memory.heapUsed / 2 ** 20).toFixed(0)} MiB, RSS ${(memory.rss / 2 ** 20).toFixed(0)} MiB`,
    );
    return report.findings.length === 0 && report.health.ok ? 0 : 1;
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
