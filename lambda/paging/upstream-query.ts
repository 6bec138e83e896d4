/**
 * The one place that knows how Ioto's "Query String Options" are written on the URL.
 *
 * ASSUMPTION (ioto-api.md §2.4, §6 and open question §10.1): Ioto documents `limit` (number),
 * `next`/`prev` (object) and `exists` as query-string options but not their encoding. We assume:
 * - `limit` is a decimal integer: `?limit=25`;
 * - a cursor that Ioto returned as an object (a OneTable/DynamoDB key) goes back as its JSON
 *   text, percent-encoded: `?next=%7B%22pk%22%3A...%7D`; a cursor Ioto returned as a string goes
 *   back unchanged, percent-encoded;
 * - `exists` follows the vendor sample `samples/api/set-item.sh` (`/tok/generic/update?exists`):
 *   a bare key means `null`, which Ioto documents as "upsert"; `true`/`false` are written out.
 * The Ioto simulator decodes with {@link decodeUpstreamQuery}, so both sides stay in step; if a
 * real cloud disagrees, this file is the only one to change.
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

const decodeCursor = (text: string): UpstreamCursor => {
  if (text.startsWith('{')) {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  }
  return text;
};

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

/**
 * The inverse of {@link encodeUpstreamQuery}, for the simulator. Throws `SyntaxError` on a
 * cursor that looks like JSON but is not, as a real server would reject it.
 */
export function decodeUpstreamQuery(search: string): UpstreamQuery {
  const text = search.startsWith('?') ? search.slice(1) : search;
  let limit: number | undefined;
  let next: UpstreamCursor | undefined;
  let prev: UpstreamCursor | undefined;
  let exists: boolean | null | undefined;
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? undefined : decodeURIComponent(part.slice(eq + 1));
    if (key === 'limit' && value !== undefined) limit = Number(value);
    else if (key === 'next' && value !== undefined) next = decodeCursor(value);
    else if (key === 'prev' && value !== undefined) prev = decodeCursor(value);
    else if (key === 'exists') exists = value === undefined ? null : value === 'true';
  }
  return {
    ...(limit !== undefined && { limit }),
    ...(next !== undefined && { next }),
    ...(prev !== undefined && { prev }),
    ...(exists !== undefined && { exists }),
  };
}
