import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { DeploymentConfig } from '../../lib/config';
import { IotoBffStack } from '../../lib/ioto-bff-stack';
import { configWith } from './stack-fixtures';

/**
 * AWS CloudFormation Linter (cfn-lint, Python, on the PATH) over every template the stack
 * synthesizes: the resource schemas of CloudFormation itself, which CDK's types do not enforce
 * (patterns, lengths, enums, conditions between properties). Errors always fail; warnings fail
 * unless listed in {@link ACCEPTED_WARNINGS} with the reason; informational matches are ignored.
 */
const ROOT = join(__dirname, '..', '..');

/** A cfn-lint warning accepted where it occurs, with the reason. */
interface AcceptedWarning {
  /** The cfn-lint rule id. */
  readonly rule: string;
  /** Where, as the match's path in the template joined with `/`. */
  readonly path: RegExp;
  readonly reason: string;
}

/** Warnings accepted, each narrowed to where it occurs, with the reason. */
const ACCEPTED_WARNINGS: readonly AcceptedWarning[] = [
  {
    rule: 'W3005',
    path: /^Resources\/(Proxy|Authorizer|Docs|AuditForwarder)Function[0-9A-F]{8}\/DependsOn\/\d+$/,
    reason:
      "aws-cdk-lib's lambda.Function always adds a DependsOn on its execution role, which its " +
      'Role GetAtt already implies: redundant, harmless, and not ours to remove.',
  },
];

/** One cfn-lint match of `--format json`. */
interface LintMatch {
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  /** The template; null for a match about cfn-lint's own configuration. */
  readonly Filename: string | null;
  readonly Location: { readonly Path?: readonly (string | number)[] | null };
}

/** The feature flags and settings of cdk.json, so the linted templates are the deployed ones. */
const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;

/** Every `*.template.json` under a cloud assembly directory, nested stacks' included. */
const templatesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.template.json'))
    .map((entry) => join(entry.parentPath, entry.name));

/**
 * Synthesizes the stack once for a configuration into a fresh directory under the OS temp
 * directory (bundling skipped: the templates are the same without it) and lints every template.
 */
function lint(config: DeploymentConfig): { templates: string[]; matches: LintMatch[] } {
  const outdir = mkdtempSync(join(tmpdir(), 'ioto-bff-cfn-lint-'));
  try {
    const app = new App({
      outdir,
      context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] },
    });
    new IotoBffStack(app, 'IotoBff', { config });
    app.synth();
    const templates = templatesUnder(outdir);
    const run = spawnSync('cfn-lint', ['--format', 'json', '--', ...templates], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.error !== undefined) {
      throw new Error(
        `cfn-lint could not be run (${run.error.message}): install the AWS CloudFormation ` +
          'Linter (pip install cfn-lint) so that `cfn-lint` is on the PATH',
      );
    }
    // Exit codes are bit flags of the levels found (2 error, 4 warning, 8 informational); 1 is
    // a failure of cfn-lint itself.
    if (run.status === 1 || run.stdout.trim() === '') {
      throw new Error(`cfn-lint failed (exit ${run.status}): ${run.stderr || run.stdout}`);
    }
    const matches = (JSON.parse(run.stdout) as LintMatch[]).map((m) => ({
      ...m,
      Filename: m.Filename === null ? null : relative(outdir, m.Filename),
    }));
    return { templates: templates.map((t) => relative(outdir, t)), matches };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The path of a match in its template, joined with `/`. */
const pathOf = (m: LintMatch) => (m.Location.Path ?? []).join('/');

/** Whether a warning is one of {@link ACCEPTED_WARNINGS}. */
const accepted = (m: LintMatch) =>
  ACCEPTED_WARNINGS.some((w) => w.rule === m.Rule.Id && w.path.test(pathOf(m)));

/** The matches that fail the test, as readable lines. */
const failing = (matches: readonly LintMatch[]): string[] =>
  matches
    .filter((m) => m.Level === 'Error' || (m.Level === 'Warning' && !accepted(m)))
    .map(
      (m) =>
        `${m.Level} ${m.Rule.Id} in ${m.Filename ?? '(no template)'} at ${pathOf(m)}: ${m.Message}`,
    );

/** A ULID-like Ioto account id, distinct per partner. */
const accountOf = (n: number) => `01JHB4Z6QKAC${String(n).padStart(14, '0')}`;

/** Usage-plan tiers the many partners are spread over. */
const TIERS = [
  { rateLimit: 10, burstLimit: 20 },
  { rateLimit: 25, burstLimit: 50 },
  { rateLimit: 50, burstLimit: 100 },
  { rateLimit: 100, burstLimit: 200 },
] as const;

/** 500 read-only partners `partner-001` to `partner-500`, one account each, over four tiers. */
const MANY_PARTNERS = Array.from({ length: 500 }, (_, i) => ({
  id: `partner-${String(i + 1).padStart(3, '0')}`,
  operations: ['device/find', 'device/get'],
  accounts: [accountOf(i + 1)],
  throttle: TIERS[i % TIERS.length],
}));

describe('cfn-lint', () => {
  it('finds no error and no unaccepted warning in the templates of the sample configuration', () => {
    const { templates, matches } = lint(configWith());
    expect(templates).toContain('IotoBff.template.json');
    expect(failing(matches)).toEqual([]);
  }, 120_000);

  it('finds no error and no unaccepted warning with 500 partners, nested stacks included', () => {
    const { templates, matches } = lint(configWith({ partners: MANY_PARTNERS }));
    // The parent and its nested partner stacks.
    expect(templates.length).toBeGreaterThan(2);
    expect(failing(matches)).toEqual([]);
  }, 300_000);

  it('names a warning rule and a reason for every accepted warning', () => {
    for (const { rule, reason } of ACCEPTED_WARNINGS) {
      expect([rule, /^W\d{4}$/.test(rule), reason.length > 20]).toEqual([rule, true, true]);
    }
  });
});
