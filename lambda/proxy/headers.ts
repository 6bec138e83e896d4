import type { APIGatewayProxyEvent } from 'aws-lambda';

/**
 * The one way ioto-bff reads a request header: by name, in any letter case (RFC 9110 §5.1).
 * API Gateway passes headers as the client wrote them; a lookup that does not depend on a
 * normalizing middleware also works on the error path (before any middleware ran) and in the
 * local API Gateway emulator.
 */
export function headerValue(
  headers: APIGatewayProxyEvent['headers'] | null | undefined,
  name: string,
): string | undefined {
  if (!headers) return undefined;
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}
