import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ProblemError } from '../problems/problem-error';
import { requestIdOf } from '../proxy/request-id';

/** The `message` of every audit line: the stack routes exactly these to the audit log group. */
export const AUDIT_MESSAGE = 'audit';

/** What became of a partner call. */
export type AuditOutcome = 'forwarded' | 'replayed' | 'refused' | 'failed';

/** What the proxy learns about a call as it goes, for its audit line. */
export interface AuditFacts {
  readonly partnerId?: string;
  readonly operation?: string;
  /** The account the call acted in (set or checked by the policy). */
  readonly account?: string;
  /** The devices the body named (the places the catalog declares). */
  readonly devices?: readonly string[];
  readonly idempotencyKey?: string;
  /** The status of Ioto's last answer to the call itself (not to ownership checks). */
  readonly upstreamStatus?: number;
  /** How many times the call was sent to Ioto (a retry of a safe call, a token refresh). */
  readonly upstreamAttempts?: number;
  /** Whether the Ioto token was read again after Ioto refused it. */
  readonly tokenRefreshed?: boolean;
  /** Milliseconds from the first send to Ioto's answer, retries and refreshes included. */
  readonly upstreamMs?: number;
  readonly replayed?: boolean;
}

const facts = new WeakMap<object, AuditFacts>();

/** Adds what the proxy now knows about the call of `event` to its audit line. */
export function noteAudit(event: object, more: AuditFacts): void {
  facts.set(event, { ...facts.get(event), ...more });
}

/** At most this many devices are listed in one line (a request names at most 50). */
const MAX_LISTED_DEVICES = 50;

/**
 * One structured line per partner call that was forwarded, replayed, refused or failed, once
 * the answer is known: `message: "audit"`, the partner, the operation, the outcome, the request
 * id, the problem code when there is one, the account and devices the call named, the
 * idempotency key, Ioto's status, attempts and time (one line per call: it is also the proxy's
 * record of the forwarded call, so a warm invocation writes one log line, not two). Never a token, a request body or an answer. Calls of no
 * identified partner (no authorizer context) are not partner calls and get none.
 *
 * Use it before the problem middleware in the chain, so it runs after it on both paths and sees
 * the final status.
 */
export function auditTrail(
  logger: Logger,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const write = (event: APIGatewayProxyEvent, outcome: AuditOutcome, extra: object): void => {
    const known = facts.get(event);
    if (known?.partnerId === undefined) return;
    const { replayed: _replayed, devices, ...rest } = known;
    logger.info(AUDIT_MESSAGE, {
      ...rest,
      outcome,
      requestId: requestIdOf(event),
      ...(devices !== undefined && { devices: devices.slice(0, MAX_LISTED_DEVICES) }),
      ...extra,
    });
  };
  return {
    after: (request) => {
      const replayed = facts.get(request.event)?.replayed === true;
      write(request.event, replayed ? 'replayed' : 'forwarded', {
        status: request.response?.statusCode,
      });
    },
    onError: (request) => {
      const status = request.response?.statusCode ?? 500;
      const code = request.error instanceof ProblemError ? request.error.code : 'internal';
      write(request.event, status < 500 ? 'refused' : 'failed', { status, code });
    },
  };
}
