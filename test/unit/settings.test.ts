import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { localGatewayEnvSchema } from '../../dev/local-gateway/env';
import { awsProxyEnvSchema, readEnv } from '../../lambda/config/env';
import {
  fromEnvironment,
  PROXY_LIMITS,
  type ProxyLimitName,
  type ProxyLimits,
  toEnvironment,
} from '../../lambda/config/settings';
import { parseDeploymentConfig } from '../../lib/config';

/**
 * One settings schema: every proxy limit is validated at synth (the deployment configuration)
 * and at cold start (the function's and the local gateway's environment) with the bounds and
 * default of PROXY_LIMITS, so a bound changed there moves all three together.
 */
const SAMPLE = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'lib', 'sample-config.json'), 'utf8'),
) as Record<string, unknown>;
const AWS_ENV = {
  IOTO_ENDPOINT: 'https://abc.execute-api.eu-west-1.amazonaws.com',
  IOTO_TOKEN_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ioto-token',
  PAGE_TOKEN_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:page-key',
  IDEMPOTENCY_TABLE_NAME: 'ioto-bff-idempotency',
  ACCESS_CONFIG_APPLICATION: 'app',
  ACCESS_CONFIG_ENVIRONMENT: 'env',
  ACCESS_CONFIG_PROFILE: 'profile',
};

/** Keeps the cross-field rules (default page size within the maximum, deadline below the timeout) out of the way. */
const roomFor = (name: ProxyLimitName, value: number): Partial<ProxyLimits> => ({
  [name]: value,
  ...(name === 'pageLimitDefault' && { pageLimitMax: PROXY_LIMITS.pageLimitMax.max }),
  ...(name === 'pageLimitMax' && { pageLimitDefault: PROXY_LIMITS.pageLimitDefault.min }),
});

const atSynth = (limits: Partial<ProxyLimits>) =>
  parseDeploymentConfig({ ...SAMPLE, limits: { proxyTimeoutSeconds: 28, ...limits } });

const variables = (limits: Partial<ProxyLimits>) =>
  Object.fromEntries(
    Object.entries(limits).map(([name, value]) => [
      PROXY_LIMITS[name as ProxyLimitName].env,
      String(value),
    ]),
  );
const atColdStart = (limits: Partial<ProxyLimits>) =>
  readEnv(awsProxyEnvSchema, { ...AWS_ENV, ...variables(limits) });
const locally = (limits: Partial<ProxyLimits>) => readEnv(localGatewayEnvSchema, variables(limits));

const limits = Object.entries(PROXY_LIMITS).map(
  ([name, spec]) => [name as ProxyLimitName, spec] as const,
);

describe('the proxy limits', () => {
  it.each(limits)('%s has the same default at synth, at cold start and locally', (name, spec) => {
    expect(atSynth({}).limits[name]).toBe(spec.default);
    expect(atColdStart({})[spec.env]).toBe(spec.default);
    expect(locally({})[spec.env]).toBe(spec.default);
  });

  it.each(limits)('%s accepts its bounds everywhere', (name, spec) => {
    for (const value of [spec.min, spec.max]) {
      expect(atSynth(roomFor(name, value)).limits[name]).toBe(value);
      expect(atColdStart(roomFor(name, value))[spec.env]).toBe(value);
      expect(locally(roomFor(name, value))[spec.env]).toBe(value);
    }
  });

  it.each(limits)('%s refuses one past either bound everywhere, naming it', (name, spec) => {
    for (const value of [spec.min - 1, spec.max + 1].filter((v) => v >= 0)) {
      expect(() => atSynth(roomFor(name, value))).toThrow(`limits.${name}`);
      expect(() => atColdStart(roomFor(name, value))).toThrow(spec.env);
      expect(() => locally(roomFor(name, value))).toThrow(spec.env);
    }
  });

  it('refuses a default page size above the maximum everywhere, naming it', () => {
    const limits = { pageLimitDefault: 50, pageLimitMax: 10 };
    expect(() => atSynth(limits)).toThrow('limits.pageLimitDefault: must not exceed pageLimitMax');
    expect(() => atColdStart(limits)).toThrow('PAGE_LIMIT_DEFAULT: must not exceed PAGE_LIMIT_MAX');
    expect(() => locally(limits)).toThrow('PAGE_LIMIT_DEFAULT: must not exceed PAGE_LIMIT_MAX');
  });

  it('keeps the upstream deadline a second below the proxy timeout at synth', () => {
    expect(() =>
      parseDeploymentConfig({
        ...SAMPLE,
        limits: { upstreamTimeoutMs: 11_001, proxyTimeoutSeconds: 12 },
      }),
    ).toThrow('limits.upstreamTimeoutMs: must be at least 1 s below limits.proxyTimeoutSeconds');
    expect(
      parseDeploymentConfig({
        ...SAMPLE,
        limits: { upstreamTimeoutMs: 11_000, proxyTimeoutSeconds: 12 },
      }).limits.upstreamTimeoutMs,
    ).toBe(11_000);
  });

  it('carries every limit through the environment and back unchanged', () => {
    const chosen = Object.fromEntries(
      limits.map(([name, spec]) => [name, Math.floor((spec.min + spec.max) / 2)]),
    ) as unknown as ProxyLimits;
    const consistent = { ...chosen, pageLimitDefault: 10, pageLimitMax: 20 };
    const environment = toEnvironment(consistent);
    expect(Object.keys(environment).sort()).toEqual(limits.map(([, spec]) => spec.env).sort());
    expect(fromEnvironment(readEnv(awsProxyEnvSchema, { ...AWS_ENV, ...environment }))).toEqual(
      consistent,
    );
  });

  it.each(limits)(
    '%s is documented in the README with its variable, default and bounds',
    (name, spec) => {
      const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8').split('\n');
      const row = readme.find(
        (line) => line.startsWith(`| \`${spec.env}\``) || line.includes(` / \`${spec.env}\``),
      );
      expect(row).toContain(String(spec.default));
      if (row?.includes('–')) expect(row).toContain(`${spec.min}–${spec.max}`);
      const limitsRow = readme.find((line) => line.startsWith('| `limits`'));
      expect(limitsRow).toContain(`\`${name}\``);
    },
  );
});
