import type { ServerResponse } from 'node:http';
import { IotoClient, type IotoClientOptions, USER_AGENT } from '../../lambda/upstream/ioto-client';
import type { TokenProvider } from '../../lambda/upstream/token-provider';
import packageJson from '../../package.json';
import { type Origin, startOrigin } from '../support/origin-server';

const CANARY = 'CANARY-ioto-token-0123456789';

const text = (res: ServerResponse, status: number, body: string, type = 'text/plain') => {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
};
const json = (res: ServerResponse, value: unknown) =>
  text(res, 200, JSON.stringify(value), 'application/json');

/** Tokens that rotate: Ioto accepts only `current`, refreshes hand out `current`. */
class RotatingTokens implements TokenProvider {
  constructor(
    public current: string,
    public cached: string = current,
  ) {}
  refreshes = 0;
  async getToken() {
    return this.cached;
  }
  async refreshToken() {
    this.refreshes += 1;
    this.cached = this.current;
    return this.cached;
  }
}

describe('IotoClient', () => {
  let origin: Origin;
  let tokens: RotatingTokens;
  const client = (overrides: Partial<IotoClientOptions> = {}) =>
    new IotoClient({
      endpoint: new URL(`${origin.url}/stage/`),
      tokens,
      authScheme: 'raw',
      deadlineMs: 2_000,
      maxResponseBytes: 1_024,
      retryBaseDelayMs: 5,
      ...overrides,
    });
  const call = {
    controller: 'device',
    operation: 'find',
    body: { accountId: 'A1' },
    query: { limit: 5 },
    retrySafe: true,
  };

  beforeAll(async () => {
    origin = await startOrigin();
  });
  afterAll(() => origin.close());
  beforeEach(() => {
    origin.requests.length = 0;
    tokens = new RotatingTokens(CANARY);
  });

  it('POSTs the body to {endpoint}/tok/{controller}/{operation} with only its own headers', async () => {
    origin.respond((_req, res) => json(res, { data: [] }));
    const reply = await client().call(call);
    expect(reply).toMatchObject({
      status: 200,
      text: '{"data":[]}',
      attempts: 1,
      tokenRefreshed: false,
    });
    const [sent] = origin.requests;
    expect(sent?.method).toBe('POST');
    expect(sent?.url).toBe('/stage/tok/device/find?limit=5');
    expect(sent?.body).toBe('{"accountId":"A1"}');
    expect(sent?.headers.authorization).toBe(CANARY);
    expect(sent?.headers['content-type']).toBe('application/json');
    expect(Object.keys(sent?.headers ?? {}).sort()).toEqual(
      expect.not.arrayContaining(['cookie', 'x-forwarded-for', 'x-api-key']),
    );
  });

  it('sends `bearer <token>` when configured so', async () => {
    origin.respond((_req, res) => json(res, {}));
    await client({ authScheme: 'bearer' }).call(call);
    expect(origin.requests[0]?.headers.authorization).toBe(`bearer ${CANARY}`);
  });

  it('refreshes a rejected token once and retries with the new one', async () => {
    tokens = new RotatingTokens('tok-new', 'tok-old');
    origin.respond((req, res) =>
      req.headers.authorization === 'tok-new'
        ? json(res, { ok: true })
        : text(res, 403, 'Authentication failed'),
    );
    const reply = await client().call(call);
    expect(reply).toMatchObject({ attempts: 2, tokenRefreshed: true });
    expect(tokens.refreshes).toBe(1);
  });

  it('gives up with upstream_auth_failed when the refreshed token is refused too', async () => {
    origin.respond((_req, res) => text(res, 401, 'Authentication failed'));
    await expect(client().call(call)).rejects.toMatchObject({
      code: 'upstream_auth_failed',
      status: 502,
    });
    expect(origin.requests).toHaveLength(2);
  });

  it.each([
    ['a 500', (_r: unknown, res: ServerResponse) => text(res, 500, 'boom')],
    ['a connection reset', (_r: unknown, res: ServerResponse) => res.socket?.destroy()],
  ])('retries a safe operation once after %s', async (_name, fail) => {
    let calls = 0;
    origin.respond((req, res) => {
      calls += 1;
      if (calls === 1) fail(req, res);
      else json(res, { ok: true });
    });
    await expect(client().call(call)).resolves.toMatchObject({ attempts: 2 });
  });

  it('does not retry an operation that is not safe to retry', async () => {
    origin.respond((_req, res) => text(res, 503, 'busy'));
    await expect(client().call({ ...call, retrySafe: false })).rejects.toMatchObject({
      code: 'upstream_error',
      status: 502,
    });
    expect(origin.requests).toHaveLength(1);
  });

  it('stops after one retry', async () => {
    origin.respond((_req, res) => text(res, 500, 'boom'));
    await expect(client().call(call)).rejects.toMatchObject({ code: 'upstream_error' });
    expect(origin.requests).toHaveLength(2);
  });

  it('answers upstream_timeout when Ioto is slower than the deadline', async () => {
    origin.respond((_req, res) => {
      setTimeout(() => json(res, {}), 500).unref();
    });
    await expect(client({ deadlineMs: 100 }).call(call)).rejects.toMatchObject({
      code: 'upstream_timeout',
      status: 504,
    });
  });

  it.each([
    ['the first read', 'getToken'],
    ['the re-read after a refusal', 'refreshToken'],
  ] as const)(
    'answers upstream_timeout on time when %s of the token outlasts the deadline',
    async (_name, slow) => {
      origin.respond((_req, res) => text(res, 401, 'Authentication failed'));
      const never = new Promise<string>(() => {});
      // A read that never ends: without the deadline the call would never settle.
      tokens[slow] = () => never;
      await expect(
        client().call({ ...call, signal: AbortSignal.timeout(50) }),
      ).rejects.toMatchObject({ code: 'upstream_timeout', status: 504 });
    },
  );

  it('refuses redirects', async () => {
    origin.respond((_req, res) => {
      res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' });
      res.end();
    });
    await expect(client().call(call)).rejects.toMatchObject({ code: 'upstream_error' });
    expect(origin.requests).toHaveLength(1);
  });

  it.each([
    ['declared', (res: ServerResponse) => text(res, 200, 'x'.repeat(2_000), 'application/json')],
    [
      'streamed',
      (res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('x'.repeat(800));
        res.end('x'.repeat(800));
      },
    ],
  ])('refuses a reply over the size cap (%s length)', async (_name, answer) => {
    origin.respond((_req, res) => answer(res));
    await expect(client().call(call)).rejects.toMatchObject({ code: 'upstream_error' });
  });

  it('passes on a short, plain Ioto 400 message', async () => {
    origin.respond((_req, res) => text(res, 400, 'Cannot find device'));
    await expect(client().call(call)).rejects.toMatchObject({
      code: 'upstream_rejected',
      status: 400,
      detail: 'Ioto rejected the request: Cannot find device',
    });
  });

  it.each([
    ['markup served as HTML', '<html><body>Error</body></html>', 'text/html'],
    ['JSON without an error', '{"message":"Cannot find device"}', 'application/json'],
    ['the token itself', `bad token ${CANARY}`, 'text/plain'],
    ['only control characters', '\u0000\u0007\u001b', 'text/plain'],
  ])('hides an Ioto 400 message that is %s', async (_name, body, type) => {
    origin.respond((_req, res) => text(res, 400, body, type));
    const error = await client()
      .call(call)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'upstream_rejected',
      detail: 'Ioto rejected the request.',
    });
  });

  it.each([
    ['markup as plain text', '<b>Error</b>', 'text/plain', '<b>Error</b>'],
    [
      'a JSON error',
      '{"error":"Missing property _type"}',
      'application/json',
      'Missing property _type',
    ],
    [
      'control characters and a bidi override',
      'Cannot\u0000 find\u202e device\r\n',
      'text/plain',
      'Cannot find device',
    ],
    ['a long text', 'x'.repeat(500), 'text/plain', `${'x'.repeat(199)}…`],
  ])(
    'keeps an Ioto 400 message that is %s, cleaned and bounded',
    async (_name, body, type, shown) => {
      origin.respond((_req, res) => text(res, 400, body, type));
      const error = (await client()
        .call(call)
        .catch((e: unknown) => e)) as { detail: string };
      expect(error.detail).toBe(`Ioto rejected the request: ${shown}`);
    },
  );

  it.each([409, 422])(
    'answers an Ioto %i as upstream_rejected, with its message',
    async (status) => {
      origin.respond((_req, res) => text(res, status, 'Item already exists'));
      await expect(client().call(call)).rejects.toMatchObject({
        code: 'upstream_rejected',
        status: 400,
        detail: 'Ioto rejected the request: Item already exists',
      });
    },
  );

  it.each([404, 405, 418, 302])(
    'answers an Ioto %i as upstream_error, naming the status in its cause',
    async (status) => {
      origin.respond((_req, res) => {
        res.writeHead(status, { location: `${origin.url}/elsewhere` });
        res.end('nope');
      });
      const error = (await client()
        .call({ ...call, retrySafe: false })
        .catch((e: unknown) => e)) as { code: string; cause: Error };
      expect(error.code).toBe('upstream_error');
      expect(error.cause.message).toBe(`Ioto answered ${status}`);
      expect(origin.requests).toHaveLength(1);
    },
  );

  it('asks the partner to wait when Ioto answers {error, delay}, with or without a 2xx', async () => {
    origin.respond((_req, res) =>
      text(res, 400, '{"error":"Too much I/O","delay":12.5}', 'application/json'),
    );
    const error = (await client()
      .call(call)
      .catch((e: unknown) => e)) as {
      code: string;
      status: number;
      headers: object;
      detail: string;
    };
    expect(error).toMatchObject({
      code: 'upstream_throttled',
      status: 503,
      headers: { 'retry-after': '13' },
      detail: 'Ioto asks to wait: Too much I/O',
    });
  });

  it('never passes on a success that quotes the token', async () => {
    origin.respond((_req, res) => json(res, { data: [{ note: `token ${CANARY}` }] }));
    await expect(client().call(call)).rejects.toMatchObject({ code: 'upstream_error' });
  });

  it('sends exactly the headers it chooses, and those HTTP needs', async () => {
    origin.respond((_req, res) => json(res, { data: [] }));
    await client({ origin: 'https://app.example.com' }).call(call);
    await client({ authScheme: 'bearer' }).call(call);
    const [withOrigin, bearer] = origin.requests;
    expect(Object.keys(withOrigin?.headers ?? {}).sort()).toEqual([
      'accept',
      'authorization',
      'connection',
      'content-length',
      'content-type',
      'host',
      'origin',
      'user-agent',
    ]);
    expect(withOrigin?.headers).toMatchObject({
      accept: 'application/json',
      authorization: CANARY,
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      origin: 'https://app.example.com',
    });
    expect(Object.keys(bearer?.headers ?? {})).not.toContain('origin');
    expect(bearer?.headers.authorization).toBe(`bearer ${CANARY}`);
  });

  it('names its version in User-Agent, as package.json does', () => {
    expect(USER_AGENT).toBe(`ioto-bff/${packageJson.version}`);
  });

  it('maps Ioto throttling to upstream_throttled with Retry-After', async () => {
    origin.respond((_req, res) => text(res, 429, 'slow down'));
    await expect(client().call(call)).rejects.toMatchObject({
      code: 'upstream_throttled',
      status: 503,
      headers: { 'retry-after': '1' },
    });
  });

  it('answers upstream_error when Ioto cannot be reached', async () => {
    const closed = await startOrigin();
    await closed.close();
    const unreachable = new IotoClient({
      endpoint: new URL(closed.url),
      tokens,
      authScheme: 'raw',
      deadlineMs: 1_000,
      maxResponseBytes: 1_024,
      retryBaseDelayMs: 1,
    });
    await expect(unreachable.call(call)).rejects.toMatchObject({ code: 'upstream_error' });
  });

  it('refuses route names that are not catalog-shaped', async () => {
    await expect(client().call({ ...call, operation: '../admin' })).rejects.toThrow(/malformed/);
    expect(origin.requests).toHaveLength(0);
  });
});
