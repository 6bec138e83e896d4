import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { LocalGatewayEnv } from '../../lambda/config/env';
import { PageTokenSealer } from '../../lambda/paging/page-token-sealer';
import { createProxyHandler } from '../../lambda/proxy/create-proxy-handler';
import type { PartnerPolicy } from '../../lambda/proxy/partner-policy';
import { buildProxyDependencies } from '../../lambda/proxy/proxy-dependencies';
import type { TokenSource } from '../../lambda/upstream/token-provider';
import { IotoSimulator } from '../../test/support/ioto-simulator';
import { createApiGatewayEmulator, listenOnLoopback } from './api-gateway-emulator';

export interface LocalGatewayOptions {
  readonly env: LocalGatewayEnv;
  /** Replaces the local token source (tests read the token through Secrets Manager code). */
  readonly tokenSource?: TokenSource;
  readonly logger?: Logger;
  /** The partner policy between validation and forwarding (default: let everything through). */
  readonly policy?: PartnerPolicy;
}

export interface RunningLocalGateway {
  /** Base URL of the gateway, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** The Ioto API the proxy forwards to. */
  readonly iotoEndpoint: string;
  /** The embedded simulator, when no `IOTO_ENDPOINT` was given. */
  readonly simulator: IotoSimulator | undefined;
  close(): Promise<void>;
}

/**
 * Where the local proxy reads the Ioto token: `IOTO_TOKEN_FILE` is read again on every load, so
 * rewriting the file rotates the token without a restart; else `IOTO_TOKEN`.
 */
function localTokenSource(env: LocalGatewayEnv, simulatorToken: string | undefined): TokenSource {
  const file = env.IOTO_TOKEN_FILE;
  if (file !== undefined) return () => readFile(file, 'utf8');
  const token = env.IOTO_TOKEN ?? simulatorToken;
  if (token === undefined) throw new Error('No Ioto token configured');
  return async () => token;
}

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

/**
 * Starts what `npm start` runs: the real proxy handler behind an API Gateway emulator on
 * loopback, forwarding to `IOTO_ENDPOINT`, or to an embedded simulator when it is unset.
 */
export async function startLocalGateway(
  options: LocalGatewayOptions,
): Promise<RunningLocalGateway> {
  const { env } = options;
  const simulator =
    env.IOTO_ENDPOINT === undefined
      ? await IotoSimulator.start({
          port: env.SIMULATOR_PORT,
          ...(env.IOTO_TOKEN !== undefined && { token: env.IOTO_TOKEN }),
        })
      : undefined;
  const iotoEndpoint = env.IOTO_ENDPOINT ?? new URL(simulator?.endpoint ?? '');
  const logger = options.logger ?? new Logger({ serviceName: 'ioto-bff' });
  const handler = createProxyHandler({
    ...buildProxyDependencies(
      { ...env, IOTO_ENDPOINT: iotoEndpoint },
      {
        tokenSource: options.tokenSource ?? localTokenSource(env, simulator?.token),
        // Locally the key is random: page tokens die with the process, as documented.
        loadSealer: async () =>
          PageTokenSealer.withRandomKey({ ttlSeconds: env.PAGE_TOKEN_TTL_SECONDS }),
        logger,
        ...(options.policy && { policy: options.policy }),
      },
    ),
    tracer: new Tracer({ enabled: false }),
    metrics: new Metrics({ namespace: 'IotoBff', serviceName: 'ioto-bff' }),
  });
  const server = createApiGatewayEmulator({ dispatch: handler });
  let url: string;
  try {
    url = await listenOnLoopback(server, env.PORT);
  } catch (error) {
    await simulator?.close();
    throw error;
  }
  return {
    url,
    iotoEndpoint: iotoEndpoint.href.replace(/\/$/, ''),
    simulator,
    close: async () => {
      await closeServer(server);
      await simulator?.close();
    },
  };
}
