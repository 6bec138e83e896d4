/**
 * `npm run --silent openapi > openapi.json`: prints the OpenAPI 3.1 description of the partner
 * contract, generated from the operation catalog, with the paging limits of the environment.
 */

import { localGatewayEnvSchema } from '../dev/local-gateway/env';
import { buildOpenApiDocument } from '../dev/openapi';
import { readEnv } from '../lambda/config/env';
import packageJson from '../package.json';

const env = readEnv(localGatewayEnvSchema);
const document = buildOpenApiDocument({
  defaultLimit: env.PAGE_LIMIT_DEFAULT,
  maxLimit: env.PAGE_LIMIT_MAX,
  version: packageJson.version,
});
process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
