/**
 * `tsx dev/bench/synth-time.ts <partners>`, for `npm run bench`: synthesizes the stack of the
 * sample configuration with that many partners (function bundling skipped: esbuild's share is
 * the same whatever the partners) and prints the milliseconds it took and the templates' sizes.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { App } from 'aws-cdk-lib';
import { parseDeploymentConfig } from '../../lib/config';
import { IotoBffStack } from '../../lib/ioto-bff-stack';
import { benchPartners } from './bench-partners';

const count = Number(process.argv[2] ?? '3');
const sample = JSON.parse(readFileSync(join('lib', 'sample-config.json'), 'utf8'));
const outdir = mkdtempSync(join(tmpdir(), 'ioto-bff-synth-bench-'));
const started = performance.now();
const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
new IotoBffStack(app, 'IotoBffBench', {
  config: parseDeploymentConfig({ ...sample, partners: benchPartners(count) }),
});
app.synth();
const ms = performance.now() - started;
const templates = readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
const largest = Math.max(...templates.map((f) => readFileSync(join(outdir, f)).length));
rmSync(outdir, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ ms, templates: templates.length, largestBytes: largest }));
