import { randomBytes } from 'node:crypto';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { type RunningLocalGateway, startLocalGateway } from '../../bin/local/start-local-gateway';
import { localGatewayEnvSchema, readEnv } from '../../lambda/config/env';
import type { PartnerPolicy } from '../../lambda/proxy/partner-policy';
import { secretsManagerTokenSource } from '../../lambda/upstream/secrets-token-source';
import type { TokenSource } from '../../lambda/upstream/token-provider';
import { captureOutput } from '../support/capture-output';
import { IotoSimulator } from '../support/ioto-simulator';

export const TOKEN_SECRET =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ioto-token-AbCdEf';

/** Settings of the gateways under test: short deadlines keep fault tests fast. */
export const TEST_ENV = {
  UPSTREAM_TIMEOUT_MS: '1000',
  UPSTREAM_RETRY_BASE_DELAY_MS: '5',
  MAX_BODY_BYTES: '65536',
  PAGE_LIMIT_MAX: '50',
} as const;

export interface CallResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: Record<string, unknown>;
}

/**
 * The integration rig: a canary-token Ioto simulator, the Ioto token served by the real Secrets
 * Manager code path (Powertools Parameters over a mocked SDK client), the local gateway in
 * front, and every response and log line kept so the canary can be searched for at the end.
 */
export async function startRig() {
  const canary = `CANARY-${randomBytes(16).toString('hex')}`;
  const output = captureOutput();
  const simulator = await IotoSimulator.start({ token: canary });
  let secretValue = canary;
  const secrets = mockClient(SecretsManagerClient);
  secrets.on(GetSecretValueCommand, { SecretId: TOKEN_SECRET }).callsFake(async () => ({
    SecretString: JSON.stringify({ token: secretValue }),
  }));
  const provider = new SecretsProvider({
    awsSdkV3Client: new SecretsManagerClient({ region: 'eu-west-1' }),
  });
  const responses: CallResult[] = [];
  const gateways: RunningLocalGateway[] = [];

  const gatewayFor = async (
    options: { tokenSource?: TokenSource; policy?: PartnerPolicy } = {},
  ) => {
    const env = readEnv(localGatewayEnvSchema, {
      ...TEST_ENV,
      IOTO_ENDPOINT: simulator.endpoint,
      IOTO_TOKEN_FILE: '/nonexistent/the-secret-source-is-used-instead',
      PORT: '0',
    });
    const gateway = await startLocalGateway({
      env,
      tokenSource: options.tokenSource ?? secretsManagerTokenSource(provider, TOKEN_SECRET, 300),
      ...(options.policy && { policy: options.policy }),
    });
    gateways.push(gateway);
    return gateway;
  };

  const gateway = await gatewayFor();

  /** POSTs (or sends `init`) to the gateway and records the whole response. */
  const send = async (base: string, path: string, init: RequestInit): Promise<CallResult> => {
    const response = await fetch(`${base}${path}`, init);
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Kept as text: the caller asserts on status and headers.
    }
    const result = { status: response.status, headers: response.headers, text, body };
    responses.push(result);
    return result;
  };

  return {
    canary,
    simulator,
    secrets,
    gateway,
    output,
    responses,
    gatewayFor,
    /** Rotates Ioto's token and the secret together, as an operator would. */
    rotate(): string {
      secretValue = simulator.rotateToken(`${canary}-rotated-${randomBytes(4).toString('hex')}`);
      return secretValue;
    },
    send,
    call(path: string, body?: unknown, base = gateway.url) {
      return send(base, path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    },
    async close() {
      for (const g of gateways) await g.close();
      await simulator.close();
      secrets.restore();
      output.restore();
    },
  };
}

export type Rig = Awaited<ReturnType<typeof startRig>>;
