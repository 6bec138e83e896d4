import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { MethodNotAllowedError, NotFoundError } from '../problems/problem-error';
import { requestIdHeaders } from '../proxy/request-id';
import { DOCS_PAGE_CSP, docsPage } from './docs-page';
import type { OpenApiDocument, OpenApiServer } from './openapi-document';
import type { DocsAsset } from './redoc-assets';

/**
 * The API Gateway resources of the docs function, as `event.resource` names them (the stack
 * creates them in lib/constructs/partner-docs.ts, the local gateway routes them the same way).
 */
export const DOCS_RESOURCES = {
  page: '/docs',
  asset: '/docs/{asset}',
  openApi: '/openapi.json',
} as const;

type DocsRoute = keyof typeof DOCS_RESOURCES;

/** What the docs function serves: built once per cold start. */
export interface DocsDependencies {
  /**
   * The OpenAPI description of the partner contract. Its `servers` are replaced per request:
   * they name the address each request came through.
   */
  readonly document: OpenApiDocument;
  /** The files under `/docs/{asset}`, by name. */
  readonly assets: ReadonlyMap<string, DocsAsset>;
}

/** The docs function's core: an API Gateway REST (v1 proxy) event to its answer. */
export type DocsCore = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/**
 * Headers of every document the docs function serves: public and the same for every caller,
 * so browsers and shared caches may keep them for five minutes.
 */
export const DOCS_CACHE_HEADERS = {
  'cache-control': 'public, max-age=300',
  'x-content-type-options': 'nosniff',
} as const;

/** How much of the URL, before the route, each route's `requestContext.path` may carry. */
const ROUTE_SUFFIXES: Record<DocsRoute, RegExp> = {
  page: /\/docs\/?$/,
  asset: /\/docs\/[^/]+\/?$/,
  openApi: /\/openapi\.json\/?$/,
};

/** A base path of stage names or base path mappings: segments of URL-safe characters. */
const BASE_PATH = /^(?:\/[\w.~-]+)*$/;
/** A host name with an optional port, as `requestContext.domainName` carries it. */
const HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$/;
/** Hosts the local gateway answers on: plain HTTP there, HTTPS everywhere else. */
const LOOPBACK = /^(?:127\.0\.0\.1|localhost)(?::\d+)?$/;

/** The methods that read a document: HEAD answers GET's headers, no body (RFC 9110 §9.3.2). */
const READ_METHODS = new Set(['GET', 'HEAD']);

/** How many distinct base URLs keep their serialized description (one or two in practice). */
const MAX_SERIALIZED = 16;

const routeOf = (event: APIGatewayProxyEvent): DocsRoute => {
  const route = (Object.keys(DOCS_RESOURCES) as DocsRoute[]).find(
    (name) => DOCS_RESOURCES[name] === event.resource,
  );
  if (route === undefined) throw notFound();
  return route;
};

const notFound = () =>
  new NotFoundError({
    detail:
      'No such document. The documentation is at GET /docs, its description at GET /openapi.json.',
  });

/**
 * Where the API the request came through is: the part of its URL before the route, and, when
 * the host is known, the absolute URL of that (what the description's `servers` names).
 *
 * API Gateway puts the path as the client sent it in `requestContext.path`: with the stage
 * (`/prod/docs`) on the execute-api endpoint, with the base path mapping (none: `/docs`) on a
 * custom domain; the host is `requestContext.domainName`, set by API Gateway, not by the client
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html).
 * Anything unexpected falls back to the stage as base path and a relative server URL, which
 * OpenAPI resolves against the description's own address.
 */
export function apiBaseOf(
  event: APIGatewayProxyEvent,
  route: DocsRoute,
): { readonly basePath: string; readonly url: string } {
  const { path = '', stage, domainName } = event.requestContext;
  const suffix = ROUTE_SUFFIXES[route].exec(path);
  const fromPath = suffix === null ? `/${stage}` : path.slice(0, suffix.index);
  const basePath = BASE_PATH.test(fromPath) ? fromPath : '';
  if (domainName === undefined || !HOST.test(domainName)) {
    return { basePath, url: basePath || '/' };
  }
  const scheme = LOOPBACK.test(domainName) ? 'http' : 'https';
  return { basePath, url: `${scheme}://${domainName}${basePath}` };
}

/**
 * The docs function's core: `GET /docs` (the Redoc page), `GET /docs/{asset}` (Redoc's files),
 * `GET /openapi.json` (the description, with `servers` naming the API it was fetched from).
 * Another name under `/docs/` is 404 `not_found`, another method than GET or HEAD 405
 * `method_not_allowed` with `Allow: GET, HEAD`: both thrown as problems, for the handler's error
 * middleware to render.
 */
export function createDocsCore(deps: DocsDependencies): DocsCore {
  const serialized = new Map<string, string>();
  /** The description for one base URL, serialized once. */
  const describe = (url: string): string => {
    let body = serialized.get(url);
    if (body === undefined) {
      const servers: OpenApiServer[] = [
        { url, description: 'This API: the one that serves this description.' },
      ];
      body = JSON.stringify({ ...deps.document, servers });
      if (serialized.size >= MAX_SERIALIZED) serialized.clear();
      serialized.set(url, body);
    }
    return body;
  };

  /** The document a GET of `route` answers. */
  const read = (
    event: APIGatewayProxyEvent,
    route: DocsRoute,
    asset: DocsAsset | undefined,
  ): APIGatewayProxyResult => {
    const headers = { ...DOCS_CACHE_HEADERS, ...requestIdHeaders(event) };
    const base = apiBaseOf(event, route);
    if (asset !== undefined) {
      return {
        statusCode: 200,
        headers: { ...headers, 'content-type': asset.contentType },
        body: asset.body,
      };
    }
    if (route === 'openApi') {
      return {
        statusCode: 200,
        headers: { ...headers, 'content-type': 'application/json' },
        body: describe(base.url),
      };
    }
    return {
      statusCode: 200,
      headers: {
        ...headers,
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': DOCS_PAGE_CSP,
        'referrer-policy': 'no-referrer',
      },
      body: docsPage(base.basePath),
    };
  };

  return async (event) => {
    const route = routeOf(event);
    const asset =
      route === 'asset' ? deps.assets.get(event.pathParameters?.asset ?? '') : undefined;
    if (route === 'asset' && asset === undefined) throw notFound();
    if (!READ_METHODS.has(event.httpMethod)) {
      throw new MethodNotAllowedError({
        detail: 'The documentation is read with GET.',
        headers: { allow: 'GET, HEAD' },
      });
    }
    const answer = read(event, route, asset);
    return event.httpMethod === 'HEAD' ? { ...answer, body: '' } : answer;
  };
}
