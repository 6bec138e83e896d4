import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { headerValue } from './headers';

/** An inbound id is kept only when it cannot smuggle anything into headers or logs. */
const WELL_FORMED = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/;

const assigned = new WeakMap<object, string>();

/**
 * The request id of a call: a well-formed inbound `x-request-id`, else API Gateway's own
 * request id (the one in its access logs), else a new UUID. Stable for the life of the event,
 * so the success path and the error path report the same id.
 */
export function requestIdOf(
  event: Pick<APIGatewayProxyEvent, 'headers' | 'requestContext'> | null | undefined,
): string {
  if (event === null || typeof event !== 'object') return randomUUID();
  const known = assigned.get(event);
  if (known !== undefined) return known;
  const inbound = headerValue(event.headers, 'x-request-id')?.trim();
  const id =
    inbound !== undefined && WELL_FORMED.test(inbound)
      ? inbound
      : event.requestContext?.requestId || randomUUID();
  assigned.set(event, id);
  return id;
}

/**
 * Sets the request id as the logger's correlation id (`correlation_id` on every log line of the
 * request), once, before the core runs. Use it after `injectLambdaContext` with `resetKeys`,
 * which clears it when the invocation ends.
 */
export function correlateRequest(logger: Logger): MiddlewareObj<APIGatewayProxyEvent> {
  return {
    before: (request) => {
      logger.setCorrelationId(requestIdOf(request.event));
    },
  };
}
