import { findOperation } from '../catalog/index';
import type { ResponseKind } from '../catalog/types';
import type { UpstreamCursor } from '../paging/upstream-query';
import {
  UpstreamError,
  UpstreamFailedError,
  UpstreamThrottledError,
} from '../problems/problem-error';
import { retryDelayOf, upstreamMessage } from '../upstream/upstream-message';

/** The partner-facing data of one Ioto reply, before page tokens are sealed. */
export interface NormalizedReply {
  readonly data: unknown;
  readonly next?: UpstreamCursor;
  readonly prev?: UpstreamCursor;
}

/** Ioto cursors are small key objects or strings; anything larger is not a cursor. */
const MAX_CURSOR_CHARS = 2048;
const ENVELOPE_KEYS = new Set(['data', 'next', 'prev', 'paged']);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const unexpected = (why: string): UpstreamError =>
  new UpstreamError({ cause: new Error(`Unexpected Ioto reply: ${why}`) });

/**
 * `{data, next?, prev?, paged?}` is Ioto's list envelope (docs/ioto-api.md §2.5). An object with
 * `data` and nothing outside those four keys is read as the envelope; a record that happens to
 * hold only a `data` attribute would be misread, which no documented record does.
 */
const isEnvelope = (value: unknown): value is Record<string, unknown> =>
  isPlainObject(value) && 'data' in value && Object.keys(value).every((k) => ENVELOPE_KEYS.has(k));

const readCursor = (value: unknown): UpstreamCursor | undefined => {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && value.length <= MAX_CURSOR_CHARS) return value;
  if (isPlainObject(value) && JSON.stringify(value).length <= MAX_CURSOR_CHARS) return value;
  throw unexpected('paging cursor of an unexpected shape');
};

const asList = (value: unknown): unknown[] => {
  if (Array.isArray(value)) return value;
  if (value === null || value === undefined) return [];
  // A bare record or string where a list was due: Ioto answered with a single item.
  if (isPlainObject(value) || typeof value === 'string') return [value];
  throw unexpected('list data of an unexpected type');
};

const parseJson = (text: string): unknown => {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UpstreamError({ cause: error });
  }
};

/**
 * Turns an Ioto reply, which may or may not be wrapped in `{data}` (docs/ioto-api.md §2.5 and open
 * question §10.2), into the one shape the partner contract promises for the operation's
 * response kind. Ioto's reply is untrusted input: anything of the wrong shape is a 502.
 */
export function normalizeReply(
  kind: ResponseKind,
  paged: boolean,
  reply: { readonly contentType: string; readonly text: string },
): NormalizedReply {
  // Ioto documents no answer for these: whatever it sends is not part of the contract.
  if (kind === 'none') return { data: null };

  if (kind === 'string') {
    // Signed URLs arrive as a JSON string literal; the agent also copes with bare text.
    const isJson = /\bjson\b/i.test(reply.contentType) || reply.text.trimStart().startsWith('"');
    const value = isJson ? parseJson(reply.text) : reply.text.trim();
    const data = isEnvelope(value) ? value.data : value;
    if (typeof data !== 'string') throw unexpected('expected a string');
    return { data };
  }

  const value = parseJson(reply.text);
  const envelope = isEnvelope(value) ? value : undefined;
  const data = envelope ? envelope.data : value;

  if (kind === 'list') {
    const list = asList(data);
    if (!paged) return { data: list };
    const next = readCursor(envelope?.next);
    const prev = readCursor(envelope?.prev);
    return { data: list, ...(next !== undefined && { next }), ...(prev !== undefined && { prev }) };
  }

  // record: one object, or null when Ioto found nothing.
  if (data !== null && !isPlainObject(data)) throw unexpected('expected a record');
  return { data };
}

/**
 * A reply of the Ioto operation `controller/operation`, read by its catalog entry: how the proxy
 * reads the answers of its own calls (the ownership checks' device/get), exactly as partner calls.
 */
export function readCatalogReply(
  call: { readonly controller: string; readonly operation: string },
  reply: { readonly contentType: string; readonly text: string },
): NormalizedReply {
  const definition = findOperation(call.controller, call.operation);
  if (definition === undefined) {
    throw new Error(`No catalog operation ${call.controller}/${call.operation}`);
  }
  return normalizeReply(definition.response, definition.paged, reply);
}

/**
 * For operations that report failures inside their answer (`errorInBody` in the catalog): an
 * answer holding an `error` is the operation's failure, whatever its status, and becomes a
 * problem: 503 with `Retry-After` when Ioto gives a `delay` to wait, else 502 `upstream_failed`,
 * each with Ioto's message cleaned and bounded (the Ioto client never lets an answer that
 * quotes its token this far).
 */
export function failureInReply(reply: {
  readonly contentType: string;
  readonly text: string;
}): UpstreamThrottledError | UpstreamFailedError | undefined {
  let value: unknown;
  try {
    value = JSON.parse(reply.text);
  } catch {
    return undefined;
  }
  const envelope = isEnvelope(value) ? value.data : value;
  if (!isPlainObject(envelope) || envelope.error === undefined || envelope.error === null) {
    return undefined;
  }
  const body = JSON.stringify(envelope);
  const message = upstreamMessage(body, 'application/json', '');
  const cause = new Error('Ioto reported a failure in a 2xx answer');
  const delay = retryDelayOf(body, 'application/json');
  if (delay !== undefined) {
    return new UpstreamThrottledError({
      headers: { 'retry-after': String(delay) },
      ...(message !== undefined && { detail: `Ioto asks to wait: ${message}` }),
      cause,
    });
  }
  return new UpstreamFailedError({
    ...(message !== undefined && { detail: `Ioto reports that the operation failed: ${message}` }),
    cause,
  });
}
