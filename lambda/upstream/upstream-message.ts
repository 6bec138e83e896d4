/**
 * What a partner may learn from Ioto's own words, and when Ioto asks to wait: the message of an
 * error answer (`text/plain`, or a JSON `{error}`: docs/ioto-api.md §2.8, §7) cleaned and
 * bounded, and the `delay` of a `{error, delay}` answer (device/provision, §3.5).
 */

/** The most of Ioto's own message a partner sees. */
export const MAX_UPSTREAM_MESSAGE = 200;

/**
 * Ioto's message, as a partner may see it (docs/ioto-api.md §2.8, §7): the text of a `text/plain`
 * error, or the `error` of a JSON one; control and format characters (bidi overrides included)
 * become spaces, runs of white space one space, and it is cut to {@link MAX_UPSTREAM_MESSAGE}
 * characters. Undefined when nothing is left, or when it would quote the token.
 */
export function upstreamMessage(
  body: string,
  contentType: string,
  token: string,
): string | undefined {
  // Ioto's errors are text/plain (or JSON with `error`); anything else (an HTML error page of a
  // load balancer) is not Ioto speaking.
  let text: unknown = /^text\/plain\b/i.test(contentType.trim()) ? body : undefined;
  if (/\bjson\b/i.test(contentType)) {
    try {
      const parsed: unknown = JSON.parse(body);
      text =
        parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
          ? (parsed as Record<string, unknown>).error
          : parsed;
    } catch {
      text = undefined;
    }
  }
  if (typeof text !== 'string' || (token !== '' && text.includes(token))) return undefined;
  const clean = text
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (clean === '') return undefined;
  return clean.length <= MAX_UPSTREAM_MESSAGE
    ? clean
    : `${clean.slice(0, MAX_UPSTREAM_MESSAGE - 1).trimEnd()}…`;
}

/** The JSON object of an answer, if it is one. */
function jsonObjectOf(body: string, contentType: string): Record<string, unknown> | undefined {
  if (!/\bjson\b/i.test(contentType) && !body.trimStart().startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The longest wait the proxy passes on in `Retry-After`, in seconds (an hour). */
const MAX_RETRY_DELAY_SECONDS = 3_600;

/**
 * The seconds Ioto asks the caller to wait (`delay` of a JSON answer), rounded up and capped at
 * an hour; undefined when it asks for none.
 */
export function retryDelayOf(body: string, contentType: string): number | undefined {
  const delay = jsonObjectOf(body, contentType)?.delay;
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay <= 0) return undefined;
  return Math.min(MAX_RETRY_DELAY_SECONDS, Math.ceil(delay));
}
