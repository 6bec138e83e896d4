import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { headerValue } from './headers';

/** The response header that echoes a client's own, well-formed `x-request-id`. */
export const CLIENT_REQUEST_ID_HEADER = 'x-client-request-id';

/** An inbound id is echoed only when it cannot smuggle anything into headers or logs. */
const WELL_FORMED = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/;

const assigned = new WeakMap<object, string>();

/**
 * The request id of a call: API Gateway's own (`requestContext.requestId`, the id of its access
 * log and of the answers it makes itself), else a new UUID (an event without one: tests).
 * Never the client's: a client that could choose the id of its calls could make its requests
 * impossible to join with the access log, or take another request's id. Stable for the life of
 * the event, so the success path and the error path report the same id.
 */
export function requestIdOf(
  event: Pick<APIGatewayProxyEvent, 'requestContext'> | null | undefined,
): string {
  if (event === null || typeof event !== 'object') return randomUUID();
  const known = assigned.get(event);
  if (known !== undefined) return known;
  const id = event.requestContext?.requestId || randomUUID();
  assigned.set(event, id);
  return id;
}

/**
 * The client's own `x-request-id`, when well-formed (8 to 128 characters of
 * `A-Z a-z 0-9 . _ : -`): echoed back in `x-client-request-id` and logged as `clientRequestId`,
 * so a partner can find its call, but never used as the request id.
 */
export function clientRequestIdOf(
  event: Pick<APIGatewayProxyEvent, 'headers'> | null | undefined,
): string | undefined {
  const inbound = headerValue(event?.headers, 'x-request-id')?.trim();
  return inbound !== undefined && WELL_FORMED.test(inbound) ? inbound : undefined;
}

/** The request-id headers of every answer: ours, and the client's echoed when it sent one. */
export function requestIdHeaders(
  event: Pick<APIGatewayProxyEvent, 'headers' | 'requestContext'>,
): Record<string, string> {
  const client = clientRequestIdOf(event);
  return {
    'x-request-id': requestIdOf(event),
    ...(client !== undefined && { [CLIENT_REQUEST_ID_HEADER]: client }),
  };
}

/** The partner id the authorizer put in the request context (not yet checked by the policy). */
export function claimedPartnerOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>) {
  const id = (event.requestContext?.authorizer as Record<string, unknown> | null | undefined)
    ?.partnerId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Makes every log line of the request carry API Gateway's request id (`correlation_id`), the
 * partner the authorizer identified (`partnerId`) and the client's own id (`clientRequestId`),
 * once, before the core runs. Use it after `injectLambdaContext` with `resetKeys`, which clears
 * them when the invocation ends.
 */
export function correlateRequest(logger: Logger): MiddlewareObj<APIGatewayProxyEvent> {
  return {
    before: (request) => {
      logger.setCorrelationId(requestIdOf(request.event));
      const partnerId = claimedPartnerOf(request.event);
      const clientRequestId = clientRequestIdOf(request.event);
      logger.appendKeys({
        ...(partnerId !== undefined && { partnerId }),
        ...(clientRequestId !== undefined && { clientRequestId }),
      });
    },
  };
}
