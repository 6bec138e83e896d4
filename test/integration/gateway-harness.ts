import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { IotoSimulator } from '../../dev/ioto-simulator';
import { localGatewayEnvSchema } from '../../dev/local-gateway/env';
import {
  type RunningLocalGateway,
  startLocalGateway,
} from '../../dev/local-gateway/start-local-gateway';
import { mintPartnerToken } from '../../dev/local-issuer';
import type { AccessConfig } from '../../lambda/config/access';
import { readEnv } from '../../lambda/config/env';
import { secretsManagerTokenSource } from '../../lambda/upstream/secrets-token-source';
import type { TokenSource } from '../../lambda/upstream/token-provider';
import { captureOutput } from '../support/capture-output';

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
export async function startRig(access: AccessConfig, defaultPartner: string) {
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

  // A key of the run's own, so tests never touch the checkout's .local/ key.
  const issuerKeyFile = join(
    tmpdir(),
    `ioto-bff-test-issuer-${randomBytes(6).toString('hex')}.json`,
  );
  const tokens: string[] = [];

  const gatewayFor = async (
    options: {
      tokenSource?: TokenSource;
      logger?: Logger;
      /** More environment variables of the local gateway (IOTO_ORIGIN, IOTO_AUTH_SCHEME...). */
      env?: Readonly<Record<string, string>>;
    } = {},
  ) => {
    const env = readEnv(localGatewayEnvSchema, {
      ...TEST_ENV,
      IOTO_ENDPOINT: simulator.endpoint,
      IOTO_TOKEN_FILE: '/nonexistent/the-secret-source-is-used-instead',
      PORT: '0',
      ...options.env,
    });
    const gateway = await startLocalGateway({
      env,
      tokenSource: options.tokenSource ?? secretsManagerTokenSource(provider, TOKEN_SECRET, 300),
      access,
      issuerKeyFile,
      ...(options.logger && { logger: options.logger }),
    });
    gateways.push(gateway);
    return gateway;
  };

  const gateway = await gatewayFor();

  /** A fresh access token of the local issuer for a partner of `access`. */
  const tokenFor = (partnerId: string): string => {
    const token = mintPartnerToken(gateway.issuerKey, access, partnerId);
    tokens.push(token);
    return token;
  };

  /** POSTs (or sends `init`) to the gateway and records the whole response. */
  const send = async (base: string, path: string, init: RequestInit): Promise<CallResult> => {
    const result = await callResultOf(await fetch(`${base}${path}`, init));
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
    tokenFor,
    /** Every access token minted in this run (credentials too: they must not be logged). */
    tokens,
    /** Rotates Ioto's token and the secret together, as an operator would. */
    rotate(): string {
      secretValue = simulator.rotateToken(`${canary}-rotated-${randomBytes(4).toString('hex')}`);
      return secretValue;
    },
    send,
    /** POSTs a JSON body as a partner (the default partner unless `as` says otherwise). */
    call(
      path: string,
      body?: unknown,
      options: { as?: string; base?: string; headers?: Readonly<Record<string, string>> } = {},
    ) {
      return send(options.base ?? gateway.url, path, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${tokenFor(options.as ?? defaultPartner)}`,
          ...options.headers,
        },
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

/** A whole response: status, headers, text, and the body parsed when it is a JSON object. */
export async function callResultOf(response: Response): Promise<CallResult> {
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Kept as text: the caller asserts on status and headers.
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** Problem codes of the proxy's own refusals: each must leave an audit line. */
const AUDITED_REFUSALS = new Set([
  'operation_not_allowed',
  'account_not_allowed',
  'device_not_allowed',
  'action_not_allowed',
  'validation_failed',
  'malformed_json',
  'invalid_page_token',
  'upstream_rejected',
  'idempotency_key_required',
  'idempotency_key_reused',
  'idempotency_in_progress',
]);

/**
 * Checks that every refusal of the proxy the rig's responses hold has its audit line: same
 * request id, `outcome: "refused"`, the same code, the partner and the operation. Returns how
 * many refusals were checked, so a suite can also assert it provoked some.
 */
export function expectEveryRefusalAudited(rig: Rig): number {
  const audits = new Map(
    rig.output
      .records()
      .filter((line) => line.message === 'audit')
      .map((line) => [String(line.requestId), line]),
  );
  const refusals = rig.responses.filter(
    (response) =>
      typeof response.body.code === 'string' && AUDITED_REFUSALS.has(response.body.code),
  );
  const missing = refusals
    .map((response) => ({
      requestId: String(response.body.requestId),
      code: response.body.code,
      audit: audits.get(String(response.body.requestId)),
    }))
    .filter(
      ({ code, audit }) =>
        audit === undefined ||
        audit.outcome !== 'refused' ||
        audit.code !== code ||
        typeof audit.partnerId !== 'string' ||
        typeof audit.operation !== 'string',
    );
  expect(missing).toEqual([]);
  return refusals.length;
}
