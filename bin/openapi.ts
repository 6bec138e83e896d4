/**
 * `npm run --silent openapi > openapi.json`: prints the OpenAPI 3.1 description of the partner
 * contract, generated from the operation catalog, with the paging limits of the environment and
 * the scope of the access configuration (`ACCESS_CONFIG_FILE`, the development partners by
 * default). Servers and the token URL are placeholders: a deployment's docs function names its
 * own.
 */

import { readFileSync } from 'node:fs';
import { localGatewayEnvSchema } from '../dev/local-gateway/env';
import { parseAccessConfigJson } from '../lambda/config/access';
import { readEnv } from '../lambda/config/env';
import { buildOpenApiDocument } from '../lambda/docs/openapi-document';
import packageJson from '../package.json';

const env = readEnv(localGatewayEnvSchema);
const access = parseAccessConfigJson(
  readFileSync(env.ACCESS_CONFIG_FILE, 'utf8'),
  env.ACCESS_CONFIG_FILE,
);
const document = buildOpenApiDocument({
  defaultLimit: env.PAGE_LIMIT_DEFAULT,
  maxLimit: env.PAGE_LIMIT_MAX,
  version: packageJson.version,
  scope: access.scope,
});
process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
