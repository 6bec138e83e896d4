import { readFile } from 'node:fs/promises';
import { ConfigurationError, readEnv } from '../../lambda/config/env';
import { parseTokenSecret } from '../../lambda/upstream/token-provider';
import { IotoSimulator } from '../ioto-simulator';
import { scrubberOf } from './answers';
import { formatResult, runProbe } from './probe';
import { type ProbeEnv, probeEnvSchema } from './probe-env';

/** Exit status: every check PASS or UNKNOWN. */
export const EXIT_OK = 0;
/** Exit status: at least one check FAIL. */
export const EXIT_FAILED = 1;
/** Exit status: the probe could not run (configuration, token file). */
export const EXIT_UNUSABLE = 2;

/** The token the probe uses: `IOTO_TOKEN_FILE` read and parsed as the proxy parses its secret. */
async function tokenOf(env: ProbeEnv): Promise<string | undefined> {
  const file = env.IOTO_TOKEN_FILE;
  if (file === undefined) return env.IOTO_TOKEN;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigurationError(`IOTO_TOKEN_FILE cannot be read (${code})`);
  }
  try {
    return parseTokenSecret(text);
  } catch (error) {
    throw new ConfigurationError(`IOTO_TOKEN_FILE: ${(error as Error).message}`);
  }
}

/**
 * `npm run probe`: reads the environment as `npm start` does, probes the Ioto cloud at
 * `IOTO_ENDPOINT` (or, without it, an embedded simulator on 127.0.0.1 with a random token),
 * writes one line per check and returns the exit status. No line holds the token.
 */
export async function runProbeCommand(
  source: Readonly<Record<string, string | undefined>>,
  write: (line: string) => void,
): Promise<number> {
  let secret = '';
  const print = (line: string) => write(secret === '' ? line : scrubberOf(secret)(line));
  let simulator: IotoSimulator | undefined;
  try {
    const env = readEnv(probeEnvSchema, source);
    if (env.IOTO_ENDPOINT === undefined) simulator = await IotoSimulator.start({ port: 0 });
    const token = simulator?.token ?? (await tokenOf(env));
    if (token === undefined) throw new ConfigurationError('No Ioto token configured');
    secret = token;
    const endpoint = env.IOTO_ENDPOINT ?? new URL(simulator?.endpoint ?? '');
    print(
      `ioto-bff probe of ${endpoint.origin}${endpoint.pathname === '/' ? '' : endpoint.pathname}: read-only (find and get calls only), ${env.UPSTREAM_TIMEOUT_MS} ms per call`,
    );
    if (simulator !== undefined) {
      print(
        'No IOTO_ENDPOINT is set, so this probes the embedded Ioto simulator, not a real cloud: set IOTO_ENDPOINT and IOTO_TOKEN_FILE to probe yours.',
      );
    }
    const report = await runProbe({
      endpoint,
      token,
      authScheme: env.IOTO_AUTH_SCHEME,
      ...(env.IOTO_ORIGIN !== undefined && { origin: env.IOTO_ORIGIN }),
      callTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
      maxResponseBytes: env.UPSTREAM_MAX_RESPONSE_BYTES,
    });
    for (const result of report.results) print(formatResult(result));
    const count = (status: string) => report.results.filter((r) => r.status === status).length;
    print(
      `${report.results.length} checks: ${count('PASS')} PASS, ${count('FAIL')} FAIL, ${count('UNKNOWN')} UNKNOWN (${report.calls} calls)`,
    );
    if (report.failed) {
      print(
        'FAIL: this cloud does not behave as the proxy assumes (docs/ioto-api.md §10 lists the open questions); fix the configuration or the proxy before going live.',
      );
    }
    return report.failed ? EXIT_FAILED : EXIT_OK;
  } catch (error) {
    const message =
      error instanceof ConfigurationError ? error.message : `unexpected error: ${String(error)}`;
    print(`ioto-bff probe could not run: ${message}`);
    return EXIT_UNUSABLE;
  } finally {
    await simulator?.close();
  }
}
