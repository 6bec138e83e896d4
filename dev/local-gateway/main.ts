import { grantedOperations } from '../../lambda/auth/partner-directory';
import { AccessConfigError } from '../../lambda/config/access';
import { ConfigurationError, readEnv } from '../../lambda/config/env';
import { LOCAL_ISSUER, mintPartnerToken } from '../local-issuer';
import { localGatewayEnvSchema } from './env';
import { startLocalGateway } from './start-local-gateway';

/** The signals that stop the local gateway: Ctrl+C, `kill`, and a closed terminal. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** How long closing may take before the process exits anyway. */
export const STOP_DEADLINE_MS = 3_000;

/** How often the process checks that the one who started it is still there. */
const PARENT_POLL_MS = 250;

export interface StopOptions {
  /** Watch the parent process and stop once it is gone (it was killed, or exited). */
  readonly followParent: boolean;
  readonly deadlineMs?: number;
}

/**
 * Makes the process stop, and stop for sure, when asked: on SIGINT, SIGTERM or SIGHUP, and
 * (with `followParent`) when its parent process goes away. Stopping runs the cleanup set with
 * `setCleanup` (none yet: the process exits at once) and exits with 0 when it is done, or after
 * `deadlineMs` if it hangs; a second signal exits at once, with 1.
 *
 * `followParent` exists for `npm start`, whose script is `npm run build:local && node ...`:
 * npm forwards SIGINT and SIGTERM to its child, which is the `sh` running the script, not node.
 * On SIGTERM that shell dies without passing the signal on, and the gateway, orphaned, sees its
 * parent process id change. (SIGINT the shell catches and swallows while it waits for node:
 * nothing changes that the gateway could see. Only a start script that `exec`s node makes npm's
 * SIGINT reach it.)
 */
export function stopOnRequest(options: StopOptions): {
  setCleanup(cleanup: () => Promise<void>): void;
} {
  const deadlineMs = options.deadlineMs ?? STOP_DEADLINE_MS;
  const report = (line: string) => process.stderr.write(`ioto-bff local gateway: ${line}\n`);
  let cleanup: (() => Promise<void>) | undefined;
  let stopping = false;
  const stop = (reason: string): void => {
    stopping = true;
    report(`stopping (${reason})`);
    setTimeout(() => {
      report(`not closed within ${deadlineMs} ms, exiting`);
      process.exit(0);
    }, deadlineMs);
    void Promise.resolve()
      .then(() => cleanup?.())
      .catch((error: unknown) => report(`closing failed: ${String(error)}`))
      .finally(() => process.exit(0));
  };
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      if (stopping) process.exit(1);
      stop(signal);
    });
  }
  const parent = process.ppid;
  // A parent id of 1 (or 0) is init's: nothing to follow.
  if (options.followParent && parent > 1) {
    const watch = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(watch);
      if (!stopping) stop(`parent process ${parent} is gone`);
    }, PARENT_POLL_MS);
    watch.unref();
  }
  return {
    setCleanup: (next) => {
      cleanup = next;
    },
  };
}

/**
 * Starts the local gateway from the environment, prints where everything is and a `curl` that
 * works, and stops cleanly on SIGINT, SIGTERM or SIGHUP, or when run by npm, once npm's script
 * process is gone.
 */
export async function runLocalGateway(): Promise<void> {
  const env = readEnv(localGatewayEnvSchema);
  // Before anything listens: a signal during start-up exits at once.
  const stopper = stopOnRequest({ followParent: process.env.npm_lifecycle_event === 'start' });
  const gateway = await startLocalGateway({ env });
  stopper.setCleanup(() => gateway.close());
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
    `Docs: ${gateway.url}/docs (OpenAPI description: ${gateway.url}/openapi.json)`,
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
}

/** The message of a start-up failure: configuration errors speak for themselves. */
export function startFailure(error: unknown): string {
  const message =
    error instanceof ConfigurationError || error instanceof AccessConfigError
      ? error.message
      : String(error);
  return `ioto-bff local gateway failed to start: ${message}`;
}
