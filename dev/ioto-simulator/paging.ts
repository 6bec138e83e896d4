import type { UpstreamCursor, UpstreamQuery } from '../../lambda/paging/upstream-query';
import { badRequest } from './errors';
import { isJsonObject } from './request-fields';

/**
 * Ioto's paging as the simulator implements it. The reference documents `limit`, `next` and
 * `prev` as query options and `{data, next, prev}` (+ `paged: true`) as the answer (docs/ioto-api.md
 * §2.5, §6) but not the cursor format, the default or maximum limit, nor the sort order (§10.1,
 * §10.3, §10.4). Choices made here, all plausible for a OneTable/DynamoDB service:
 * - cursors are key objects `{pk, sk}` of the last (for `next`) or first (for `prev`) item of
 *   the page, like DynamoDB's `LastEvaluatedKey`;
 * - `limit` defaults to 25; larger values are capped at 100; anything but a positive integer
 *   is 400 `Invalid limit`;
 * - items sort by their sort key (which is built from the id), so pages are stable;
 * - `next` is present only when there are items after the page, `prev` only when there are
 *   items before it; absent means "no page in that direction".
 */

/**
 * The OneTable-style key that a cursor carries. A type alias, not an interface, so that it is
 * assignable to `UpstreamCursor` (a record type) when a client sends it back.
 */
export type PageKey = { readonly pk: string; readonly sk: string };

/** One item of a list, with the sort key that orders it within the list. */
export interface PageEntry {
  readonly sk: string;
  readonly value: unknown;
}

/** A list of one partition: every item's sort key starts with `skPrefix`. */
export interface PagedList {
  readonly pk: string;
  readonly skPrefix: string;
  readonly entries: readonly PageEntry[];
}

/** The paged answer shape (ref §2.5). */
export interface PagedReply {
  readonly data: unknown[];
  readonly next?: PageKey;
  readonly prev?: PageKey;
  readonly paged: true;
}

/**
 * The answers `page` made: how the server tells a page from a record that happens to hold
 * `data` and `paged` attributes (a Generic item may hold anything) when it reshapes answers.
 */
const PAGED_REPLIES = new WeakSet<object>();

/** Whether `value` is an answer made by {@link page}. */
export const isPagedReply = (value: unknown): value is PagedReply =>
  typeof value === 'object' && value !== null && PAGED_REPLIES.has(value);

export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 100;

/** The page size asked for by the query. */
export function pageLimit(query: UpstreamQuery): number {
  if (query.limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(query.limit) || query.limit < 1) throw badRequest('Invalid limit');
  return Math.min(query.limit, MAX_LIMIT);
}

/** The sort key a cursor points at; 400 `Invalid cursor` unless it is a key of this list. */
function cursorSortKey(cursor: UpstreamCursor, list: PagedList): string {
  if (!isJsonObject(cursor)) throw badRequest('Invalid cursor');
  const keys = Object.keys(cursor);
  const { pk, sk } = cursor;
  if (
    keys.length !== 2 ||
    pk !== list.pk ||
    typeof sk !== 'string' ||
    !sk.startsWith(list.skPrefix)
  ) {
    throw badRequest('Invalid cursor');
  }
  return sk;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * One page of `list` as the query asks. `next` gives the `limit` items strictly after the cursor
 * key; `prev` gives the `limit` items strictly before it. Because a page's `next` is its last key
 * and its `prev` its first key, walking forwards and then backwards with the same limit meets
 * exactly the same page boundaries, with no duplicate and no gap.
 */
export function page(list: PagedList, query: UpstreamQuery): PagedReply {
  const limit = pageLimit(query);
  if (query.next !== undefined && query.prev !== undefined) throw badRequest('Invalid cursor');
  const sorted = [...list.entries].sort((a, b) => compare(a.sk, b.sk));
  let start = 0;
  let end = Math.min(limit, sorted.length);
  if (query.next !== undefined) {
    const after = cursorSortKey(query.next, list);
    start = countWhile(sorted, (entry) => entry.sk <= after);
    end = Math.min(start + limit, sorted.length);
  } else if (query.prev !== undefined) {
    const before = cursorSortKey(query.prev, list);
    end = countWhile(sorted, (entry) => entry.sk < before);
    start = Math.max(0, end - limit);
  }
  const items = sorted.slice(start, end);
  // An empty page (a cursor beyond either end of the list, e.g. after removals) still needs keys
  // to go on from: the bare prefix sorts before every item of the list, prefix + U+FFFF after.
  const nextSk = items.at(-1)?.sk ?? sorted[start - 1]?.sk ?? list.skPrefix;
  const prevSk = items[0]?.sk ?? sorted[end]?.sk ?? `${list.skPrefix}\uffff`;
  const reply: PagedReply = {
    data: items.map((entry) => entry.value),
    ...(end < sorted.length && { next: { pk: list.pk, sk: nextSk } }),
    ...(start > 0 && { prev: { pk: list.pk, sk: prevSk } }),
    paged: true,
  };
  PAGED_REPLIES.add(reply);
  return reply;
}

/** How many leading entries satisfy `test` (the list is sorted, so this is a boundary). */
function countWhile(sorted: readonly PageEntry[], test: (entry: PageEntry) => boolean): number {
  const index = sorted.findIndex((entry) => !test(entry));
  return index < 0 ? sorted.length : index;
}
