import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { hasAssumedScope } from '../../lambda/catalog/grants';
import { catalog, operationKey } from '../../lambda/catalog/index';
import { type AccessConfig, parseAccessConfig } from '../../lambda/config/access';
import { readEnv } from '../../lambda/config/env';
import { SEED, type SeedAccount } from '../ioto-simulator';
import type { IotoSimulator } from '../ioto-simulator/server';
import { localGatewayEnvSchema } from '../local-gateway/env';
import { type RunningLocalGateway, startLocalGateway } from '../local-gateway/start-local-gateway';
import { type IssuerKey, LOCAL_ISSUER, mintPartnerToken } from '../local-issuer';

/**
 * The gateway the fuzz and load scripts (and `test/integration/fuzz.test.ts`) run against: what
 * `npm start` runs (the real authorizer and proxy behind the API Gateway emulator, over an
 * embedded Ioto simulator), with a random canary as the Ioto CloudAPI token, so a response that
 * carries it can be told, and a key of the local issuer of its own (never the checkout's).
 */

/**
 * A partner the fuzz adds to the development partners: every catalog operation by exact name,
 * every seeded action, on the third seeded account. The development partners alone reach only
 * a few operations past the function-level check; this one takes every body to validation,
 * the scope checks and Ioto.
 */
export const FUZZ_PARTNER = 'fuzz-all';

/** Every partner of the rig: the development ones (`dev/dev-access.json`), plus the fuzz one. */
export const RIG_PARTNERS = ['acme', 'globex', 'initech', FUZZ_PARTNER] as const;
export type RigPartner = (typeof RIG_PARTNERS)[number];

/** The seeded account each partner of the rig acts on. */
export const ACCOUNT_OF: Readonly<Record<RigPartner, SeedAccount>> = {
  acme: SEED.accounts[0],
  globex: SEED.accounts[1],
  initech: SEED.accounts[2],
  [FUZZ_PARTNER]: SEED.accounts[2],
};

export interface DevGatewayOptions {
  /** Adds {@link FUZZ_PARTNER} to the development partners (default true). */
  readonly withFuzzPartner?: boolean;
  /** Variables of the local gateway's environment (limits), over the defaults. */
  readonly env?: Readonly<Record<string, string>>;
  readonly logger?: Logger;
}

export interface DevGateway {
  readonly url: string;
  /** The Ioto token the simulator accepts: no response or log line may ever hold it. */
  readonly canary: string;
  readonly access: AccessConfig;
  readonly issuerKey: IssuerKey;
  readonly simulator: IotoSimulator;
  /** The largest body the proxy accepts (`MAX_BODY_BYTES`). */
  readonly maxBodyBytes: number;
  /** The largest `limit` of paged operations (`PAGE_LIMIT_MAX`). */
  readonly maxPageLimit: number;
  readonly gateway: RunningLocalGateway;
  /** A fresh access token of the local issuer (valid for an hour). */
  tokenFor(partner: RigPartner): string;
  close(): Promise<void>;
}

/** The development access configuration, with the fuzz partner when asked. */
export function rigAccessConfig(file: string, withFuzzPartner: boolean): AccessConfig {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as {
    partners: Record<string, unknown>[];
  } & Record<string, unknown>;
  const account = ACCOUNT_OF[FUZZ_PARTNER].id;
  const fuzzPartner = {
    id: FUZZ_PARTNER,
    description: 'Fuzz only: every operation by exact name, on the third seeded account',
    operations: catalog.map(operationKey),
    acceptAssumedScope: catalog.filter(hasAssumedScope).map(operationKey),
    accounts: [account],
    actions: [...SEED.actionNames],
    identity: { issuer: LOCAL_ISSUER, clientId: `${FUZZ_PARTNER}-local-client` },
  };
  return parseAccessConfig(
    { ...raw, partners: withFuzzPartner ? [...raw.partners, fuzzPartner] : raw.partners },
    file,
  );
}

/** Starts the local gateway over a canary-token simulator on 127.0.0.1, on a free port. */
export async function startDevGateway(options: DevGatewayOptions = {}): Promise<DevGateway> {
  const canary = `CANARY-${randomBytes(16).toString('hex')}`;
  // No IOTO_ENDPOINT: the gateway embeds the simulator, which accepts IOTO_TOKEN.
  const env = readEnv(localGatewayEnvSchema, { PORT: '0', IOTO_TOKEN: canary, ...options.env });
  const access = rigAccessConfig(env.ACCESS_CONFIG_FILE, options.withFuzzPartner ?? true);
  const issuerKeyFile = join(tmpdir(), `ioto-bff-rig-${randomBytes(6).toString('hex')}.json`);
  const gateway = await startLocalGateway({
    env,
    access,
    issuerKeyFile,
    ...(options.logger && { logger: options.logger }),
  });
  const simulator = gateway.simulator;
  if (simulator === undefined) throw new Error('The rig expects the embedded simulator');
  return {
    url: gateway.url,
    canary,
    access,
    issuerKey: gateway.issuerKey,
    simulator,
    maxBodyBytes: env.MAX_BODY_BYTES,
    maxPageLimit: env.PAGE_LIMIT_MAX,
    gateway,
    tokenFor: (partner) => mintPartnerToken(gateway.issuerKey, access, partner),
    close: async () => {
      await gateway.close();
      rmSync(issuerKeyFile, { force: true });
    },
  };
}
