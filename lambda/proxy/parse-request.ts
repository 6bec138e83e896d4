import type { APIGatewayProxyEvent } from 'aws-lambda';
import { findOperation } from '../catalog/index';
import type { OperationDefinition } from '../catalog/types';
import {
  MalformedJsonError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../problems/problem-error';
import { headerValue } from './headers';

const ROUTE = /^\/v1\/([^/]+)\/([^/]+)\/?$/;

/**
 * Finds the catalog operation of a request. API Gateway gives either path parameters (a
 * `/v1/{controller}/{operation}` resource, as the local gateway sends) or, with one explicit
 * resource per operation as the CDK stack builds, only the resource path. Names come from the
 * catalog, never from the client: an unknown pair is 404, a known one called without POST 405.
 */
export function resolveOperation(
  event: Pick<APIGatewayProxyEvent, 'httpMethod' | 'pathParameters' | 'resource' | 'path'>,
): OperationDefinition {
  const params = event.pathParameters;
  const match = params?.controller && params.operation ? undefined : routeOf(event);
  const controller = params?.controller ?? match?.[1];
  const operation = params?.operation ?? match?.[2];
  const definition = controller && operation ? findOperation(controller, operation) : undefined;
  if (definition === undefined) throw new NotFoundError();
  if (event.httpMethod !== 'POST') throw new MethodNotAllowedError();
  return definition;
}

const routeOf = (event: Pick<APIGatewayProxyEvent, 'resource' | 'path'>) =>
  ROUTE.exec(event.resource ?? '') ?? ROUTE.exec(event.path ?? '');

/** `application/json` or any `+json` type, with no charset or UTF-8 (RFC 8259 §8.1). */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;\s*charset="?utf-8"?\s*)?$/i;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the body as JSON. Checks run cheapest first: size (413), media type (415), then
 * UTF-8 and JSON syntax (400). An empty body is `{}`, so operations without required fields
 * can be called with a bare POST.
 */
export function parseJsonBody(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded' | 'headers'>,
  maxBytes: number,
): unknown {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) throw new PayloadTooLargeError(maxBytes);
  if (bytes.toString('latin1').trim() === '') return {};

  const contentType = headerValue(event.headers, 'content-type');
  if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType.trim())) {
    throw new UnsupportedMediaTypeError();
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (error) {
    throw new MalformedJsonError({ detail: 'The request body is not valid UTF-8.', cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MalformedJsonError({ cause: error });
  }
  checkStructure(value, 0);
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    // JSON.parse keeps the last of duplicate keys, other parsers the first (RFC 8259 §4 leaves
    // it open): refusing them closes a parser-differential path around the account scope.
    throw new MalformedJsonError({ detail: 'The request body repeats an object key.' });
  }
  return value;
}

/**
 * The first object key that appears twice in one object of a JSON text, compared after escape
 * decoding (`"\u0061ccountId"` is `accountId`). Call it only on text that parses.
 */
export function findDuplicateKey(text: string): string | undefined {
  // One entry per open container: the keys seen so far, or null for an array.
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const keys = open.at(-1);
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === '{') {
      open.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      open.push(null);
    } else if (c === '}' || c === ']') {
      open.pop();
    } else if (c === ',') {
      expectKey = open.at(-1) instanceof Set;
    }
  }
  return undefined;
}

/** Deeper than any Ioto body (dashboards nest widgets in a few levels). */
export const MAX_JSON_DEPTH = 32;

/**
 * Holds the parsed body to I-JSON (RFC 7493 §2.1: no lone surrogates, which UTF-8 cannot carry
 * to Ioto) and bounds its depth, so no later recursive step can overflow the stack.
 */
function checkStructure(value: unknown, depth: number): void {
  if (typeof value === 'string') {
    if (!value.isWellFormed()) {
      throw new MalformedJsonError({ detail: 'The request body holds an unpaired surrogate.' });
    }
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth >= MAX_JSON_DEPTH) {
    throw new ValidationError([
      { path: '', message: `The body nests deeper than ${MAX_JSON_DEPTH} levels` },
    ]);
  }
  if (Array.isArray(value)) {
    for (const item of value) checkStructure(item, depth + 1);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    checkStructure(key, depth);
    checkStructure(item, depth + 1);
  }
}
