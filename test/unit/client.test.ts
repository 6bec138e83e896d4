import { createIotoBffClient, IotoBffError } from '../../client';
import { problemError } from '../../client/src/ioto-bff-error';
import {
  DEFAULT_RETRY,
  parseRetryAfter,
  type RetryPolicy,
  retryDelay,
  retryPolicyOf,
} from '../../client/src/retry-policy';

/**
 * The client's pure parts: reading problems and other answers, the retry policy, and the call
 * loop over an injected `fetch` (the gateway itself is in test/integration/client.test.ts).
 */
const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it.each([
    ['1', 1_000],
    [' 0 ', 0],
    ['120', 120_000],
    ['Thu, 01 Jan 2026 00:00:03 GMT', 3_000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
    ['Thursday, 01-Jan-26 00:00:02 GMT', 2_000],
    ['', undefined],
    ['-1', undefined],
    ['1.5', undefined],
    ['2026-01-01T00:00:03Z', undefined],
    ['soon', undefined],
  ])('reads %j as %j ms', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });

  it('reads no header as no wait asked for', () => {
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
  });
});

const errorOf = (status: number, code: string, retryAfterMs?: number) =>
  new IotoBffError({ status, code, title: code, detail: code, retryAfterMs });

describe('retryDelay', () => {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, maxAttempts: 3, maxDelayMs: 5_000 };
  const half = () => 0.5;

  it.each([
    ['waits the Retry-After of a 503', errorOf(503, 'upstream_throttled', 1_000), 1, 1_000],
    ['waits the Retry-After of a 429', errorOf(429, 'throttled', 1_000), 2, 1_000],
    [
      'waits a full-jitter pause when a 503 names no wait',
      errorOf(503, 'token_unavailable'),
      1,
      250,
    ],
    ['doubles the pause bound for the second retry', errorOf(503, 'token_unavailable'), 2, 500],
    ['retries a bare 503 of a load balancer', errorOf(503, 'unexpected_response'), 1, 250],
    ['gives up when no attempt is left', errorOf(503, 'upstream_throttled', 1_000), 3, undefined],
    [
      'gives up when the wait asked for is over maxDelayMs (the firewall)',
      errorOf(429, 'throttled', 60_000),
      1,
      undefined,
    ],
    ['gives up on a used-up quota', errorOf(429, 'quota_exceeded'), 1, undefined],
    ['never retries a 502 (Ioto may have acted)', errorOf(502, 'upstream_error'), 1, undefined],
    ['never retries a 504', errorOf(504, 'upstream_timeout'), 1, undefined],
    ['never retries a 500', errorOf(500, 'internal'), 1, undefined],
    ['never retries a 400', errorOf(400, 'validation_failed'), 1, undefined],
    ['never retries a 401', errorOf(401, 'unauthorized'), 1, undefined],
  ])('%s', (_name, error, attempt, expected) => {
    expect(retryDelay(error, attempt, policy, half)).toBe(expected);
  });

  it.each([
    [{ maxAttempts: 0 }, /maxAttempts/],
    [{ maxAttempts: 1.5 }, /maxAttempts/],
    [{ maxDelayMs: -1 }, /maxDelayMs/],
    [{ baseDelayMs: Number.NaN }, /baseDelayMs/],
  ])('refuses the retry options %j', (options, message) => {
    expect(() => retryPolicyOf(options)).toThrow(message);
  });

  it('is on by default and off with false', () => {
    expect(retryPolicyOf(undefined)).toMatchObject({ maxAttempts: 3, maxDelayMs: 5_000 });
    expect(retryPolicyOf(false)).toBeUndefined();
  });
});

describe('problemError', () => {
  const problem = {
    type: 'urn:ioto-bff:problem:validation_failed',
    title: 'Request validation failed',
    status: 400,
    detail: 'The request body does not match the operation schema; see errors.',
    code: 'validation_failed',
    requestId: 'req-from-body',
    errors: [{ path: '/id', message: 'Required' }, { path: 7 }],
  };

  it('keeps a problem document as it came', () => {
    const error = problemError({
      status: 400,
      contentType: 'application/problem+json',
      requestIdHeader: 'req-from-header',
      text: JSON.stringify(problem),
    });
    expect(error).toBeInstanceOf(IotoBffError);
    expect(error).toMatchObject({
      name: 'IotoBffError',
      status: 400,
      code: 'validation_failed',
      title: problem.title,
      detail: problem.detail,
      requestId: 'req-from-body',
      type: problem.type,
      errors: [{ path: '/id', message: 'Required' }],
    });
    expect(error.message).toBe(`400 validation_failed: ${problem.detail} (request req-from-body)`);
  });

  it('takes the status of the answer when a gateway problem has none (DEFAULT_4XX)', () => {
    const { status: _status, ...withoutStatus } = problem;
    const error = problemError({
      status: 409,
      contentType: 'application/problem+json',
      requestIdHeader: null,
      text: JSON.stringify({ ...withoutStatus, code: 'bad_request' }),
    });
    expect(error).toMatchObject({ status: 409, code: 'bad_request' });
  });

  it.each([
    ['a bare 502 page', 502, 'text/html', '<html>Bad Gateway</html>'],
    ['JSON without a code', 502, 'application/json', '{"message":"Internal server error"}'],
    ['a problem content type with a broken body', 500, 'application/problem+json', '{"code":'],
    ['no content type', 503, null, ''],
  ])('answers %s with unexpected_response and the HTTP status', (_n, status, type, text) => {
    const error = problemError({
      status,
      contentType: type,
      requestIdHeader: 'req-from-header',
      text,
      retryAfterMs: 2_000,
    });
    expect(error).toMatchObject({
      status,
      code: 'unexpected_response',
      title: 'Unexpected response',
      requestId: 'req-from-header',
      errors: [],
      type: undefined,
      retryAfterMs: 2_000,
    });
    expect(error.detail).not.toContain(text === '' ? '<none>' : text);
  });
});

type FakeAnswer = { status: number; body: string; headers?: Record<string, string> };

/** A fetch that answers from a script and records every request. */
function scriptedFetch(answers: FakeAnswer[]) {
  const requests: { url: string; init: RequestInit }[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    requests.push({ url: String(input), init: init ?? {} });
    const answer = answers.shift();
    if (answer === undefined) throw new Error('no scripted answer left');
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  };
  return { fetch, requests };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): FakeAnswer => ({
  status,
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json', ...headers },
});
const throttled = (retryAfter?: string): FakeAnswer => ({
  status: 503,
  body: JSON.stringify({ status: 503, code: 'upstream_throttled', title: 't', detail: 'd' }),
  headers: {
    'content-type': 'application/problem+json',
    ...(retryAfter !== undefined && { 'retry-after': retryAfter }),
  },
});

describe('createIotoBffClient over an injected fetch', () => {
  const recordSleeps = () => {
    const waits: number[] = [];
    return { waits, sleep: async (ms: number) => void waits.push(ms) };
  };

  it('retries a 503 after its Retry-After, then answers', async () => {
    const { fetch, requests } = scriptedFetch([throttled('1'), json({ data: { id: 'D' } })]);
    const { waits, sleep } = recordSleeps();
    const client = createIotoBffClient({
      baseUrl: 'http://x',
      token: 't',
      fetch,
      retry: { sleep },
    });
    await expect(client.call('device/get', { id: 'D' })).resolves.toEqual({ data: { id: 'D' } });
    expect(waits).toEqual([1_000]);
    expect(requests).toHaveLength(2);
    expect(requests[1]?.init.body).toBe(requests[0]?.init.body);
  });

  it('gives up after maxAttempts with the last problem', async () => {
    const { fetch, requests } = scriptedFetch([throttled('0'), throttled('0'), throttled('0')]);
    const { waits, sleep } = recordSleeps();
    const client = createIotoBffClient({
      baseUrl: 'http://x',
      token: 't',
      fetch,
      retry: { maxAttempts: 3, sleep },
    });
    await expect(client.call('device/get', { id: 'D' })).rejects.toMatchObject({
      status: 503,
      code: 'upstream_throttled',
    });
    expect(requests).toHaveLength(3);
    expect(waits).toEqual([0, 0]);
  });

  it('never retries with retry: false', async () => {
    const { fetch, requests } = scriptedFetch([throttled('0')]);
    const client = createIotoBffClient({ baseUrl: 'http://x', token: 't', fetch, retry: false });
    await expect(client.call('device/get', { id: 'D' })).rejects.toMatchObject({
      code: 'upstream_throttled',
      retryAfterMs: 0,
    });
    expect(requests).toHaveLength(1);
  });

  it('asks the token function before every attempt', async () => {
    const { fetch, requests } = scriptedFetch([throttled('0'), json({ data: null })]);
    let n = 0;
    const client = createIotoBffClient({
      baseUrl: 'http://x',
      token: async () => `token-${++n}`,
      fetch,
      retry: { sleep: async () => undefined },
    });
    await client.call('device/get', { id: 'D' });
    const authorizations = requests.map((r) => new Headers(r.init.headers).get('authorization'));
    expect(authorizations).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  it('sends the JSON body, the bearer token and a given request id, following no redirect', async () => {
    const { fetch, requests } = scriptedFetch([json({ data: null })]);
    const client = createIotoBffClient({
      baseUrl: 'https://api.example/prod///',
      token: 't',
      fetch,
    });
    await client.call('device/get', { id: 'D' }, { requestId: 'partner-req-1' });
    const [request] = requests;
    expect(request?.url).toBe('https://api.example/prod/v1/device/get');
    expect(request?.init).toMatchObject({ method: 'POST', body: '{"id":"D"}', redirect: 'error' });
    expect(Object.fromEntries(new Headers(request?.init.headers))).toMatchObject({
      authorization: 'Bearer t',
      'content-type': 'application/json',
      'x-request-id': 'partner-req-1',
    });
  });

  it.each([
    [
      'an HTML page',
      { status: 200, body: '<html></html>', headers: { 'content-type': 'text/html' } },
    ],
    ['JSON without data', json({ items: [] })],
  ])('throws unexpected_response for a success that is %s', async (_name, answer) => {
    const { fetch } = scriptedFetch([answer]);
    const client = createIotoBffClient({ baseUrl: 'http://x', token: 't', fetch });
    await expect(client.call('device/get', { id: 'D' })).rejects.toMatchObject({
      status: 200,
      code: 'unexpected_response',
    });
  });

  it('throws network_error with the cause when no answer arrives', async () => {
    const cause = new TypeError('fetch failed');
    const client = createIotoBffClient({
      baseUrl: 'http://x',
      token: 't',
      fetch: async () => {
        throw cause;
      },
    });
    const error = await client.call('device/get', { id: 'D' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, code: 'network_error', cause });
  });

  it('throws timeout when no answer arrives within timeoutMs', async () => {
    const client = createIotoBffClient({
      baseUrl: 'http://x',
      token: 't',
      timeoutMs: 1,
      // Answers only when aborted, as a hung connection would.
      fetch: (_input, init) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    });
    await expect(client.call('device/get', { id: 'D' })).rejects.toMatchObject({
      status: 0,
      code: 'timeout',
    });
  });

  it("rejects with the caller's abort reason, not a client error", async () => {
    const reason = new Error('caller gave up');
    const controller = new AbortController();
    controller.abort(reason);
    const client = createIotoBffClient({
      baseUrl: 'http://x',
      token: 't',
      fetch: async (_input, init) => {
        init?.signal?.throwIfAborted();
        return new Response('{}');
      },
    });
    await expect(
      client.call('device/get', { id: 'D' }, { signal: controller.signal }),
    ).rejects.toBe(reason);
  });

  it('pages with nextPageToken and the same other fields until there is none', async () => {
    const { fetch, requests } = scriptedFetch([
      json({ data: [1, 2], nextPageToken: 'p2', prevPageToken: null }),
      json({ data: [3], nextPageToken: 'p3', prevPageToken: 'p1' }),
      json({ data: [], nextPageToken: null, prevPageToken: 'p2' }),
    ]);
    const client = createIotoBffClient({ baseUrl: 'http://x', token: 't', fetch });
    const items: unknown[] = [];
    for await (const item of client.paginate('device/find', { accountId: 'A', limit: 2 })) {
      items.push(item);
    }
    expect(items).toEqual([1, 2, 3]);
    expect(requests.map((r) => JSON.parse(String(r.init.body)))).toEqual([
      { accountId: 'A', limit: 2 },
      { accountId: 'A', limit: 2, pageToken: 'p2' },
      { accountId: 'A', limit: 2, pageToken: 'p3' },
    ]);
  });

  it('stops a walk whose next page token repeats the one it sent', async () => {
    const { fetch } = scriptedFetch([
      json({ data: [1], nextPageToken: 'p2', prevPageToken: null }),
      json({ data: [2], nextPageToken: 'p2', prevPageToken: null }),
    ]);
    const client = createIotoBffClient({ baseUrl: 'http://x', token: 't', fetch });
    const walk = async () => {
      for await (const _item of client.paginate('device/find', { accountId: 'A' })) {
        // drained
      }
    };
    await expect(walk()).rejects.toMatchObject({ code: 'unexpected_response' });
  });

  it.each([
    [{ timeoutMs: 0 }, /timeoutMs/],
    [{ retry: { maxAttempts: 0 } }, /maxAttempts/],
  ])('refuses the options %j', (options, message) => {
    expect(() => createIotoBffClient({ baseUrl: 'http://x', token: 't', ...options })).toThrow(
      message,
    );
  });
});
