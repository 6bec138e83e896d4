import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Context,
} from 'aws-lambda';
import type { AuthorizerHandler } from '../../lambda/auth/create-authorizer-handler';
import { findOperation } from '../../lambda/catalog/index';
import { DOCS_RESOURCES } from '../../lambda/docs/docs-core';
import {
  AuthorizerUnavailableError,
  ForbiddenError,
  IntegrationFailedError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  ProblemError,
  UnauthorizedError,
} from '../../lambda/problems/problem-error';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../../lambda/problems/to-problem';
import { headerValue } from '../../lambda/proxy/headers';
import { COMMON_HEADERS } from '../../lambda/proxy/problem-responses';
import { SERVICE_NAME } from '../../lib/service';

/** A Lambda handler of the API Gateway REST (v1 proxy) integration. */
export type RestProxyHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/**
 * API Gateway REST refuses payloads over 10 MB before any Lambda runs ("Payload size", 10 MB, in
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html).
 */
export const API_GATEWAY_MAX_PAYLOAD = 10 * 1024 * 1024;

/**
 * How much of an oversized body is read and discarded before the 413 goes out. A client that is
 * still sending when the server closes gets a TCP reset, which can destroy the 413 before the
 * client reads it; draining the body first keeps the answer deliverable (and the connection
 * reusable). Past this bound the emulator stops reading, answers with `Connection: close` and
 * closes once the answer is flushed: such a client may see a reset instead of the 413.
 */
export const OVERSIZED_BODY_DRAIN_LIMIT = 4 * API_GATEWAY_MAX_PAYLOAD;

/**
 * "Length, in characters, of the URL for a regional API": 10240 (same quotas page). Longer
 * request targets get API Gateway's fallback refusal with 414 (see {@link fallbackRefusal}).
 */
export const API_GATEWAY_MAX_URL_LENGTH = 10_240;

/**
 * The one resource, `/v1/{controller}/{operation}`, with at most one trailing slash: the very
 * pattern of the proxy's own routing (ROUTE in lambda/proxy/parse-request.ts), so the emulator
 * and the proxy agree on which paths are operations. API Gateway REST matches a request path
 * with one trailing slash to the resource without it (`POST /v1/device/find/` runs the
 * `/v1/device/find` method, authorizer first); `//`, an empty segment or a second trailing slash
 * match no resource.
 */
const ROUTE = /^\/v1\/([^/]+)\/([^/]+)\/?$/;
const RESOURCE = '/v1/{controller}/{operation}';
/**
 * The docs function's resources (lib/constructs/partner-docs.ts): `/docs`, `/docs/{asset}` (one
 * segment) and `/openapi.json`, each with at most one trailing slash, as API Gateway matches them.
 */
const DOCS_PAGE = /^\/docs\/?$/;
const DOCS_ASSET = /^\/docs\/([^/]+)\/?$/;
const OPENAPI = /^\/openapi\.json\/?$/;
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;

/**
 * Headers on every response the gateway makes itself: those the proxy puts on all of its own
 * responses, which the stack's gateway responses and 405 mock integration send too.
 */
export const GATEWAY_RESPONSE_HEADERS = COMMON_HEADERS;

// ignoreBOM keeps a leading byte-order mark in the text, as API Gateway hands the body over
// byte for byte: the proxy, not the gateway, decides what a BOM means.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Where a request target leads, decided as API Gateway decides it. */
export type RequestTarget =
  | {
      /** A catalog operation's resource: authorizer, then the proxy (POST) or 405. */
      readonly kind: 'route';
      /** The path with its two segments decoded (and the trailing slash, if sent). */
      readonly path: string;
      readonly query: string;
      readonly controller: string;
      readonly operation: string;
    }
  | {
      /**
       * A resource of the docs function: no authorizer, any method goes to the function (the
       * stack's GET and ANY methods there both integrate with it).
       */
      readonly kind: 'docs';
      /** The path with its asset segment decoded (and the trailing slash, if sent). */
      readonly path: string;
      readonly query: string;
      /** The API Gateway resource, e.g. `/docs/{asset}`. */
      readonly resource: string;
      /** The decoded `{asset}` segment, on `/docs/{asset}`. */
      readonly asset?: string;
    }
  | {
      /**
       * No resource: API Gateway's MISSING_AUTHENTICATION_TOKEN, which the stack answers as
       * 404 `not_found`. `path` is the path as received.
       */
      readonly kind: 'unmatched';
      readonly path: string;
      readonly query: string;
    }
  | {
      /** Longer than API Gateway's URL length limit. */
      readonly kind: 'too-long';
      readonly path: string;
      readonly query: string;
    };

/** One path segment, percent-decoded as UTF-8; `undefined` when it is not valid. */
const decodeSegment = (segment: string): string | undefined => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
};

/**
 * Routes a request target (`req.url`: path and query, exactly as received).
 *
 * The path is split on its literal slashes first and each of the two segments is then
 * percent-decoded (RFC 3986 §6.2.2.2: `%66ind` is `find`); the decoded names must be a catalog
 * operation. Anything else can match no resource of the API and is answered 404 `not_found`, as
 * API Gateway answers a path it has no resource for (its MISSING_AUTHENTICATION_TOKEN response,
 * which the stack renders as 404 `not_found`; lib/constructs/gateway-responses.ts): a malformed
 * or non-UTF-8 percent-escape, an encoded slash (`%2F` never splits a segment: how API Gateway
 * treats it is not documented, so the emulator refuses rather than guesses), NUL, non-ASCII
 * names, `//` or an empty segment, dot segments (never resolved), a target that is not a path
 * (`*`) and any long path. The choice is 404 rather than 400 because no request
 * target can name an operation that the catalog does not hold: the answer does not depend on
 * how the target is malformed, and a well-formed unknown path gets the same answer. A target
 * over {@link API_GATEWAY_MAX_URL_LENGTH} is refused before routing with 414.
 */
export function resolveTarget(requestTarget: string): RequestTarget {
  // The absolute form (`http://host/path`, RFC 9112 §3.2.2) names the same path.
  const origin = ABSOLUTE_FORM.exec(requestTarget)?.[0];
  const target = origin === undefined ? requestTarget : requestTarget.slice(origin.length) || '/';
  const mark = target.indexOf('?');
  const rawPath = mark === -1 ? target : target.slice(0, mark);
  const query = mark === -1 ? '' : target.slice(mark + 1);
  if (requestTarget.length > API_GATEWAY_MAX_URL_LENGTH) {
    return { kind: 'too-long', path: rawPath, query };
  }
  const docs = resolveDocsTarget(rawPath, query);
  if (docs !== undefined) return docs;
  const match = ROUTE.exec(rawPath);
  const controller = match ? decodeSegment(match[1] ?? '') : undefined;
  const operation = match ? decodeSegment(match[2] ?? '') : undefined;
  if (
    controller === undefined ||
    operation === undefined ||
    findOperation(controller, operation) === undefined
  ) {
    return { kind: 'unmatched', path: rawPath, query };
  }
  const trailingSlash = rawPath.endsWith('/') ? '/' : '';
  return {
    kind: 'route',
    path: `/v1/${controller}/${operation}${trailingSlash}`,
    query,
    controller,
    operation,
  };
}

/**
 * A target of the docs function's resources, or `undefined`. The `{asset}` segment is decoded
 * as an operation's names are; one that does not decode, or holds a slash or NUL once decoded,
 * matches nothing (404), as in {@link resolveTarget}.
 */
function resolveDocsTarget(rawPath: string, query: string): RequestTarget | undefined {
  if (DOCS_PAGE.test(rawPath)) {
    return { kind: 'docs', path: rawPath, query, resource: DOCS_RESOURCES.page };
  }
  if (OPENAPI.test(rawPath)) {
    return { kind: 'docs', path: rawPath, query, resource: DOCS_RESOURCES.openApi };
  }
  const match = DOCS_ASSET.exec(rawPath);
  if (match === null) return undefined;
  const asset = decodeSegment(match[1] ?? '');
  if (asset === undefined || /[/\0]/.test(asset))
    return { kind: 'unmatched', path: rawPath, query };
  const trailingSlash = rawPath.endsWith('/') ? '/' : '';
  return {
    kind: 'docs',
    path: `/docs/${asset}${trailingSlash}`,
    query,
    resource: DOCS_RESOURCES.asset,
    asset,
  };
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

/**
 * Turns a Node request into the event API Gateway would send for resource
 * `/v1/{controller}/{operation}` (for another target, an event of that path with no resource
 * match: the emulator never hands such an event to a function).
 */
export function toRestEvent(
  req: IncomingMessage,
  body: Buffer,
  target: RequestTarget = resolveTarget(req.url ?? '/'),
): APIGatewayProxyEvent {
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
  // URLSearchParams leaves a malformed escape as it is instead of throwing.
  for (const [key, value] of new URLSearchParams(target.query)) {
    query[key] = value;
    multiQuery[key] = [...(multiQuery[key] ?? []), value];
  }
  const route = target.kind === 'route' ? target : undefined;
  const resource = route ? RESOURCE : target.kind === 'docs' ? target.resource : target.path;
  const pathParameters = route
    ? { controller: route.controller, operation: route.operation }
    : target.kind === 'docs' && target.asset !== undefined
      ? { asset: target.asset }
      : null;
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
    path: target.path,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: target.query ? query : null,
    multiValueQueryStringParameters: target.query ? multiQuery : null,
    pathParameters,
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
      // The local gateway answers at its root, as API Gateway on a custom domain without a base
      // path: the path as sent carries no stage, and the domain is the one the client called
      // (here with its port). The docs function builds the API's own URL from these two.
      ...(req.headers.host !== undefined && { domainName: req.headers.host }),
      path: target.path,
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

type BodyRead =
  | { readonly kind: 'body'; readonly body: Buffer }
  /** Over the limit; `drained` when every byte of it was read (the connection stays usable). */
  | { readonly kind: 'too-large'; readonly drained: boolean };

/**
 * Reads a body up to `limit` bytes. A larger one is not kept: the rest is read and discarded up
 * to `drainLimit` bytes in all, so the 413 can be answered on a connection with nothing left
 * unread. Rejects when the client goes away before the end of the body.
 */
function readBody(req: IncomingMessage, limit: number, drainLimit: number): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const settle = (result: BodyRead | Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > drainLimit) {
        req.pause();
        settle({ kind: 'too-large', drained: false });
      } else if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = () =>
      settle(
        tooLarge
          ? { kind: 'too-large', drained: true }
          : { kind: 'body', body: Buffer.concat(chunks) },
      );
    const onGone = () => settle(new Error('The client went away before the end of its body'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

/** Whether a value is a response API Gateway can use from a Lambda proxy integration. */
const isProxyResult = (value: unknown): value is APIGatewayProxyResult => {
  if (typeof value !== 'object' || value === null) return false;
  const { statusCode, body } = value as Record<string, unknown>;
  return (
    typeof statusCode === 'number' &&
    Number.isInteger(statusCode) &&
    statusCode >= 100 &&
    statusCode <= 599 &&
    (body === undefined || body === null || typeof body === 'string')
  );
};

/** Writes a result; throws (before anything is sent) on headers Node refuses. */
const send = (
  res: ServerResponse,
  result: APIGatewayProxyResult,
  extraHeaders: Readonly<Record<string, string>> = {},
): void => {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name] = values.map(String);
  }
  const body = result.isBase64Encoded
    ? Buffer.from(result.body ?? '', 'base64')
    : Buffer.from(result.body ?? '', 'utf8');
  res.writeHead(result.statusCode, {
    ...headers,
    ...extraHeaders,
    'content-length': String(body.length),
  });
  res.end(body);
};

/** The problem headers of a gateway response (not a Lambda's). */
const problemHeaders = (
  problem: ReturnType<typeof toProblem>,
  requestId: string,
): Record<string, string> => ({
  ...problem.headers,
  ...GATEWAY_RESPONSE_HEADERS,
  'content-type': PROBLEM_CONTENT_TYPE,
  'x-request-id': requestId,
});

/**
 * A gateway response (not a Lambda's), rendered as the stack's gateway responses render it;
 * anything but an exposed {@link ProblemError} renders as a bare 500 `internal`.
 */
const gatewayProblem = (error: unknown, requestId: string): APIGatewayProxyResult => {
  const problem = toProblem(error, requestId);
  return {
    statusCode: problem.status,
    headers: problemHeaders(problem, requestId),
    body: JSON.stringify(problem.body),
  };
};

/**
 * A refusal of API Gateway's own that has no response type of its own (an overlong URL, a
 * request it cannot parse): the stack's DEFAULT_4XX response, `bad_request` with API Gateway's
 * status and, as that response has no way to name the status, no `status` member.
 */
const fallbackRefusal = (status: number, requestId: string): APIGatewayProxyResult => {
  const problem = toProblem(
    new ProblemError(
      status,
      'bad_request',
      'Bad request',
      { detail: 'The request was refused by the gateway.' },
      true,
    ),
    requestId,
  );
  const { status: _status, ...body } = problem.body;
  return {
    statusCode: status,
    headers: problemHeaders(problem, requestId),
    body: JSON.stringify(body),
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
  /**
   * The docs function: `/docs`, `/docs/{asset}` and `/openapi.json`, every method, no
   * authorizer. Without it those paths match no resource (404).
   */
  readonly docs?: RestProxyHandler;
  /** How long an authorizer result is reused for the same token (API Gateway's TTL). */
  readonly authorizerCacheSeconds?: number;
  /** Extra GET routes served by the gateway itself (the local issuer's JWKS). */
  readonly documents?: Readonly<Record<string, () => unknown>>;
  /** Lambda timeout given to handlers through `context.getRemainingTimeInMillis()`. */
  readonly timeoutMs?: number;
  /** Where the gateway logs the responses it makes itself (default: a logger of its own). */
  readonly logger?: Logger;
}

const API_ID = 'local';
const STAGE = 'local';
/** The longest path a log line quotes. */
const LOGGED_PATH_LENGTH = 256;

/** What a response of the gateway itself is, for its log line. */
interface GatewayResponseLog {
  readonly requestId: string;
  /**
   * The API Gateway response type it stands for (as `$context.error.responseType`), or the
   * integration that answered (the 405 mock).
   */
  readonly responseType: string;
  readonly method?: string;
  readonly path?: string;
  readonly error?: unknown;
}

/**
 * An HTTP server on loopback that does what API Gateway (REST, Lambda proxy integration, a
 * Lambda TOKEN authorizer on every operation's POST method) does for ioto-bff:
 *
 * - refuses a body over 10 MB (413), after draining it so the answer arrives;
 * - answers a target that matches no operation 404 and any other method than POST on an
 *   operation 405 with `Allow: POST` (the stack's MOCK integration), without a function;
 * - calls the authorizer (401 without a token or when it refuses with `Unauthorized`, 503
 *   `authorizer_unavailable` when it fails with any other error, 403 when its policy does not
 *   cover the route), caches its policies (not its refusals or failures) per token, passes its
 *   context to the proxy, and turns the result into a response (502 `integration_failed` when
 *   the proxy throws or answers something API Gateway could not use);
 * - hands every request for the docs resources (`/docs`, `/docs/{asset}`, `/openapi.json`) to
 *   the docs function, with no authorizer, as the stack's open GET and ANY methods there do;
 * - answers a request Node cannot parse with a problem too, instead of dropping it.
 *
 * Every response it makes itself is `application/problem+json` (but the documents), carries
 * {@link GATEWAY_RESPONSE_HEADERS} and `x-request-id`, and is logged once ("gateway response").
 */
export function createApiGatewayEmulator(options: EmulatorOptions): Server {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const cacheMs = (options.authorizerCacheSeconds ?? 300) * 1000;
  const cache = new Map<string, { result: APIGatewayAuthorizerResult; expires: number }>();
  const logger = (options.logger ?? new Logger({ serviceName: SERVICE_NAME })).createChild();
  /** Sockets with a response under way: a parse error there cannot be answered. */
  const busy = new WeakSet<Duplex>();
  /** Sockets whose parse error was answered: Node may report the same socket again. */
  const refused = new WeakSet<Duplex>();

  const logResponse = (status: number, code: string, entry: GatewayResponseLog): void => {
    logger.setCorrelationId(entry.requestId);
    const attributes = {
      status,
      code,
      responseType: entry.responseType,
      ...(entry.method !== undefined && { method: entry.method }),
      ...(entry.path !== undefined && { path: entry.path.slice(0, LOGGED_PATH_LENGTH) }),
      ...(entry.error !== undefined && { error: entry.error }),
    };
    if (status >= 500) logger.error('gateway response', attributes);
    else logger.info('gateway response', attributes);
  };

  /** Sends and logs a response of the gateway itself. */
  const answer = (
    res: ServerResponse,
    result: APIGatewayProxyResult,
    entry: GatewayResponseLog,
    extraHeaders: Readonly<Record<string, string>> = {},
  ): void => {
    const code = (JSON.parse(result.body) as { code?: string }).code ?? 'unknown';
    logResponse(result.statusCode, code, entry);
    send(res, result, extraHeaders);
  };

  const authorize = async (
    event: APIGatewayProxyEvent,
    route: Extract<RequestTarget, { kind: 'route' }>,
    requestId: string,
  ): Promise<{ result: APIGatewayProxyResult; responseType: string } | undefined> => {
    const token = headerValue(event.headers, 'authorization');
    // API Gateway answers 401 itself when the identity source is missing.
    if (token === undefined || token.trim() === '') {
      return {
        result: gatewayProblem(new UnauthorizedError(), requestId),
        responseType: 'UNAUTHORIZED',
      };
    }
    const methodArn = `arn:aws:execute-api:local:000000000000:${API_ID}/${STAGE}/${event.httpMethod}/v1/${route.controller}/${route.operation}`;
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
          ? {
              result: gatewayProblem(new UnauthorizedError(), requestId),
              responseType: 'UNAUTHORIZED',
            }
          : {
              result: gatewayProblem(new AuthorizerUnavailableError(), requestId),
              responseType: 'AUTHORIZER_FAILURE',
            };
      }
    }
    if (!policyAllows(cached.result, methodArn)) {
      return {
        result: gatewayProblem(new ForbiddenError(), requestId),
        responseType: 'ACCESS_DENIED',
      };
    }
    // Every key of the authorizer's context (partner id, identity fingerprint, token expiry)
    // reaches the proxy, its value stringified as API Gateway passes it.
    event.requestContext.authorizer = {
      principalId: cached.result.principalId,
      integrationLatency: 0,
      ...Object.fromEntries(
        Object.entries(cached.result.context ?? {}).map(([key, value]) => [key, String(value)]),
      ),
    };
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const read = await readBody(req, API_GATEWAY_MAX_PAYLOAD, OVERSIZED_BODY_DRAIN_LIMIT);
    const target = resolveTarget(req.url ?? '/');
    const event = toRestEvent(req, read.kind === 'body' ? read.body : Buffer.alloc(0), target);
    // The responses the gateway makes itself carry its own request id, as the stack's gateway
    // responses do (`$context.requestId`); only the proxy echoes a well-formed inbound id.
    const requestId = event.requestContext.requestId;
    const entry = { requestId, method: event.httpMethod, path: target.path };

    if (read.kind === 'too-large') {
      // A body that was not read to its end leaves the connection unusable: close it once the
      // answer is flushed (Node ends the socket after a `Connection: close` response).
      answer(
        res,
        gatewayProblem(new PayloadTooLargeError(API_GATEWAY_MAX_PAYLOAD), requestId),
        { ...entry, responseType: 'REQUEST_TOO_LARGE' },
        read.drained ? {} : { connection: 'close' },
      );
      return;
    }
    const document = event.httpMethod === 'GET' ? options.documents?.[target.path] : undefined;
    if (document !== undefined) {
      send(res, {
        statusCode: 200,
        headers: {
          'content-type': 'application/json',
          ...GATEWAY_RESPONSE_HEADERS,
          'x-request-id': requestId,
        },
        body: JSON.stringify(document()),
      });
      return;
    }
    if (target.kind === 'too-long') {
      answer(res, fallbackRefusal(414, requestId), { ...entry, responseType: 'DEFAULT_4XX' });
      return;
    }
    if (target.kind === 'docs' && options.docs !== undefined) {
      // The stack's docs resources: open (authorization NONE), every method to the function.
      await integrate(res, options.docs, 'ioto-bff-docs', event, entry);
      return;
    }
    if (target.kind !== 'route') {
      answer(res, gatewayProblem(new NotFoundError(), requestId), {
        ...entry,
        responseType: 'MISSING_AUTHENTICATION_TOKEN',
      });
      return;
    }
    if (event.httpMethod !== 'POST') {
      // The stack's ANY method on every operation: a MOCK integration, no authorizer.
      answer(res, gatewayProblem(new MethodNotAllowedError(), requestId), {
        ...entry,
        responseType: 'MOCK_INTEGRATION',
      });
      return;
    }
    const refusal = await authorize(event, target, requestId);
    if (refusal !== undefined) {
      answer(res, refusal.result, { ...entry, responseType: refusal.responseType });
      return;
    }
    await integrate(res, options.proxy, 'ioto-bff-proxy', event, entry);
  };

  /**
   * Invokes a function through the Lambda proxy integration and sends its result: 502
   * `integration_failed` when it throws or answers something API Gateway could not use (no
   * status code, a body that is not a string, headers HTTP cannot carry).
   */
  const integrate = async (
    res: ServerResponse,
    fn: RestProxyHandler,
    functionName: string,
    event: APIGatewayProxyEvent,
    entry: Omit<GatewayResponseLog, 'responseType'>,
  ): Promise<void> => {
    let result: unknown;
    try {
      result = await fn(event, lambdaContext(functionName, timeoutMs));
    } catch (error) {
      answer(res, gatewayProblem(new IntegrationFailedError(), entry.requestId), {
        ...entry,
        responseType: 'INTEGRATION_FAILURE',
        error,
      });
      return;
    }
    try {
      if (!isProxyResult(result)) throw new Error('Malformed Lambda proxy response');
      send(res, result);
    } catch (error) {
      if (res.headersSent) throw error;
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      answer(res, gatewayProblem(new IntegrationFailedError(), entry.requestId), {
        ...entry,
        responseType: 'INTEGRATION_FAILURE',
        error,
      });
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    busy.add(req.socket);
    res.once('close', () => busy.delete(req.socket));
    handle(req, res).catch((error: unknown) => {
      if (req.destroyed && !req.complete) {
        // The client went away mid-body: nobody is left to answer.
        res.destroy();
        return;
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A bug of the emulator: still an answer, never a dropped connection.
      const requestId = randomUUID();
      answer(res, gatewayProblem(error, requestId), {
        requestId,
        responseType: 'DEFAULT_5XX',
        method: req.method ?? '',
        path: resolveTarget(req.url ?? '/').path,
        error,
      });
    });
  };

  const server = createServer();
  server.on('request', onRequest);
  // `Expect: 100-continue` with a declared body over the limit: refused before it is sent, so
  // the connection can be closed at once. Any other request is told to go on.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > API_GATEWAY_MAX_PAYLOAD) {
      busy.add(req.socket);
      res.once('close', () => busy.delete(req.socket));
      const target = resolveTarget(req.url ?? '/');
      const requestId = randomUUID();
      answer(
        res,
        gatewayProblem(new PayloadTooLargeError(API_GATEWAY_MAX_PAYLOAD), requestId),
        {
          requestId,
          responseType: 'REQUEST_TOO_LARGE',
          method: req.method ?? '',
          path: target.path,
        },
        { connection: 'close' },
      );
      return;
    }
    res.writeContinue();
    onRequest(req, res);
  });
  // A request Node's parser refuses (bytes HTTP does not allow in a target, headers over Node's
  // limit, a header timeout) gets a problem too, written on the socket as Node would write its
  // own bare answer, then the connection ends.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (refused.has(socket)) return;
    refused.add(socket);
    if (error.code === 'ECONNRESET' || !socket.writable || busy.has(socket)) {
      socket.destroy();
      return;
    }
    const status =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? 431
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 408
          : 400;
    const requestId = randomUUID();
    const result = fallbackRefusal(status, requestId);
    logResponse(status, 'bad_request', {
      requestId,
      responseType: 'DEFAULT_4XX',
      error: error.code ?? error.message,
    });
    const body = Buffer.from(result.body, 'utf8');
    const head = [
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
      ...Object.entries(result.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
      `content-length: ${body.length}`,
      'connection: close',
      '',
      '',
    ].join('\r\n');
    // Whatever the client still sends is read and dropped while the answer goes out, so the
    // close does not turn into a reset; a client that never closes is cut off.
    socket.resume();
    socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    setTimeout(() => socket.destroy(), 2_000).unref();
  });
  return server;
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
