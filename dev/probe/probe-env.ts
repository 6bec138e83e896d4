import { iotoAuthScheme, iotoEndpoint } from '../../lambda/config/env';
import { iotoOrigin } from '../../lambda/config/origin';
import { proxyLimitVariablesShape } from '../../lambda/config/settings';
import { minLength, object, optional, refine, string } from '../../lambda/config/zod';

/**
 * The environment of `npm run probe`: the Ioto settings of `npm start` (dev/local-gateway/env.ts),
 * validated by the same schemas. With `IOTO_ENDPOINT` unset it probes the embedded simulator;
 * with it set, `IOTO_TOKEN_FILE` or `IOTO_TOKEN` is required. Each call's deadline is the
 * proxy's `UPSTREAM_TIMEOUT_MS` (a slower answer would time out in the proxy too), and answers
 * above `UPSTREAM_MAX_RESPONSE_BYTES` are not read, as in the proxy.
 */
export const probeEnvSchema = object({
  IOTO_ENDPOINT: optional(iotoEndpoint),
  IOTO_AUTH_SCHEME: iotoAuthScheme,
  IOTO_ORIGIN: optional(iotoOrigin),
  IOTO_TOKEN: optional(string().check(minLength(1))),
  IOTO_TOKEN_FILE: optional(string().check(minLength(1))),
  UPSTREAM_TIMEOUT_MS: proxyLimitVariablesShape.UPSTREAM_TIMEOUT_MS,
  UPSTREAM_MAX_RESPONSE_BYTES: proxyLimitVariablesShape.UPSTREAM_MAX_RESPONSE_BYTES,
}).check(
  refine((e) => e.IOTO_ENDPOINT === undefined || e.IOTO_TOKEN || e.IOTO_TOKEN_FILE, {
    message: 'set IOTO_TOKEN_FILE (or IOTO_TOKEN) to probe a real Ioto cloud',
    path: ['IOTO_TOKEN_FILE'],
  }),
);

export type ProbeEnv = ReturnType<typeof probeEnvSchema.parse>;
