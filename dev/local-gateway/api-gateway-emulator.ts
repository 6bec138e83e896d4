import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Context,
} from 'aws-lambda';
import type { AuthorizerHandler } from '../../lambda/auth/create-authorizer-handler';
import { findOperation } from '../../lambda/catalog/index';
import {
  AuthorizerUnavailableError,
  ForbiddenError,
  IntegrationFailedError,
  PayloadTooLargeError,
  type ProblemError,
  UnauthorizedError,
} from '../../lambda/problems/problem-error';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../../lambda/problems/to-problem';
import { headerValue } from '../../lambda/proxy/headers';
import { requestIdOf } from '../../lambda/proxy/request-id';

/** A Lambda handler of the API Gateway REST (v1 proxy) integration. */
export type RestProxyHandler = (
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

/** A gateway response (not a Lambda's), rendered as the stack's gateway responses render it. */
const gatewayProblem = (error: ProblemError, requestId: string): APIGatewayProxyResult => {
  const problem = toProblem(error, requestId);
  return {
    statusCode: problem.status,
    headers: {
      ...problem.headers,
      'content-type': PROBLEM_CONTENT_TYPE,
      'x-request-id': requestId,
    },
    body: JSON.stringify(problem.body),
  };
};

/** Whether an IAM policy statement resource (with `*` wildcards) covers an ARN. */
const resourceMatches = (pattern: string, arn: string): boolean =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(arn);

/** Evaluates an authorizer policy as API Gateway does: an explicit Deny wins, then any Allow. */
export function policyAllows(result: APIGatewayAuthorizerResult, methodArn: string): boolean {
  const verdicts = result.policyDocument.Statement.flatMap((statement) => {
    const s = statement as {
      Effect: string;
      Action?: string | string[];
      Resource?: string | string[];
    };
    const actions = ([] as string[]).concat(s.Action ?? []);
    const resources = ([] as string[]).concat(s.Resource ?? []);
    const applies =
      actions.some((a) => a === 'execute-api:Invoke' || a === 'execute-api:*' || a === '*') &&
      resources.some((r) => resourceMatches(r, methodArn));
    return applies ? [s.Effect] : [];
  });
  return !verdicts.includes('Deny') && verdicts.includes('Allow');
}

export interface EmulatorOptions {
  readonly proxy: RestProxyHandler;
  readonly authorizer: AuthorizerHandler;
  /** How long an authorizer result is reused for the same token (API Gateway's TTL). */
  readonly authorizerCacheSeconds?: number;
  /** Extra GET routes served by the gateway itself (the local issuer's JWKS). */
  readonly documents?: Readonly<Record<string, () => unknown>>;
  /** Lambda timeout given to handlers through `context.getRemainingTimeInMillis()`. */
  readonly timeoutMs?: number;
}

const API_ID = 'local';
const STAGE = 'local';

/**
 * An HTTP server on loopback that does what API Gateway (REST, Lambda proxy integration, a
 * Lambda TOKEN authorizer on every method) does for ioto-bff: call the authorizer (401 without
 * a token or when it refuses with `Unauthorized`, 503 `authorizer_unavailable` when it fails
 * with any other error, 403 when its policy does not cover the route), cache its policies (not
 * its refusals or failures) per token, pass its context to the proxy, and turn the result into
 * a response. Requests for routes that do not exist reach the proxy unauthenticated, which
 * answers 404/405 as the stack's gateway responses do.
 */
export function createApiGatewayEmulator(options: EmulatorOptions): Server {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const cacheMs = (options.authorizerCacheSeconds ?? 300) * 1000;
  const cache = new Map<string, { result: APIGatewayAuthorizerResult; expires: number }>();

  const authorize = async (
    event: APIGatewayProxyEvent,
    requestId: string,
  ): Promise<APIGatewayProxyResult | undefined> => {
    const token = headerValue(event.headers, 'authorization');
    // API Gateway answers 401 itself when the identity source is missing.
    if (token === undefined || token.trim() === '')
      return gatewayProblem(new UnauthorizedError(), requestId);
    const methodArn = `arn:aws:execute-api:local:000000000000:${API_ID}/${STAGE}/${event.httpMethod}${event.path}`;
    let cached = cache.get(token);
    if (cached === undefined || cached.expires <= Date.now()) {
      try {
        const result = await options.authorizer(
          { type: 'TOKEN', authorizationToken: token, methodArn },
          lambdaContext('ioto-bff-authorizer', timeoutMs),
        );
        cached = { result, expires: Date.now() + cacheMs };
        if (cacheMs > 0) cache.set(token, cached);
      } catch (error) {
        // An error message of exactly 'Unauthorized' (thrown, or a string as in
        // `callback('Unauthorized')`) is API Gateway's 401; any other error is its authorizer
        // failure response, which the stack renders as authorizer_unavailable. Neither is
        // cached: only a policy is.
        const message = error instanceof Error ? error.message : String(error);
        return message === 'Unauthorized'
          ? gatewayProblem(new UnauthorizedError(), requestId)
          : gatewayProblem(new AuthorizerUnavailableError(), requestId);
      }
    }
    if (!policyAllows(cached.result, methodArn))
      return gatewayProblem(new ForbiddenError(), requestId);
    event.requestContext.authorizer = {
      principalId: cached.result.principalId,
      integrationLatency: 0,
      ...cached.result.context,
    };
    return undefined;
  };

  return createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const document = req.method === 'GET' ? options.documents?.[path] : undefined;
      if (document !== undefined) {
        send(res, {
          statusCode: 200,
          headers: { 'content-type': 'application/json', 'cache-control': 'max-age=300' },
          body: JSON.stringify(document()),
        });
        return;
      }
      const body = await readBody(req, API_GATEWAY_MAX_PAYLOAD);
      if (body === undefined) {
        send(res, gatewayProblem(new PayloadTooLargeError(API_GATEWAY_MAX_PAYLOAD), randomUUID()));
        req.destroy();
        return;
      }
      const event = toRestEvent(req, body);
      const requestId = requestIdOf(event);
      const match = ROUTE.exec(event.path);
      const isRoute =
        event.httpMethod === 'POST' &&
        match !== null &&
        findOperation(match[1] ?? '', match[2] ?? '') !== undefined;
      const refusal = isRoute ? await authorize(event, requestId) : undefined;
      const result =
        refusal ??
        (await options
          .proxy(event, lambdaContext('ioto-bff-proxy', timeoutMs))
          .catch(() => gatewayProblem(new IntegrationFailedError(), requestId)));
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
