/**
 * `npm start`: the local gateway. Serves the real proxy handler on http://127.0.0.1:${PORT:-3000}
 * in front of the embedded Ioto simulator, or of the Ioto cloud named by IOTO_ENDPOINT.
 */
// Locally, EMF metrics and X-Ray have nowhere to go: keep the console for request logs.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_DISABLED ??= 'true';

import { ConfigurationError, localGatewayEnvSchema, readEnv } from '../lambda/config/env';
import { SEED } from '../test/support/ioto-simulator';
import { startLocalGateway } from './local/start-local-gateway';

async function main(): Promise<void> {
  const env = readEnv(localGatewayEnvSchema);
  const gateway = await startLocalGateway({ env });
  const account = gateway.simulator ? SEED.accounts[0]?.id : '<your Ioto accountId>';
  const lines = [
    `ioto-bff local gateway: ${gateway.url}`,
    gateway.simulator
      ? `Ioto upstream: embedded simulator at ${gateway.iotoEndpoint}`
      : `Ioto upstream: ${gateway.iotoEndpoint}`,
    `Routes: POST ${gateway.url}/v1/{controller}/{operation}`,
    '',
    'Try:',
    `  curl -s -X POST ${gateway.url}/v1/device/find \\`,
    `    -H 'content-type: application/json' \\`,
    `    -d '{"accountId":"${account}","limit":5}'`,
    '',
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
  const message = error instanceof ConfigurationError ? error.message : String(error);
  process.stderr.write(`ioto-bff local gateway failed to start: ${message}\n`);
  process.exit(1);
});
