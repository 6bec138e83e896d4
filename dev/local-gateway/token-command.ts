import { readFile } from 'node:fs/promises';
import { AccessConfigError, parseAccessConfigJson } from '../../lambda/config/access';
import { ConfigurationError, readEnv } from '../../lambda/config/env';
import { loadOrCreateIssuerKey, mintPartnerToken } from '../local-issuer';
import { localGatewayEnvSchema } from './env';

/** What `npm run token` prints: a token on stdout, or a message on stderr and an exit code. */
export interface TokenCommandResult {
  readonly stdout?: string;
  readonly stderr?: string;
  readonly exitCode: number;
}

/**
 * `npm run --silent token -- <partnerId>`: an access token of the local issuer for that partner
 * of the access configuration (`ACCESS_CONFIG_FILE`, the development partners by default).
 */
export async function tokenCommand(args: readonly string[]): Promise<TokenCommandResult> {
  const [partnerId, ...extra] = args;
  if (partnerId === undefined || extra.length > 0) {
    return { stderr: 'usage: npm run --silent token -- <partnerId>\n', exitCode: 2 };
  }
  try {
    const env = readEnv(localGatewayEnvSchema);
    const access = parseAccessConfigJson(
      await readFile(env.ACCESS_CONFIG_FILE, 'utf8'),
      env.ACCESS_CONFIG_FILE,
    );
    const key = await loadOrCreateIssuerKey();
    return { stdout: `${mintPartnerToken(key, access, partnerId)}\n`, exitCode: 0 };
  } catch (error) {
    const known = error instanceof ConfigurationError || error instanceof AccessConfigError;
    const message = known ? error.message : String((error as Error).message ?? error);
    return { stderr: `token: ${message}\n`, exitCode: 1 };
  }
}
