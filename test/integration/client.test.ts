import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  clientCredentialsToken,
  createIotoBffClient,
  type IotoBffClientOptions,
  IotoBffError,
} from '../../client';
import { SEED } from '../../dev/ioto-simulator';
import { LOCAL_ISSUER } from '../../dev/local-issuer';
import { parseAccessConfig } from '../../lambda/config/access';
import { fullAccessConfig } from '../support/access-fixtures';
import { type Rig, startRig } from './gateway-harness';

/**
 * The partner client (client/) against the local gateway over the Ioto simulator, real sockets
 * all the way: paging, problems, retry of a throttled call, the token function, and the
 * client-credentials helper against a token endpoint on loopback.
 */
const [OWNER] = SEED.accounts;
const DEVICE = OWNER.deviceIds[0] ?? '';

/** `tester` may call everything on the first account; `reader` only device/find. */
const access = (() => {
  const full = fullAccessConfig(OWNER.id);
  return parseAccessConfig({
    ...full,
    partners: [
      ...full.partners,
      {
        id: 'reader',
        operations: ['device/find'],
        accounts: [OWNER.id],
        identity: { issuer: LOCAL_ISSUER, clientId: 'reader-client' },
      },
    ],
  });
})();

let rig: Rig;

beforeAll(async () => {
  rig = await startRig(access, 'tester');
});

afterAll(async () => {
  await rig?.close();
});

beforeEach(() => {
  rig.simulator.reset();
});

/** A client of the rig's gateway as `partner`, with a fresh access token per request. */
const clientAs = (partner: string, options: Partial<IotoBffClientOptions> = {}) =>
  createIotoBffClient({
    baseUrl: rig.gateway.url,
    token: () => rig.tokenFor(partner),
    retry: false,
    ...options,
  });

/** The error a promise rejects with (failing the test when it resolves). */
const rejectionOf = async (promise: Promise<unknown>): Promise<IotoBffError> => {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome))
    throw new Error(`expected a rejection, got ${JSON.stringify(outcome)}`);
  expect(outcome.error).toBeInstanceOf(IotoBffError);
  return outcome.error as IotoBffError;
};

describe('the client against the local gateway', () => {
  it("walks every device of the account with a small limit: no duplicate, no gap, the seed's order", async () => {
    const client = clientAs('tester');
    const ids: string[] = [];
    // No accountId: the gateway sets the partner's one account.
    for await (const device of client.paginate('device/find', { limit: 7 })) {
      ids.push(String(device.id));
      // Bounded: a walk that never ends fails here instead of hanging.
      if (ids.length > OWNER.deviceIds.length) break;
    }
    expect(ids).toEqual(OWNER.deviceIds);
    expect(new Set(ids).size).toBe(ids.length);
    const finds = rig.simulator.requests.filter((r) => r.path === '/tok/device/find');
    expect(finds).toHaveLength(Math.ceil(OWNER.deviceIds.length / 7));
  });

  it('answers a paged call with its data and both page tokens', async () => {
    const page = await clientAs('tester').call('device/find', { accountId: OWNER.id, limit: 5 });
    expect(page.data).toHaveLength(5);
    expect(page.nextPageToken).toEqual(expect.any(String));
    expect(page.prevPageToken).toBeNull();
  });

  it('answers a record call with {data} only', async () => {
    const answer = await clientAs('tester').call('device/get', { id: DEVICE });
    expect(Object.keys(answer)).toEqual(['data']);
    expect(answer.data).toMatchObject({ id: DEVICE, accountId: OWNER.id });
  });

  it('sends an Idempotency-Key: the same write twice reaches Ioto once, the second is replayed', async () => {
    const client = clientAs('tester');
    const key = `client-${Date.now()}`;
    const body = { deviceId: DEVICE, key: 'setpoint', value: 19 };
    const before = rig.simulator.requests.filter((r) => r.operation === 'update').length;
    const first = await client.call('store/set', body, { idempotencyKey: key });
    const second = await client.call('store/set', body, { idempotencyKey: key });
    expect(second).toEqual(first);
    expect(rig.simulator.requests.filter((r) => r.operation === 'update').length - before).toBe(1);
    const reused = await rejectionOf(
      client.call('store/set', { ...body, value: 20 }, { idempotencyKey: key }),
    );
    expect({ status: reused.status, code: reused.code }).toEqual({
      status: 422,
      code: 'idempotency_key_reused',
    });
  });

  it('throws 403 operation_not_allowed for an operation the partner is not granted', async () => {
    const error = await rejectionOf(clientAs('reader').call('device/get', { id: DEVICE }));
    expect(error).toMatchObject({
      status: 403,
      code: 'operation_not_allowed',
      type: 'urn:ioto-bff:problem:operation_not_allowed',
      requestId: expect.any(String),
    });
    expect(error.title).not.toBe('');
    expect(error.detail).not.toBe('');
  });

  it('throws 400 validation_failed with errors[] pointing into the body', async () => {
    const error = await rejectionOf(clientAs('tester').call('device/get', { id: '' }));
    expect(error).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(error.errors).toEqual([{ path: '/id', message: expect.any(String) }]);
  });

  it('throws 401 unauthorized for a bad token', async () => {
    const client = createIotoBffClient({ baseUrl: rig.gateway.url, token: 'not-a-token' });
    const error = await rejectionOf(client.call('device/find', { accountId: OWNER.id }));
    expect(error).toMatchObject({
      status: 401,
      code: 'unauthorized',
      requestId: expect.any(String),
    });
  });

  it('sends its own request id, which the gateway logs and echoes but never takes as its id', async () => {
    const error = await rejectionOf(
      clientAs('reader').call('device/get', { id: DEVICE }, { requestId: 'partner-req-0001' }),
    );
    expect(error.requestId).toEqual(expect.any(String));
    expect(error.requestId).not.toBe('partner-req-0001');
    const refusal = rig.output
      .records()
      .find((line) => line.message === 'audit' && line.requestId === error.requestId);
    expect(refusal).toMatchObject({ clientRequestId: 'partner-req-0001', outcome: 'refused' });
  });

  it("retries the proxy's 503 upstream_throttled after its Retry-After, then answers", async () => {
    // Ioto's 429 becomes 503 upstream_throttled with Retry-After: 1 (fault-matrix.test.ts).
    rig.simulator.faults.failNext(1, 429);
    const waits: number[] = [];
    const client = clientAs('tester', {
      retry: { sleep: async (ms) => void waits.push(ms) },
    });
    const answer = await client.call('device/get', { id: DEVICE });
    expect(answer.data).toMatchObject({ id: DEVICE });
    expect(waits).toEqual([1_000]);
    expect(rig.simulator.requests.filter((r) => r.path === '/tok/device/get')).toHaveLength(2);
  });

  it('throws upstream_throttled with its Retry-After when the attempts run out', async () => {
    rig.simulator.faults.failNext(2, 429);
    const waits: number[] = [];
    const client = clientAs('tester', {
      retry: { maxAttempts: 2, sleep: async (ms) => void waits.push(ms) },
    });
    const error = await rejectionOf(client.call('device/get', { id: DEVICE }));
    expect(error).toMatchObject({ status: 503, code: 'upstream_throttled', retryAfterMs: 1_000 });
    expect(waits).toEqual([1_000]);
  });

  it('never retries a 502 (Ioto may have acted on it)', async () => {
    rig.simulator.faults.failNext(1, 500);
    const waits: number[] = [];
    const client = clientAs('tester', { retry: { sleep: async (ms) => void waits.push(ms) } });
    // alert/remove is not safe to retry: the proxy does not retry it either.
    const error = await rejectionOf(client.call('alert/remove', { id: OWNER.alertIds[0] ?? '' }));
    expect(error).toMatchObject({ status: 502, code: 'upstream_error' });
    expect(waits).toEqual([]);
  });

  it('asks the token function for a token on every request, retries included', async () => {
    rig.simulator.faults.failNext(1, 429);
    const issued: string[] = [];
    const client = clientAs('tester', {
      token: async () => {
        const token = rig.tokenFor('tester');
        issued.push(token);
        return token;
      },
      retry: { sleep: async () => undefined },
    });
    await client.call('device/get', { id: DEVICE });
    await client.call('device/find', { accountId: OWNER.id, limit: 1 });
    expect(issued).toHaveLength(3);
  });
});

/** A loopback HTTP server answering with `handle`; every request body is kept. */
async function startServer(
  handle: (request: IncomingMessage, body: string, response: ServerResponse) => void,
): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, Buffer.concat(chunks).toString('utf8'), response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('answers that are not the contract', () => {
  it('turns a bare 502 of a load balancer into unexpected_response with the status', async () => {
    const { url, server } = await startServer((_request, _body, response) => {
      response.writeHead(502, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
    });
    try {
      const client = createIotoBffClient({ baseUrl: url, token: 't' });
      const error = await rejectionOf(client.call('device/get', { id: DEVICE }));
      expect(error).toMatchObject({
        status: 502,
        code: 'unexpected_response',
        requestId: undefined,
        errors: [],
      });
    } finally {
      await closeServer(server);
    }
  });
});

describe('clientCredentialsToken against a token endpoint on loopback', () => {
  interface TokenRequest {
    readonly authorization: string | undefined;
    readonly contentType: string | undefined;
    readonly body: string;
  }
  let endpoint: { url: string; server: Server };
  let requests: TokenRequest[];
  /** What the endpoint answers next; `hold` delays answers until released. */
  let answer: () => { status: number; body: unknown };
  let hold: Promise<void>;

  beforeAll(async () => {
    endpoint = await startServer((request, body, response) => {
      requests.push({
        authorization: request.headers.authorization,
        contentType: request.headers['content-type'],
        body,
      });
      void hold.then(() => {
        const { status, body: json } = answer();
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(json));
      });
    });
  });

  afterAll(async () => {
    await closeServer(endpoint.server);
  });

  let issued = 0;
  beforeEach(() => {
    requests = [];
    hold = Promise.resolve();
    answer = () => ({
      status: 200,
      body: { access_token: `access-${++issued}`, token_type: 'Bearer', expires_in: 3600 },
    });
  });

  const options = {
    clientId: 'partner client',
    clientSecret: 's3cr+t/=?',
    scope: 'ioto-bff/partner-api',
  };

  it('asks with HTTP Basic auth and a form body of grant_type and scope (RFC 6749 §4.4)', async () => {
    const token = clientCredentialsToken({ ...options, tokenUrl: `${endpoint.url}/oauth2/token` });
    await expect(token()).resolves.toMatch(/^access-\d+$/);
    // RFC 6749 §2.3.1: id and secret are form-encoded before Basic's base64.
    const basic = Buffer.from('partner+client:s3cr%2Bt%2F%3D%3F').toString('base64');
    expect(requests).toEqual([
      {
        authorization: `Basic ${basic}`,
        contentType: 'application/x-www-form-urlencoded',
        body: 'grant_type=client_credentials&scope=ioto-bff%2Fpartner-api',
      },
    ]);
  });

  it('keeps the token until shortly before it expires', async () => {
    let now = 1_000_000;
    const token = clientCredentialsToken({
      ...options,
      tokenUrl: endpoint.url,
      now: () => now,
    });
    const first = await token();
    now += 3_539_000; // 3539 s: still before the refresh at 3600 - 60 s
    expect(await token()).toBe(first);
    expect(requests).toHaveLength(1);
    now += 1_000; // 3540 s: refreshed
    expect(await token()).not.toBe(first);
    expect(requests).toHaveLength(2);
  });

  it('shares one request among concurrent callers', async () => {
    let release = () => {};
    hold = new Promise((resolve) => {
      release = resolve;
    });
    const token = clientCredentialsToken({ ...options, tokenUrl: endpoint.url });
    const callers = Promise.all(Array.from({ length: 5 }, () => token()));
    // Let every caller ask before the endpoint answers.
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const tokens = await callers;
    expect(new Set(tokens).size).toBe(1);
    expect(requests).toHaveLength(1);
  });

  it('throws token_request_failed with the OAuth error, and asks again on the next call', async () => {
    answer = () => ({
      status: 400,
      body: { error: 'invalid_client', error_description: 'Client authentication failed' },
    });
    const token = clientCredentialsToken({ ...options, tokenUrl: endpoint.url });
    const error = await rejectionOf(token());
    expect(error).toMatchObject({
      status: 400,
      code: 'token_request_failed',
      detail: 'invalid_client: Client authentication failed',
    });
    answer = () => ({ status: 200, body: { access_token: 'late', token_type: 'Bearer' } });
    await expect(token()).resolves.toBe('late');
    expect(requests).toHaveLength(2);
  });

  it('falls back on the kept token while it is valid when a refresh fails', async () => {
    let now = 0;
    const token = clientCredentialsToken({ ...options, tokenUrl: endpoint.url, now: () => now });
    const first = await token();
    answer = () => ({ status: 503, body: {} });
    now = 3_550_000; // past the refresh time, before the expiry
    expect(await token()).toBe(first);
    now = 3_600_000; // expired
    await expect(token()).rejects.toMatchObject({ code: 'token_request_failed', status: 503 });
  });

  it.each([
    ['no access_token', { token_type: 'Bearer', expires_in: 60 }],
    ['another token type', { access_token: 'x', token_type: 'mac', expires_in: 60 }],
  ])('refuses an answer with %s', async (_name, body) => {
    answer = () => ({ status: 200, body });
    const token = clientCredentialsToken({ ...options, tokenUrl: endpoint.url });
    await expect(token()).rejects.toMatchObject({ code: 'token_request_failed' });
  });

  it('feeds the client: the endpoint hands out tokens the gateway accepts', async () => {
    answer = () => ({
      status: 200,
      body: { access_token: rig.tokenFor('tester'), token_type: 'Bearer', expires_in: 3600 },
    });
    const client = createIotoBffClient({
      baseUrl: rig.gateway.url,
      token: clientCredentialsToken({ ...options, tokenUrl: endpoint.url }),
    });
    await client.call('device/get', { id: DEVICE });
    await client.call('device/find', { accountId: OWNER.id, limit: 1 });
    expect(requests).toHaveLength(1);
  });
});
