import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AccessConfig } from '../../lambda/config/access';
import {
  createDocsHandler,
  type DocsHandler,
  docsDependencies,
} from '../../lambda/docs/docs-handler';
import type { RedocFile } from '../../lambda/docs/redoc-assets';
import packageJson from '../../package.json';
import type { LocalGatewayEnv } from './env';

/**
 * Where each file the docs page serves is in the redoc package; the deployment copies the same
 * files next to the docs function's code (lib/constructs/partner-docs.ts).
 */
const REDOC_SOURCES: Readonly<Record<RedocFile, string>> = {
  'redoc.standalone.js': 'bundles/redoc.standalone.js',
  'redoc.standalone.js.LICENSE.txt': 'bundles/redoc.standalone.js.LICENSE.txt',
  'redoc.LICENSE.txt': 'LICENSE',
};

/**
 * A file of the installed redoc package, found at run time from this module (the checkout's
 * node_modules): `npm start` runs an esbuild bundle, which must not take Redoc in.
 */
const readRedocFile = (file: RedocFile): string => {
  const redoc = dirname(createRequire(__filename).resolve('redoc/package.json'));
  return readFileSync(join(redoc, REDOC_SOURCES[file]), 'utf8');
};

/**
 * The docs function of the local gateway: the deployed handler's chain and core, with the
 * paging bounds of the environment and the scope of the access configuration. The local issuer
 * has no token endpoint (`npm run token` mints tokens), so the description names none.
 */
export function createLocalDocsHandler(
  env: LocalGatewayEnv,
  access: AccessConfig,
  logger: Logger,
): DocsHandler {
  return createDocsHandler({
    ...docsDependencies(
      {
        defaultLimit: env.PAGE_LIMIT_DEFAULT,
        maxLimit: env.PAGE_LIMIT_MAX,
        version: packageJson.version,
        scope: access.scope,
      },
      readRedocFile,
    ),
    logger,
  });
}
