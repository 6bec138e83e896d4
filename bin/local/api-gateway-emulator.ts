import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

/** A Lambda handler of the API Gateway REST (v1 proxy) integration. */
export type RestProxyHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/**
 * Gives an event its Lambda caller: the local gateway puts the authorizer in front of the proxy
 * here (the authorization issue); by default the proxy is called directly.
 */
export type EventDispatcher = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/** API Gateway REST refuses payloads over 10 MB before any Lambda runs. */
const API_GATEWAY_MAX_PAYLOAD = 10 * 1024 * 1024;
const ROUTE = /^\/v1\/([^/]+)\/([^/]+)$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a body up to `limit` bytes; `undefined` when it is larger. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** The `requestContext.identity` of an unauthenticated REST API caller. */
export function callerIdentity(
  sourceIp: string,
  userAgent: string | null,
): APIGatewayProxyEvent['requestContext']['identity'] {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp,
    user: null,
    userAgent,
    userArn: null,
  };
}

/** Turns a Node request into the event API Gateway would send for resource `/v1/{c}/{o}`. */
export function toRestEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    const value = req.rawHeaders[i + 1] ?? '';
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    query[key] = value;
    multiQuery[key] = [...(multiQuery[key] ?? []), value];
  }
  const match = ROUTE.exec(url.pathname);
  const resource = match ? '/v1/{controller}/{operation}' : url.pathname;
  const method = req.method ?? 'GET';
  // API Gateway passes text bodies as strings and anything else base64-encoded.
  let text: string | null = null;
  let isBase64Encoded = false;
  if (body.length > 0) {
    try {
      text = utf8.decode(body);
    } catch {
      text = body.toString('base64');
      isBase64Encoded = true;
    }
  }
  const now = Date.now();
  return {
    resource,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: url.search ? query : null,
    multiValueQueryStringParameters: url.search ? multiQuery : null,
    pathParameters: match
      ? {
          controller: decodeURIComponent(match[1] ?? ''),
          operation: decodeURIComponent(match[2] ?? ''),
        }
      : null,
    stageVariables: null,
    body: text,
    isBase64Encoded,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: method,
      identity: callerIdentity(
        req.socket.remoteAddress ?? '127.0.0.1',
        req.headers['user-agent'] ?? null,
      ),
      path: `/local${url.pathname}`,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: resource,
    },
  };
}

/** A Lambda context whose remaining time counts down from `timeoutMs`. */
export const lambdaContext = (functionName: string, timeoutMs: number): Context => {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

const send = (res: ServerResponse, result: APIGatewayProxyResult): void => {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name] = values.map(String);
  }
  const body = result.isBase64Encoded
    ? Buffer.from(result.body, 'base64')
    : Buffer.from(result.body ?? '', 'utf8');
  res.writeHead(result.statusCode, { ...headers, 'content-length': String(body.length) });
  res.end(body);
};

/** The gateway's own answer when the Lambda itself fails, as API Gateway's 502 would be. */
const gatewayProblem = (status: number, code: string, title: string): APIGatewayProxyResult => {
  const requestId = randomUUID();
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId },
    body: JSON.stringify({
      type: `urn:ioto-bff:problem:${code}`,
      title,
      status,
      detail: title,
      code,
      requestId,
    }),
  };
};

export interface EmulatorOptions {
  readonly dispatch: EventDispatcher;
  /** Lambda timeout given to handlers through `context.getRemainingTimeInMillis()`. */
  readonly timeoutMs?: number;
}

/**
 * An HTTP server on loopback that does what API Gateway (REST, Lambda proxy integration) does
 * for ioto-bff: request to event, event to handler, result to response.
 */
export function createApiGatewayEmulator(options: EmulatorOptions): Server {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return createServer((req, res) => {
    void (async () => {
      const body = await readBody(req, API_GATEWAY_MAX_PAYLOAD);
      if (body === undefined) {
        send(res, gatewayProblem(413, 'payload_too_large', 'Payload too large'));
        req.destroy();
        return;
      }
      const result = await options
        .dispatch(toRestEvent(req, body), lambdaContext('ioto-bff-proxy', timeoutMs))
        .catch(() => gatewayProblem(502, 'internal', 'Internal error'));
      send(res, result);
    })().catch(() => res.destroy());
  });
}

/** Listens on 127.0.0.1 only and returns the base URL. */
export async function listenOnLoopback(server: Server, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
