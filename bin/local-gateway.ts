/**
 * `npm start`: the local gateway. Serves the real proxy handler on http://127.0.0.1:${PORT:-3000}
 * in front of the embedded Ioto simulator, or of the Ioto cloud named by IOTO_ENDPOINT.
 */
// Locally, EMF metrics and X-Ray have nowhere to go: keep the console for request logs.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_DISABLED ??= 'true';

import { runLocalGateway, startFailure } from '../dev/local-gateway/main';

runLocalGateway().catch((error: unknown) => {
  process.stderr.write(`${startFailure(error)}\n`);
  process.exit(1);
});
