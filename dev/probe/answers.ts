import type { OperationDefinition } from '../../lambda/catalog/index';
import { type NormalizedReply, normalizeReply } from '../../lambda/proxy/normalize-response';
import { upstreamMessage } from '../../lambda/upstream/upstream-message';
import type { ReadOutcome } from './read-only-caller';

/** How the probe reads Ioto's answers: shapes, messages, and the proxy's own reading of them. */

export type Answered = Extract<ReadOutcome, { readonly kind: 'answered' }>;

export const isAnswered = (outcome: ReadOutcome): outcome is Answered =>
  outcome.kind === 'answered';

/** A 2xx answer. */
export const isSuccess = (outcome: ReadOutcome): outcome is Answered =>
  isAnswered(outcome) && outcome.status >= 200 && outcome.status < 300;

/** Ioto's refusal of the credentials: the statuses the proxy's client takes for it. */
export const isAuthRefusal = (outcome: ReadOutcome): boolean =>
  isAnswered(outcome) && (outcome.status === 401 || outcome.status === 403);

/**
 * The call got past authentication: a success, or a refusal of the request itself (4xx other
 * than 401/403), which only comes from behind the token check.
 */
export const passedAuth = (outcome: ReadOutcome): boolean =>
  isAnswered(outcome) &&
  outcome.status >= 200 &&
  outcome.status < 500 &&
  !(outcome.status >= 300 && outcome.status < 400) &&
  !isAuthRefusal(outcome);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** What the JSON of a 2xx answer looks like, in the terms of docs/ioto-api.md §2.5. */
export type AnswerShape =
  /** `{data: [...], next?, prev?, paged?}`: the list envelope. */
  | { readonly kind: 'page'; readonly members: readonly string[] }
  /** `{data: <not an array>}`: a record (or string) in the envelope. */
  | { readonly kind: 'wrapped' }
  | { readonly kind: 'bare-list' }
  | { readonly kind: 'bare-record' }
  | { readonly kind: 'string' }
  /** An empty body, or JSON `null`. */
  | { readonly kind: 'nothing' }
  | { readonly kind: 'not-json' }
  | { readonly kind: 'other' };

const ENVELOPE_KEYS = new Set(['data', 'next', 'prev', 'paged']);

/** The JSON value of `text`, or undefined when it is not JSON. Empty text is `null`. */
export function jsonOf(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The shape of an answer. The envelope is recognised as the normalizer recognises it: an
 * object with `data` and no member outside `data`, `next`, `prev` and `paged`.
 */
export function shapeOf(text: string): AnswerShape {
  const value = jsonOf(text);
  if (value === undefined) return { kind: 'not-json' };
  if (value === null) return { kind: 'nothing' };
  if (Array.isArray(value)) return { kind: 'bare-list' };
  if (typeof value === 'string') return { kind: 'string' };
  if (!isPlainObject(value)) return { kind: 'other' };
  const keys = Object.keys(value);
  if ('data' in value && keys.every((key) => ENVELOPE_KEYS.has(key))) {
    return Array.isArray(value.data) ? { kind: 'page', members: keys.sort() } : { kind: 'wrapped' };
  }
  return { kind: 'bare-record' };
}

/** The `next` member of a list envelope as Ioto sent it: absent, or its JSON value. */
export function rawCursorMember(
  text: string,
  member: 'next' | 'prev',
): { readonly present: false } | { readonly present: true; readonly value: unknown } {
  const value = jsonOf(text);
  if (!isPlainObject(value) || !Object.hasOwn(value, member)) return { present: false };
  return { present: true, value: value[member] };
}

/** The proxy's reading of an answer, or why it would refuse it (a 502 `upstream_error`). */
export function proxyReading(
  definition: Pick<OperationDefinition, 'response' | 'paged'>,
  answer: Answered,
):
  | { readonly ok: true; readonly reply: NormalizedReply }
  | { readonly ok: false; readonly why: string } {
  try {
    return { ok: true, reply: normalizeReply(definition.response, definition.paged, answer) };
  } catch (error) {
    const cause = error instanceof Error ? error.cause : undefined;
    const why = cause instanceof Error ? cause.message : 'the reply does not parse';
    return { ok: false, why };
  }
}

/** The items of a list the proxy read, or [] when it is not a list. */
export const itemsOf = (reply: NormalizedReply): unknown[] =>
  Array.isArray(reply.data) ? reply.data : [];

/** A key that tells items apart: their `id`, or their JSON text. */
export const itemKey = (item: unknown): string =>
  isPlainObject(item) && typeof item.id === 'string' ? item.id : JSON.stringify(item);

/** The `accountId` an item names, if it names one. */
export const accountOf = (item: unknown): string | undefined =>
  isPlainObject(item) && typeof item.accountId === 'string' ? item.accountId : undefined;

/** The `id` a record holds, if it holds one. */
export const idOf = (item: unknown): string | undefined =>
  isPlainObject(item) && typeof item.id === 'string' ? item.id : undefined;

/**
 * One outcome in a few words: `403 text/plain "Authentication failed"`, or why there was no
 * answer. Ioto's message goes through the proxy's own cleaner (`upstreamMessage`: control
 * characters out, 200 characters at most, nothing that quotes the token).
 */
export function describeOutcome(outcome: ReadOutcome, token: string): string {
  if (!isAnswered(outcome)) return `no answer (${outcome.reason})`;
  const type = outcome.contentType.split(';')[0]?.trim() || 'no content type';
  const message = upstreamMessage(outcome.text, outcome.contentType, token);
  if (message !== undefined) return `${outcome.status} ${type} "${message}"`;
  const bytes = Buffer.byteLength(outcome.text);
  return `${outcome.status} ${type}${bytes === 0 ? ', empty body' : `, ${bytes} bytes`}`;
}

/**
 * Replaces every form in which `secret` could be printed (as is, percent-encoded, JSON-escaped)
 * with `[token]`.
 */
export function scrubberOf(secret: string): (text: string) => string {
  const forms = [
    ...new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]),
  ]
    .filter((form) => form !== '')
    .sort((a, b) => b.length - a.length);
  return (text) => forms.reduce((clean, form) => clean.split(form).join('[token]'), text);
}
