import type { Server } from 'node:http';
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';
import type { APIGatewayAuthorizerResult, APIGatewayProxyResult } from 'aws-lambda';
import { SEED } from '../../dev/ioto-simulator';
import {
  API_GATEWAY_MAX_PAYLOAD,
  createApiGatewayEmulator,
  GATEWAY_RESPONSE_HEADERS,
  listenOnLoopback,
  resolveTarget,
} from '../../dev/local-gateway/api-gateway-emulator';
import type { AuthorizerHandler } from '../../lambda/auth/create-authorizer-handler';
import { catalog, operationKey } from '../../lambda/catalog/index';
import { DOCS_PAGE_CSP } from '../../lambda/docs/docs-page';
import { resolveOperation } from '../../lambda/proxy/parse-request';
import { fullAccessConfig } from '../support/access-fixtures';
import { type Rig, startRig } from './gateway-harness';

/**
 * The local gateway at its edges, over real HTTP on 127.0.0.1: what API Gateway does with an
 * oversized body, a request target it cannot match or parse, a trailing slash, and the headers
 * of every response it makes itself. Each answer is problem+json (the JWKS document aside),
 * delivered (never a dropped or reset connection) and logged once.
 */

const [OWNER] = SEED.accounts;

let rig: Rig;
let port: number;

beforeAll(async () => {
  rig = await startRig(fullAccessConfig(OWNER.id), 'tester');
  port = Number(new URL(rig.gateway.url).port);
});

afterAll(async () => {
  await rig?.close();
});

/** A response, whichever client got it. */
interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly text: string;
  readonly body: Record<string, unknown>;
}

const parseBody = (text: string): Record<string, unknown> => {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
};

const fromFetch = async (response: Response): Promise<Answer> => {
  const text = await response.text();
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    text,
    body: parseBody(text),
  };
};

/**
 * Writes `head` (and `body`) on a fresh socket as they are, reads until the server closes, and
 * parses the one final response (any `100 Continue` is kept in `interim`).
 */
async function rawExchange(
  head: string | Buffer,
  body: Buffer = Buffer.alloc(0),
): Promise<Answer & { readonly interim: string[]; readonly closed: boolean }> {
  const received = await new Promise<{ bytes: Buffer; closed: boolean }>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), closed: false });
    }, 5_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      socket.end();
      resolve({ bytes: Buffer.concat(chunks), closed: true });
    });
    socket.write(
      Buffer.concat([typeof head === 'string' ? Buffer.from(head, 'latin1') : head, body]),
    );
  });
  let text = received.bytes.toString('utf8');
  const interim: string[] = [];
  while (/^HTTP\/1\.1 1\d\d /.test(text)) {
    const end = text.indexOf('\r\n\r\n');
    interim.push(text.slice(0, end));
    text = text.slice(end + 4);
  }
  const split = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...headerLines] = text.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const bodyText = text.slice(split + 4);
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    text: bodyText,
    body: parseBody(bodyText),
    interim,
    closed: received.closed,
  };
}

/** A POST of `{}` to `target`, as the bytes say, with a valid token of the default partner. */
const rawPost = (target: string | Buffer) =>
  rawExchange(
    Buffer.concat([
      Buffer.from('POST ', 'latin1'),
      typeof target === 'string' ? Buffer.from(target, 'latin1') : target,
      Buffer.from(
        ' HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
          `Authorization: Bearer ${rig.tokenFor('tester')}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
        'latin1',
      ),
    ]),
  );

/** The log lines of the gateway's own responses with a request id. */
const gatewayLogOf = (requestId: string | undefined) =>
  rig.output
    .records()
    .filter((r) => r.message === 'gateway response' && r.correlation_id === requestId);

/**
 * A response of the gateway itself: problem+json with the headers every response carries, the
 * request id in header and body, and one log line.
 *
 * @param fallback API Gateway's DEFAULT_4XX: `bad_request` with the gateway's status and no
 *   `status` member
 */
function expectGatewayProblem(answer: Answer, status: number, code: string, fallback = false) {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(answer.headers['cache-control']).toBe('no-store');
  expect(answer.headers['x-content-type-options']).toBe('nosniff');
  const requestId = answer.headers['x-request-id'];
  expect(requestId).toEqual(expect.any(String));
  expect(answer.body).toEqual({
    type: `urn:ioto-bff:problem:${code}`,
    title: expect.any(String),
    ...(!fallback && { status }),
    detail: expect.any(String),
    code,
    requestId,
  });
  expect(gatewayLogOf(requestId)).toEqual([
    expect.objectContaining({ status, code, responseType: expect.any(String) }),
  ]);
}

describe('an oversized body (API Gateway refuses over 10 MB)', () => {
  const oversized = Buffer.alloc(API_GATEWAY_MAX_PAYLOAD + 1024 * 1024, 0x20);

  it('answers 413 payload_too_large to every try through fetch, also after a keep-alive request', async () => {
    for (let i = 0; i < 10; i++) {
      // fetch keeps connections alive: from the second try the 413 goes out on a reused one.
      if (i % 2 === 0) {
        const warm = await fetch(`${rig.gateway.url}/v1/device/find`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        expect(warm.status).toBe(401);
        await warm.text();
      }
      const answer = await fromFetch(
        await fetch(`${rig.gateway.url}/v1/device/find`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: oversized,
        }),
      );
      expectGatewayProblem(answer, 413, 'payload_too_large');
    }
  });

  it('answers 413 on a reused keep-alive connection and keeps it usable', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (body: Buffer | string) =>
      new Promise<Answer & { reused: boolean }>((resolve, reject) => {
        const req = request(
          `${rig.gateway.url}/v1/device/find`,
          { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              resolve({
                status: res.statusCode ?? 0,
                headers: flatten(res.headers),
                text,
                body: parseBody(text),
                reused: req.reusedSocket,
              });
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    try {
      expect((await post('{}')).status).toBe(401);
      for (let i = 0; i < 10; i++) {
        const refused = await post(oversized);
        expect(refused.reused).toBe(true);
        expectGatewayProblem(refused, 413, 'payload_too_large');
        // The whole body was read: the connection goes on.
        expect(refused.headers.connection).not.toBe('close');
        const next = await post('{}');
        expect(next.reused).toBe(true);
        expect(next.status).toBe(401);
      }
    } finally {
      agent.destroy();
    }
  });

  it('refuses a declared oversized body before it is sent (Expect: 100-continue)', async () => {
    const answer = await rawExchange(
      'POST /v1/device/find HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${oversized.length}\r\nExpect: 100-continue\r\n\r\n`,
    );
    expect(answer.interim).toEqual([]);
    expectGatewayProblem(answer, 413, 'payload_too_large');
    expect(answer.headers.connection).toBe('close');
    expect(answer.closed).toBe(true);
  });

  it('tells a client that declared a body within the limit to go on (Expect: 100-continue)', async () => {
    const answer = await rawExchange(
      'POST /v1/device/find HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        'Content-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
      Buffer.from('{}'),
    );
    expectGatewayProblem(answer, 401, 'unauthorized');
  });
});

const flatten = (headers: IncomingHttpHeaders): Record<string, string | undefined> =>
  Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(', ') : value,
    ]),
  );

describe('request targets that match no operation', () => {
  it.each([
    ['an invalid percent-escape', '/v1/%E0%A4%A/find'],
    ['a truncated escape', '/v1/device/find%E'],
    ['a bare percent sign', '/v1/%/%'],
    ['a non-hex escape', '/v1/%ZZ/find'],
    ['an overlong UTF-8 escape', '/v1/device/%C0%AF'],
    ['an escaped UTF-16 surrogate', '/v1/device/%ED%A0%80'],
    ['an encoded slash between the names', '/v1/device%2Ffind'],
    ['an encoded slash after the names', '/v1/device/find%2F'],
    ['an escaped NUL after the operation', '/v1/device/find%00'],
    ['an escaped NUL as the controller', '/v1/%00/find'],
    ['a double slash in front', '//v1/device/find'],
    ['a double slash that reads as an authority', '//evil.example/v1/device/find'],
    ['an empty segment', '/v1//device/find'],
    ['two trailing slashes', '/v1/device/find//'],
    ['a dot segment', '/v1/x/../device/find'],
    ['an escaped non-ASCII name', '/v1/d%C3%A9vice/find'],
    ['a right-to-left override', '/v1/%E2%80%AEdnif/device'],
    ['a long path', `/v1/device/${'a'.repeat(9_000)}`],
    ['an asterisk', '*'],
  ])('answers 404 not_found, logged, to %s', async (_name, target) => {
    rig.simulator.reset();
    expectGatewayProblem(await rawPost(target), 404, 'not_found');
    // Nothing reached Ioto: no operation ran.
    expect(rig.simulator.requests).toEqual([]);
  });

  it('answers 414 with the fallback refusal to a target over the 10240-character URL limit', async () => {
    expectGatewayProblem(await rawPost(`/v1/${'a'.repeat(11_000)}`), 414, 'bad_request', true);
  });

  it.each([
    ['raw non-ASCII bytes', Buffer.from('/v1/dévice/find', 'utf8')],
    ['a raw control character', '/v1/de\x01vice/find'],
    ['a raw space', '/v1/de vice/find'],
  ])('answers 400 with the fallback refusal to %s Node cannot parse', async (_name, target) => {
    expectGatewayProblem(await rawPost(target), 400, 'bad_request', true);
  });

  it("answers 431 with the fallback refusal to a request line over Node's header limit", async () => {
    expectGatewayProblem(await rawPost(`/v1/${'a'.repeat(20_000)}`), 431, 'bad_request', true);
  });

  it('answers a request Node cannot parse on a kept-alive connection too', async () => {
    const token = rig.tokenFor('tester');
    const first =
      'POST /v1/device/find HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `Authorization: Bearer ${token}\r\nContent-Length: 2\r\n\r\n{}`;
    const second = 'POST /v1/de\x01vice/find HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    // Sent apart, so the first answer is out before the second request arrives.
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        const wasEmpty = received === '';
        received += chunk.toString('utf8');
        if (wasEmpty) socket.write(second, 'latin1');
      });
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
      socket.write(first, 'latin1');
    });
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toMatch(/}HTTP\/1\.1 400 Bad Request\r\n[\s\S]*"code":"bad_request"/);
  });
});

describe('request targets of an operation', () => {
  const post = (path: string, token?: string) =>
    rig.send(rig.gateway.url, path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token !== undefined && { authorization: `Bearer ${token}` }),
      },
      body: '{"limit":2}',
    });

  it('routes a trailing slash as API Gateway does: the authorizer, then the proxy', async () => {
    rig.simulator.reset();
    const result = await post('/v1/device/find/', rig.tokenFor('tester'));
    expect(result.status).toBe(200);
    expect(result.body.data).toHaveLength(2);
    expect(rig.simulator.requests.at(-1)?.path).toBe('/tok/device/find');
  });

  it('answers 401 to a trailing slash without a token, from the authorizer step', async () => {
    const result = await post('/v1/device/find/');
    expectGatewayProblem(
      { ...result, headers: Object.fromEntries(result.headers) },
      401,
      'unauthorized',
    );
  });

  it('answers 405 to another method on a route with a trailing slash', async () => {
    const result = await rig.send(rig.gateway.url, '/v1/device/find/', { method: 'GET' });
    expectGatewayProblem(
      { ...result, headers: Object.fromEntries(result.headers) },
      405,
      'method_not_allowed',
    );
    expect(result.headers.get('allow')).toBe('POST');
  });

  it.each([
    ['escaped letters (RFC 3986 §6.2.2.2)', '/v1/device/fi%6Ed'],
    ['a malformed escape in the query', '/v1/device/find?a=%E0%A4%A'],
    ['the absolute form (RFC 9112 §3.2.2)', `http://127.0.0.1:0/v1/device/find`],
  ])('serves %s as the operation', async (_name, target) => {
    const answer = await rawPost(target);
    expect(answer.status).toBe(200);
    expect(answer.body).toHaveProperty('data');
  });

  it.each([
    '/v1/device/find',
    '/v1/device/find/',
    '/v1/store/get/',
    '/v1/device/find//',
    '//v1/device/find',
    '/v1//device/find',
    '/v1/device',
    '/v1/device/',
    '/v1/device/find/x',
    '/v2/device/find',
    '/v1/device/nope',
    '/v1/constructor/constructor',
    '/',
  ])('agrees with the proxy on whether %s is an operation', (path) => {
    const emulator = resolveTarget(path).kind === 'route';
    let proxy = true;
    try {
      resolveOperation({ httpMethod: 'POST', pathParameters: null, resource: path, path });
    } catch {
      proxy = false;
    }
    expect(emulator).toBe(proxy);
  });
});

describe('the body, handed to the proxy byte for byte', () => {
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
  const post = (body: Buffer) =>
    rig.send(rig.gateway.url, '/v1/device/find', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${rig.tokenFor('tester')}`,
      },
      body,
    });

  it('lets the proxy accept one leading byte-order mark (RFC 8259 §8.1)', async () => {
    const result = await post(Buffer.concat([BOM, Buffer.from('{"limit":1}')]));
    expect(result.status).toBe(200);
    expect(result.body.data).toHaveLength(1);
  });

  it('answers 400 malformed_json to two byte-order marks, which no JSON parser may skip', async () => {
    rig.simulator.reset();
    const result = await post(Buffer.concat([BOM, BOM, Buffer.from('{"limit":1}')]));
    expect(result.status).toBe(400);
    expect(result.body.code).toBe('malformed_json');
    expect(rig.simulator.requests).toHaveLength(0);
  });
});

describe('headers of every response the gateway makes itself', () => {
  it('are the values the proxy puts on its own responses', async () => {
    const proxied = await rig.call('/v1/device/find', { limit: 1 });
    expect(proxied.status).toBe(200);
    for (const [name, value] of Object.entries(GATEWAY_RESPONSE_HEADERS)) {
      expect(proxied.headers.get(name)).toBe(value);
    }
  });

  it('are on 401 without a token, 401 for a refused token, 404, 405 and 413', async () => {
    const send = async (path: string, init: RequestInit) =>
      fromFetch(await fetch(`${rig.gateway.url}${path}`, init));
    const json = { 'content-type': 'application/json' };
    expectGatewayProblem(
      await send('/v1/device/find', { method: 'POST', headers: json, body: '{}' }),
      401,
      'unauthorized',
    );
    expectGatewayProblem(
      await send('/v1/device/find', {
        method: 'POST',
        headers: { ...json, authorization: 'Bearer not.a.token' },
        body: '{}',
      }),
      401,
      'unauthorized',
    );
    expectGatewayProblem(
      await send('/v1/device/remove', { method: 'POST', headers: json, body: '{}' }),
      404,
      'not_found',
    );
    expectGatewayProblem(
      await send('/v1/device/find', { method: 'DELETE' }),
      405,
      'method_not_allowed',
    );
    expectGatewayProblem(
      await send('/v1/device/find', {
        method: 'POST',
        headers: json,
        body: Buffer.alloc(API_GATEWAY_MAX_PAYLOAD + 1),
      }),
      413,
      'payload_too_large',
    );
  });

  it('are on the JWKS document', async () => {
    const response = await fetch(`${rig.gateway.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-request-id')).toEqual(expect.any(String));
    expect(await response.json()).toEqual({
      keys: [expect.objectContaining({ kty: expect.any(String) })],
    });
  });

  describe('with an authorizer and a proxy that misbehave', () => {
    const policy = (effect: 'Allow' | 'Deny'): APIGatewayAuthorizerResult => ({
      principalId: 'acme',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: '*' }],
      },
      context: { partnerId: 'acme' },
    });
    let server: Server;
    let url: string;
    let authorizer: jest.Mock<ReturnType<AuthorizerHandler>, Parameters<AuthorizerHandler>>;
    let proxy: jest.Mock<Promise<APIGatewayProxyResult>, []>;

    beforeEach(async () => {
      authorizer = jest.fn<ReturnType<AuthorizerHandler>, Parameters<AuthorizerHandler>>();
      proxy = jest.fn<Promise<APIGatewayProxyResult>, []>();
      // No authorizer cache: each test's authorizer answers for itself.
      server = createApiGatewayEmulator({ proxy, authorizer, authorizerCacheSeconds: 0 });
      url = await listenOnLoopback(server, 0);
    });

    afterEach(async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    });

    const call = async () =>
      fromFetch(
        await fetch(`${url}/v1/device/find`, {
          method: 'POST',
          headers: { authorization: 'Bearer a.b.c', 'content-type': 'application/json' },
          body: '{}',
        }),
      );

    it('are on 403 forbidden when the policy does not cover the route', async () => {
      authorizer.mockResolvedValue(policy('Deny'));
      expectGatewayProblem(await call(), 403, 'forbidden');
      expect(proxy).not.toHaveBeenCalled();
    });

    it('are on 503 authorizer_unavailable when the authorizer fails', async () => {
      authorizer.mockRejectedValue(new Error('JWKS unreachable'));
      const answer = await call();
      expectGatewayProblem(answer, 503, 'authorizer_unavailable');
      expect(answer.headers['retry-after']).toBe('5');
    });

    it('are on 502 integration_failed when the proxy throws', async () => {
      authorizer.mockResolvedValue(policy('Allow'));
      proxy.mockRejectedValue(new Error('the proxy crashed'));
      expectGatewayProblem(await call(), 502, 'integration_failed');
    });

    it.each([
      ['no status code', { body: '{}' }],
      ['a body that is not a string', { statusCode: 200, body: { data: 1 } }],
      ['a header HTTP cannot carry', { statusCode: 200, headers: { 'x-bad': 'a\nb' }, body: '' }],
    ])('are on 502 integration_failed when the proxy answers with %s', async (_name, result) => {
      authorizer.mockResolvedValue(policy('Allow'));
      proxy.mockResolvedValue(result as unknown as APIGatewayProxyResult);
      const answer = await call();
      expectGatewayProblem(answer, 502, 'integration_failed');
      expect(answer.headers['x-bad']).toBeUndefined();
    });
  });
});

describe('the docs resources: open, every method to the docs function', () => {
  const get = async (path: string, init: RequestInit = {}) =>
    fromFetch(await fetch(`${rig.gateway.url}${path}`, init));

  /** A document of the docs function: cacheable, never sniffed, with a request id. */
  const expectDocument = (answer: Answer, contentType: string) => {
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe(contentType);
    expect(answer.headers['cache-control']).toBe('public, max-age=300');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['x-request-id']).toEqual(expect.any(String));
  };

  /** A problem of the docs function (not of the gateway): never cached. */
  const expectDocsProblem = (answer: Answer, status: number, code: string) => {
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.body).toMatchObject({ status, code, requestId: answer.headers['x-request-id'] });
  };

  it.each(['/docs', '/docs/'])('serves the Redoc page at %s under its CSP', async (path) => {
    const answer = await get(path);
    expectDocument(answer, 'text/html; charset=utf-8');
    expect(answer.headers['content-security-policy']).toBe(DOCS_PAGE_CSP);
    expect(answer.headers['referrer-policy']).toBe('no-referrer');
    // The local gateway answers at its root: no stage in the addresses.
    expect(answer.text).toContain('<redoc spec-url="/openapi.json"');
    expect(answer.text).toContain('<script src="/docs/redoc.standalone.js"></script>');
  });

  it.each([
    ['redoc.standalone.js', 'text/javascript; charset=utf-8'],
    ['redoc.standalone.js.LICENSE.txt', 'text/plain; charset=utf-8'],
    ['redoc.LICENSE.txt', 'text/plain; charset=utf-8'],
  ])('serves /docs/%s from the redoc package', async (name, contentType) => {
    const answer = await get(`/docs/${name}`);
    expectDocument(answer, contentType);
    expect(answer.text.length).toBeGreaterThan(500);
  });

  it('serves the description with the gateway itself as its server', async () => {
    const answer = await get('/openapi.json');
    expectDocument(answer, 'application/json');
    expect(answer.body.servers).toEqual([
      { url: rig.gateway.url, description: expect.any(String) },
    ]);
    expect(Object.keys(answer.body.paths as object)).toEqual(
      expect.arrayContaining(catalog.map((op) => `/v1/${operationKey(op)}`)),
    );
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const answer = await get('/openapi.json', { method: 'HEAD' });
    expectDocument(answer, 'application/json');
    expect(answer.text).toBe('');
  });

  it('needs no token, and a bad one changes nothing: no authorizer, nothing reaches Ioto', async () => {
    rig.simulator.reset();
    expectDocument(
      await get('/docs', { headers: { authorization: 'Bearer not.a.token' } }),
      'text/html; charset=utf-8',
    );
    expect(rig.simulator.requests).toEqual([]);
  });

  it.each([
    ['POST', '/docs'],
    ['PUT', '/docs/redoc.standalone.js'],
    ['DELETE', '/openapi.json'],
    ['PATCH', '/docs/'],
  ])('answers 405 with Allow: GET, HEAD to %s %s, from the function', async (method, path) => {
    const answer = await get(path, { method });
    expectDocsProblem(answer, 405, 'method_not_allowed');
    expect(answer.headers.allow).toBe('GET, HEAD');
  });

  it.each([
    '/docs/nope.js',
    '/docs/index.js',
    '/docs/redoc.standalone.js.map',
    '/docs/constructor',
  ])('answers 404 not_found to %s, a name the function does not serve', async (path) => {
    expectDocsProblem(await get(path), 404, 'not_found');
  });

  it.each([
    '/docs/a/b',
    '/docs//redoc.standalone.js',
    '/docs/%2Fetc%2Fpasswd',
    '/docs/%E0%A4%A',
    '/openapi.json/x',
    '/v1/docs',
    '/doc',
  ])('answers 404 not_found from the gateway to %s, which matches no resource', async (path) => {
    expectGatewayProblem(
      await rawExchange(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
      404,
      'not_found',
    );
  });

  it.each([
    ['/docs', '/docs', undefined],
    ['/docs/', '/docs', undefined],
    ['/docs/redoc.standalone.js', '/docs/{asset}', 'redoc.standalone.js'],
    ['/docs/r%65doc.standalone.js/', '/docs/{asset}', 'redoc.standalone.js'],
    ['/openapi.json', '/openapi.json', undefined],
    ['/openapi.json/?x=1', '/openapi.json', undefined],
  ])('routes %s to the docs resource %s', (target, resource, asset) => {
    const resolved = resolveTarget(target);
    expect(resolved).toMatchObject({ kind: 'docs', resource });
    expect(resolved.kind === 'docs' ? resolved.asset : 'not docs').toBe(asset);
  });
});
