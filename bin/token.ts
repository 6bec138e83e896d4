/**
 * `npm run --silent token -- <partnerId>`: prints only an access token of the local issuer for
 * that partner of the access configuration (`ACCESS_CONFIG_FILE`, the development partners by
 * default). A running `npm start` in the same checkout accepts it for an hour.
 */
import { readFile } from 'node:fs/promises';
import { AccessConfigError, parseAccessConfigJson } from '../lambda/config/access';
import { ConfigurationError, localGatewayEnvSchema, readEnv } from '../lambda/config/env';
import { loadOrCreateIssuerKey, mintPartnerToken } from './local/local-issuer';

async function main(): Promise<void> {
  const [partnerId, ...extra] = process.argv.slice(2);
  if (partnerId === undefined || extra.length > 0) {
    process.stderr.write('usage: npm run --silent token -- <partnerId>\n');
    process.exit(2);
  }
  const env = readEnv(localGatewayEnvSchema);
  const access = parseAccessConfigJson(
    await readFile(env.ACCESS_CONFIG_FILE, 'utf8'),
    env.ACCESS_CONFIG_FILE,
  );
  const key = await loadOrCreateIssuerKey();
  process.stdout.write(`${mintPartnerToken(key, access, partnerId)}\n`);
}

main().catch((error: unknown) => {
  const known = error instanceof ConfigurationError || error instanceof AccessConfigError;
  process.stderr.write(
    `token: ${known ? error.message : String((error as Error).message ?? error)}\n`,
  );
  process.exit(1);
});
