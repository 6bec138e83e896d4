import type { UpstreamCursor, UpstreamQuery } from '../../lambda/paging/upstream-query';
import { badRequest } from './errors';
import type { JsonObject } from './operation';
import { isPagedReply } from './paging';
import { isJsonObject } from './request-fields';

/**
 * The switches that make the simulator answer the questions the Ioto reference leaves open
 * (docs/ioto-api.md §10) another way than the proxy guesses, so that `npm run probe` and the
 * proxy's tests can meet a cloud that disagrees. The defaults are the proxy's guess, which
 * `lambda/paging/upstream-query.ts` and `lambda/proxy/normalize-response.ts` encode.
 */

/**
 * How 200 answers are wrapped (open question §10.2):
 * - `reference` (default): records, strings and unpaged lists bare; paged lists as
 *   `{data, next?, prev?, paged: true}` (ref §2.5 item 2, as the agent reads answers);
 * - `wrapped-records`: additionally every answer that is not a page is wrapped as
 *   `{data: <answer>}`, the overview's "every success has `data`" read literally (a device/get
 *   answers `{data: {id, accountId, ...}}`);
 * - `bare-lists`: paged lists are answered as the bare array of their items, with no `next` or
 *   `prev` (so nothing tells a client that more pages exist).
 */
export type SimulatorEnvelope = 'reference' | 'wrapped-records' | 'bare-lists';

/**
 * What a paging cursor is and where it goes back (open question §10.1):
 * - `key-objects` (default): `next`/`prev` are key objects `{pk, sk}`, taken back on the query
 *   string as their JSON text, percent-encoded: exactly what `encodeUpstreamQuery` writes;
 * - `opaque-strings`: `next`/`prev` are opaque base64url tokens that the cloud takes back only
 *   in the JSON body (`{..., "next": "<token>"}`), the other reading §10.1 asks about. A cursor
 *   on the query string (which is where `encodeUpstreamQuery` puts every cursor, a string one
 *   unchanged) is refused, always, with 400 `Invalid cursor`: a proxy built on the query-string
 *   guess fails loudly on its second page instead of being shown the first page again.
 *   (A cloud with string cursors taken back on the query string needs no switch: the proxy
 *   already sends string cursors back unchanged.)
 */
export type SimulatorCursors = 'key-objects' | 'opaque-strings';

/**
 * Which `Authorization` forms are accepted (open question §10.7): `either` (default) the raw
 * token as documented and `bearer <token>` as the agent sends it; `raw` or `bearer` only one.
 */
export type SimulatorAuthScheme = 'either' | 'raw' | 'bearer';

export const SIMULATOR_ENVELOPES: readonly SimulatorEnvelope[] = [
  'reference',
  'wrapped-records',
  'bare-lists',
];
export const SIMULATOR_CURSORS: readonly SimulatorCursors[] = ['key-objects', 'opaque-strings'];
export const SIMULATOR_AUTH_SCHEMES: readonly SimulatorAuthScheme[] = ['either', 'raw', 'bearer'];

/** `value` when it is one of `allowed`, else a RangeError naming the switch. */
export function checkSwitch<T extends string>(name: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) {
    throw new RangeError(`${name} must be one of ${allowed.join(', ')}`);
  }
  return value;
}

/** An https or http origin exactly (scheme, host, optional port), as browsers send `Origin`. */
export function checkOrigin(origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || parsed.origin !== origin) {
    throw new RangeError('requiredOrigin must be an origin such as https://app.example.com');
  }
  return origin;
}

/**
 * The token an `Authorization` header presents under `scheme`, or undefined when the header is
 * missing or written in a form the scheme does not accept (the bearer scheme name in any case).
 */
export function presentedToken(
  header: string | undefined,
  scheme: SimulatorAuthScheme,
): string | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  const bearer = /^bearer\s+(\S+)$/i.exec(value)?.[1];
  if (bearer !== undefined) return scheme === 'raw' ? undefined : bearer;
  return scheme === 'bearer' ? undefined : value;
}

const encodeOpaqueCursor = (cursor: unknown): string =>
  Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');

function decodeOpaqueCursor(token: unknown): UpstreamCursor {
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]+$/.test(token)) {
    throw badRequest('Invalid cursor');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('Invalid cursor');
  }
  // The decoded key still has to be a key of the list: `page` checks that.
  if (!isJsonObject(parsed)) throw badRequest('Invalid cursor');
  return parsed;
}

/**
 * The body and query an operation handler sees. With `opaque-strings` the cursors come from the
 * body (and leave it, so that Generic does not take them for filters); any on the query string
 * is refused (see {@link SimulatorCursors}).
 */
export function pagingRequest(
  body: JsonObject,
  query: UpstreamQuery,
  cursors: SimulatorCursors,
): { readonly body: JsonObject; readonly query: UpstreamQuery } {
  if (cursors === 'key-objects') return { body, query };
  if (query.next !== undefined || query.prev !== undefined) throw badRequest('Invalid cursor');
  const { next, prev, ...rest } = body;
  return {
    body: rest,
    query: {
      ...query,
      ...(next !== undefined && { next: decodeOpaqueCursor(next) }),
      ...(prev !== undefined && { prev: decodeOpaqueCursor(prev) }),
    },
  };
}

/** A 200 answer as the switches shape it; `value` is what the operation handler returned. */
export function shapeAnswer(
  value: unknown,
  envelope: SimulatorEnvelope,
  cursors: SimulatorCursors,
): unknown {
  if (!isPagedReply(value)) return envelope === 'wrapped-records' ? { data: value } : value;
  if (envelope === 'bare-lists') return value.data;
  if (cursors === 'key-objects') return value;
  return {
    ...value,
    ...(value.next !== undefined && { next: encodeOpaqueCursor(value.next) }),
    ...(value.prev !== undefined && { prev: encodeOpaqueCursor(value.prev) }),
  };
}
