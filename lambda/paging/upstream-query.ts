/**
 * The one place that knows how Ioto's "Query String Options" are written on the URL.
 *
 * ASSUMPTION (docs/ioto-api.md §2.4, §6 and open question §10.1): Ioto documents `limit` (number),
 * `next`/`prev` (object) and `exists` as query-string options but not their encoding. We assume:
 * - `limit` is a decimal integer: `?limit=25`;
 * - a cursor that Ioto returned as an object (a OneTable/DynamoDB key) goes back as its JSON
 *   text, percent-encoded: `?next=%7B%22pk%22%3A...%7D`; a cursor Ioto returned as a string goes
 *   back unchanged, percent-encoded;
 * - `exists` follows the vendor sample `samples/api/set-item.sh` (`/tok/generic/update?exists`):
 *   a bare key means `null`, which Ioto documents as "upsert"; `true`/`false` are written out.
 * The Ioto simulator decodes with the inverse (`dev/ioto-simulator/upstream-query.ts`, tested
 * as a round trip); if a real cloud disagrees, this file is the only one the proxy changes.
 */

/** A paging cursor as Ioto returns it in `next`/`prev`: an opaque string or key object. */
export type UpstreamCursor = string | Readonly<Record<string, unknown>>;

export interface UpstreamQuery {
  readonly limit?: number;
  readonly next?: UpstreamCursor;
  readonly prev?: UpstreamCursor;
  /** `null` asks for an upsert, `true` for "must exist", `false` for "must not exist". */
  readonly exists?: boolean | null;
}

const encodeCursor = (cursor: UpstreamCursor): string =>
  encodeURIComponent(typeof cursor === 'string' ? cursor : JSON.stringify(cursor));

/** Returns the query string (with its leading `?`, or `''` when there is nothing to send). */
export function encodeUpstreamQuery(query: UpstreamQuery): string {
  const parts: string[] = [];
  if (query.limit !== undefined) parts.push(`limit=${Math.trunc(query.limit)}`);
  if (query.next !== undefined) parts.push(`next=${encodeCursor(query.next)}`);
  if (query.prev !== undefined) parts.push(`prev=${encodeCursor(query.prev)}`);
  if (query.exists === null) parts.push('exists');
  else if (query.exists !== undefined) parts.push(`exists=${query.exists}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}
