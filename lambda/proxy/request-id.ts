import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { headerValue } from './parse-request';

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
