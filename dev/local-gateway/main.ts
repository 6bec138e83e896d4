import { grantedOperations } from '../../lambda/auth/partner-directory';
import { AccessConfigError } from '../../lambda/config/access';
import { ConfigurationError, readEnv } from '../../lambda/config/env';
import { LOCAL_ISSUER, mintPartnerToken } from '../local-issuer';
import { localGatewayEnvSchema } from './env';
import { startLocalGateway } from './start-local-gateway';

/**
 * Starts the local gateway from the environment, prints where everything is and a `curl` that
 * works, and stops cleanly on SIGINT or SIGTERM.
 */
export async function runLocalGateway(): Promise<void> {
  const env = readEnv(localGatewayEnvSchema);
  const gateway = await startLocalGateway({ env });
  // A ready-made call as the first configured partner, so the banner's curl works as printed.
  const partner = gateway.access.partners.find((p) => grantedOperations(p).has('device/find'));
  const token = partner && mintPartnerToken(gateway.issuerKey, gateway.access, partner.id);
  const body =
    partner && partner.accounts.length > 1
      ? `{"accountId":"${partner.accounts[0]}","limit":5}`
      : '{"limit":5}';
  const lines = [
    `ioto-bff local gateway: ${gateway.url}`,
    gateway.simulator
      ? `Ioto upstream: embedded simulator at ${gateway.iotoEndpoint}`
      : `Ioto upstream: ${gateway.iotoEndpoint}`,
    `Routes: POST ${gateway.url}/v1/{controller}/{operation}`,
    `Local OAuth issuer: ${LOCAL_ISSUER}, keys at ${gateway.url}/.well-known/jwks.json`,
    `Partners: ${gateway.access.partners.map((p) => p.id).join(', ') || 'none'}`,
    `Tokens: npm run --silent token -- <partnerId>`,
    '',
    ...(partner && token
      ? [
          `Try, as partner "${partner.id}" (token valid for an hour):`,
          `  curl -s -X POST ${gateway.url}/v1/device/find \\`,
          `    -H 'authorization: Bearer ${token}' \\`,
          `    -H 'content-type: application/json' \\`,
          `    -d '${body}'`,
          '',
        ]
      : []),
    'Press Ctrl+C to stop.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = () => {
    void gateway.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** The message of a start-up failure: configuration errors speak for themselves. */
export function startFailure(error: unknown): string {
  const message =
    error instanceof ConfigurationError || error instanceof AccessConfigError
      ? error.message
      : String(error);
  return `ioto-bff local gateway failed to start: ${message}`;
}
