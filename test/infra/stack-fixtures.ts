import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type DeploymentConfig, parseDeploymentConfig } from '../../lib/config';
import { IotoBffStack } from '../../lib/ioto-bff-stack';

/** The sample deployment configuration cdk.json names. */
export const SAMPLE_CONFIG = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'lib', 'sample-config.json'), 'utf8'),
) as Record<string, unknown>;

/** The sample with top-level sections replaced (shallow, per section). */
export const configWith = (overrides: Record<string, unknown> = {}): DeploymentConfig =>
  parseDeploymentConfig({ ...SAMPLE_CONFIG, ...overrides });

/** Synthesizes the stack without bundling (esbuild is covered by the bundle test). */
export function synthesize(config: DeploymentConfig = configWith()) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new IotoBffStack(app, 'IotoBffTest', { config });
  return { app, stack, template: Template.fromStack(stack) };
}

/**
 * An external OIDC issuer instead of Cognito, with one partner it identifies by client id. Its
 * access tokens name this API in `aud`, which an issuer other than Cognito must have.
 */
export const OIDC_OVERRIDES = {
  identity: {
    type: 'oidc',
    issuer: 'https://login.example.com/',
    audience: ['https://api.ioto-bff.example.com'],
    scope: 'ioto/partners',
  },
  partners: [
    {
      id: 'acme',
      operations: ['device/find'],
      accounts: ['A1'],
      identity: { issuer: 'https://login.example.com/', clientId: 'acme' },
    },
  ],
};
