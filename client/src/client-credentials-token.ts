/**
 * Access tokens by the OAuth 2.0 client credentials grant (RFC 6749 §4.4), as a partner gets
 * them from the operator's Amazon Cognito user pool (`https://<domain>/oauth2/token`).
 */
import { IotoBffError, parseJson } from './ioto-bff-error.js';

/** Where and as whom {@link clientCredentialsToken} asks for tokens. */
export interface ClientCredentialsOptions {
  /** The token endpoint: for Cognito, `https://<your domain>.auth.<region>.amazoncognito.com/oauth2/token`. */
  readonly tokenUrl: string | URL;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Space-separated scopes to ask for, such as `ioto-bff/partner-api`; none sends no `scope`. */
  readonly scope?: string;
  /**
   * The `fetch` to use.
   * @default globalThis.fetch
   */
  readonly fetch?: typeof fetch;
  /**
   * How long before `expires_in` runs out a new token is fetched (half the lifetime for tokens
   * that live less than twice this).
   * @default 60
   */
  readonly refreshBeforeSeconds?: number;
  /**
   * Deadline of one token request.
   * @default 10000
   */
  readonly timeoutMs?: number;
  /**
   * The clock, in milliseconds since the epoch.
   * @default Date.now
   */
  readonly now?: () => number;
}

interface CachedToken {
  readonly token: string;
  /** When a call fetches a new one. */
  readonly refreshAt: number;
  /** When it stops being usable: until then it stands in for a refresh that failed. */
  readonly expiresAt: number;
}

/** `application/x-www-form-urlencoded` of one value, as RFC 6749 §2.3.1 asks for Basic auth. */
const formEncode = (value: string): string => new URLSearchParams({ v: value }).toString().slice(2);

const failure = (status: number, detail: string, cause?: unknown) =>
  new IotoBffError(
    { status, code: 'token_request_failed', title: 'Token request failed', detail },
    cause === undefined ? undefined : { cause },
  );

/**
 * A token function for `createIotoBffClient({ token })`: it asks the token endpoint for an
 * access token with HTTP Basic client authentication and `grant_type=client_credentials`, keeps
 * it until shortly before its `expires_in`, and lets concurrent callers share one request. A
 * token without `expires_in` is not kept. When a refresh fails while the kept token is still
 * valid, that token is returned (and the next call tries again); otherwise the call rejects
 * with an {@link IotoBffError} of code `token_request_failed`.
 */
export function clientCredentialsToken(options: ClientCredentialsOptions): () => Promise<string> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const refreshBeforeMs = (options.refreshBeforeSeconds ?? 60) * 1_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const authorization = `Basic ${btoa(`${formEncode(options.clientId)}:${formEncode(options.clientSecret)}`)}`;
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (options.scope !== undefined) form.set('scope', options.scope);
  const body = form.toString();

  let cached: CachedToken | undefined;
  let pending: Promise<string> | undefined;

  const request = async (): Promise<CachedToken> => {
    const requestedAt = now();
    let response: Response;
    let text: string;
    try {
      response = await fetchFn(options.tokenUrl, {
        method: 'POST',
        headers: {
          accept: 'application/json',
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
      text = await response.text();
    } catch (cause) {
      throw failure(0, `The token endpoint could not be reached: ${String(cause)}`, cause);
    }
    const answer = parseJson(text);
    const fields =
      typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>) : {};
    if (!response.ok) {
      // RFC 6749 §5.2: `error` and an optional `error_description`.
      const reason = typeof fields.error === 'string' ? fields.error : `HTTP ${response.status}`;
      const description =
        typeof fields.error_description === 'string' ? `: ${fields.error_description}` : '';
      throw failure(response.status, `${reason}${description}`);
    }
    const { access_token: token, token_type: type, expires_in: expiresIn } = fields;
    if (typeof token !== 'string' || token === '') {
      throw failure(response.status, 'The token endpoint answered no access_token.');
    }
    if (typeof type !== 'string' || type.toLowerCase() !== 'bearer') {
      throw failure(
        response.status,
        `The token endpoint answered token_type ${String(type)}, not Bearer.`,
      );
    }
    const lifetimeMs = Number(expiresIn) * 1_000;
    if (!Number.isFinite(lifetimeMs) || lifetimeMs <= 0) {
      return { token, refreshAt: requestedAt, expiresAt: requestedAt };
    }
    // Counted from the request, not the answer: the token may have been issued just before.
    const margin = lifetimeMs < 2 * refreshBeforeMs ? lifetimeMs / 2 : refreshBeforeMs;
    return {
      token,
      refreshAt: requestedAt + lifetimeMs - margin,
      expiresAt: requestedAt + lifetimeMs,
    };
  };

  return () => {
    const kept = cached;
    if (kept !== undefined && now() < kept.refreshAt) return Promise.resolve(kept.token);
    pending ??= request()
      .then(
        (fresh) => {
          cached = fresh;
          return fresh.token;
        },
        (error: unknown) => {
          const stale = cached;
          if (stale !== undefined && now() < stale.expiresAt) return stale.token;
          throw error;
        },
      )
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
