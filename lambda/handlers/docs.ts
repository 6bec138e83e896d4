import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { docsEnvSchema, readEnv, readTracingEnv } from '../config/env';
import { createDocsHandler, docsDependencies } from '../docs/docs-handler';
import { XRayTracer } from '../tracing/xray-tracer';

/**
 * Composition root of the deployed docs function: reads its environment once, builds the
 * OpenAPI description and reads Redoc's files (copied next to this bundle at synth) once per
 * cold start, and exports the middy handler. It holds no secret and reads no partner data.
 */
const env = readEnv(docsEnvSchema);

export const handler = createDocsHandler({
  ...docsDependencies(
    {
      defaultLimit: env.PAGE_LIMIT_DEFAULT,
      maxLimit: env.PAGE_LIMIT_MAX,
      version: env.API_VERSION,
      scope: env.OAUTH_SCOPE,
      ...(env.OAUTH_TOKEN_URL !== undefined && { tokenUrl: env.OAUTH_TOKEN_URL }),
    },
    (file) => readFileSync(join(__dirname, file), 'utf8'),
  ),
  logger: new Logger(),
  tracer: new XRayTracer(readTracingEnv()),
});
