/**
 * `npm start`: the local gateway. Serves the real proxy handler on http://127.0.0.1:${PORT:-3000}
 * in front of the embedded Ioto simulator, or of the Ioto cloud named by IOTO_ENDPOINT.
 */
// Locally, EMF metrics and X-Ray have nowhere to go: keep the console for request logs.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_DISABLED ??= 'true';

import { grantedOperations } from '../lambda/auth/partner-directory';
import { AccessConfigError } from '../lambda/config/access';
import { ConfigurationError, localGatewayEnvSchema, readEnv } from '../lambda/config/env';
import { LOCAL_ISSUER, mintPartnerToken } from './local/local-issuer';
import { startLocalGateway } from './local/start-local-gateway';

async function main(): Promise<void> {
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

main().catch((error: unknown) => {
  const message =
    error instanceof ConfigurationError || error instanceof AccessConfigError
      ? error.message
      : String(error);
  process.stderr.write(`ioto-bff local gateway failed to start: ${message}\n`);
  process.exit(1);
});
