/**
 * How the simulator reads the query string the proxy writes: the inverse of
 * `encodeUpstreamQuery` in lambda/paging/upstream-query.ts, which holds the encoding assumption.
 */
import type { UpstreamCursor, UpstreamQuery } from '../../lambda/paging/upstream-query';

const decodeCursor = (text: string): UpstreamCursor => {
  if (text.startsWith('{')) {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  }
  return text;
};

/**
 * The inverse of `encodeUpstreamQuery`. Throws `SyntaxError` on a
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
