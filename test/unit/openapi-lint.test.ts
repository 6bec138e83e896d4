import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildOpenApiDocument } from '../../lambda/docs/openapi-document';

/**
 * The description `npm run openapi` prints, linted by Redocly CLI with its recommended rules
 * (redocly.yaml says which one is off, and why): no error; warnings are printed.
 */

const ROOT = join(__dirname, '..', '..');
const NODE_24 = join(ROOT, 'node_modules', '.bin', 'node');
const REDOCLY_CLI = join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');

interface LintProblem {
  readonly ruleId: string;
  readonly severity: 'error' | 'warn';
  readonly message: string;
  readonly location?: readonly { readonly pointer?: string }[];
}

interface LintReport {
  readonly totals: { readonly errors: number; readonly warnings: number };
  readonly problems: readonly LintProblem[];
}

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'ioto-bff-openapi-lint-'));
});

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Lints `document` with the repository's redocly.yaml and returns Redocly's JSON report. */
async function lint(document: object): Promise<LintReport> {
  for (const [file, what] of [
    [NODE_24, "the project's Node 24 (the `node` devDependency)"],
    [REDOCLY_CLI, '@redocly/cli'],
  ] as const) {
    if (!existsSync(file)) throw new Error(`${what} is missing at ${file}: run npm ci`);
  }
  const file = join(workDir, `openapi-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(document, null, 2));
  const run = promisify(execFile);
  const args = [REDOCLY_CLI, 'lint', file, '--config', join(ROOT, 'redocly.yaml')];
  const { stdout } = await run(NODE_24, [...args, '--format=json'], {
    cwd: ROOT,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string }) => {
    // Redocly exits 1 when it finds errors; the report is on stdout all the same.
    if (error.stdout?.trim().startsWith('{')) return { stdout: error.stdout };
    throw new Error(`Redocly CLI failed to run:\n${error.stderr ?? error}`);
  });
  return JSON.parse(stdout) as LintReport;
}

const summary = (problems: readonly LintProblem[]) =>
  problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} (${p.location?.[0]?.pointer})`);

it.each([
  ['the default options', { defaultLimit: 25, maxLimit: 100, version: '0.1.0' }],
  [
    'a deployment',
    {
      defaultLimit: 10,
      maxLimit: 50,
      version: '0.1.0',
      servers: [{ url: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/' }],
      tokenUrl: 'https://partners.auth.eu-west-1.amazoncognito.com/oauth2/token',
      scope: 'ioto-bff/partner-api',
    },
  ],
])('lints with no error for %s', async (_name, options) => {
  const report = await lint(buildOpenApiDocument(options));
  const warnings = report.problems.filter((p) => p.severity !== 'error');
  // Allowed, but shown: each one is either fixed or explained in redocly.yaml.
  if (warnings.length > 0) console.warn(summary(warnings).join('\n'));
  expect(summary(report.problems.filter((p) => p.severity === 'error'))).toEqual([]);
  expect(report.totals.errors).toBe(0);
});

it('finds the errors it is there to find', async () => {
  const broken = {
    ...buildOpenApiDocument({ defaultLimit: 25, maxLimit: 100, version: '0.1.0' }),
    security: [{ nowhere: [] }],
    servers: [{ url: 'https://example.org/' }],
  };
  const report = await lint(broken);
  expect(report.problems.map((p) => p.ruleId)).toEqual(
    expect.arrayContaining(['security-defined', 'no-server-trailing-slash']),
  );
});
