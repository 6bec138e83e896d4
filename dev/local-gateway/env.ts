import { iotoAuthScheme, iotoEndpoint } from '../../lambda/config/env';
import { iotoOrigin } from '../../lambda/config/origin';
import { checkLimitVariables, proxyLimitVariablesShape } from '../../lambda/config/settings';
import {
  _default,
  int,
  maximum,
  minimum,
  minLength,
  object,
  optional,
  pipe,
  refine,
  regex,
  string,
  superRefine,
  transform,
} from '../../lambda/config/zod';

/** A TCP port from the environment, or its default when unset. */
const port = (fallback: number) =>
  pipe(
    pipe(
      _default(string().check(regex(/^\d+$/, 'must be a whole number')), String(fallback)),
      transform(Number),
    ),
    int().check(minimum(0), maximum(65_535)),
  );

/**
 * The local gateway's environment (`npm start`, `npm run token`, `npm run openapi`): the
 * proxy's limits with the deployed bounds and defaults, plus where Ioto and the partners are.
 * With `IOTO_ENDPOINT` unset it starts the embedded simulator; the token comes from
 * `IOTO_TOKEN` or `IOTO_TOKEN_FILE` (one is required when `IOTO_ENDPOINT` is set).
 */
export const localGatewayEnvSchema = object({
  IOTO_ENDPOINT: optional(iotoEndpoint),
  IOTO_AUTH_SCHEME: iotoAuthScheme,
  IOTO_ORIGIN: optional(iotoOrigin),
  ...proxyLimitVariablesShape,
  IOTO_TOKEN: optional(string().check(minLength(1))),
  IOTO_TOKEN_FILE: optional(string().check(minLength(1))),
  PORT: port(3_000),
  SIMULATOR_PORT: port(0),
  /** The access configuration file; the shipped development partners by default. */
  ACCESS_CONFIG_FILE: _default(string().check(minLength(1)), 'dev/dev-access.json'),
}).check(
  superRefine(checkLimitVariables),
  refine((e) => e.IOTO_ENDPOINT === undefined || e.IOTO_TOKEN || e.IOTO_TOKEN_FILE, {
    message: 'set IOTO_TOKEN or IOTO_TOKEN_FILE to call a real Ioto cloud',
    path: ['IOTO_TOKEN'],
  }),
);

export type LocalGatewayEnv = ReturnType<typeof localGatewayEnvSchema.parse>;
