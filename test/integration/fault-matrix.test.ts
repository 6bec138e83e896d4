import { performance } from 'node:perf_hooks';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SEED } from '../../dev/ioto-simulator';
import { fullAccessConfig } from '../support/access-fixtures';
import { type CallResult, type Rig, startRig, TEST_ENV } from './gateway-harness';

/**
 * Every upstream fault the proxy must survive, one test per cell, through the local gateway and
 * the Ioto simulator over real sockets: what the partner gets (status and code), how many
 * requests Ioto saw (retries), and how often the token was read (refreshes). The canary token
 * must appear in no response and no log line.
 */
const [OWNER] = SEED.accounts;
const DEADLINE_MS = Number(TEST_ENV.UPSTREAM_TIMEOUT_MS);

/** A read that is safe to retry, and a write that is not. */
const READ = { path: '/v1/alert/find', body: {}, upstream: '/tok/alert/find' } as const;
const WRITE = {
  path: '/v1/alert/remove',
  body: { id: OWNER.alertIds[0] },
  upstream: '/tok/alert/remove',
} as const;

type Operation = typeof READ | typeof WRITE;

interface Cell {
  readonly name: string;
  readonly operation: Operation;
  readonly arm: (rig: Rig) => void;
  readonly status: number;
  readonly code?: string;
  /** Requests Ioto received for the operation. */
  readonly upstreamRequests: number;
  /** Token reads from Secrets Manager beyond the one cached before the cell. */
  readonly tokenRefreshes?: number;
  readonly headers?: Record<string, string>;
}

const CELLS: Cell[] = [
  {
    name: 'a 500 once on a read: retried once, then answered',
    operation: READ,
    arm: (r) => r.simulator.faults.failNext(1, 500),
    status: 200,
    upstreamRequests: 2,
  },
  {
    name: 'a 500 twice on a read: retried once only',
    operation: READ,
    arm: (r) => r.simulator.faults.failNext(2, 500),
    status: 502,
    code: 'upstream_error',
    upstreamRequests: 2,
  },
  {
    name: 'a reset once on a read: retried once, then answered',
    operation: READ,
    arm: (r) => r.simulator.faults.resetNext(1),
    status: 200,
    upstreamRequests: 2,
  },
  {
    name: 'a 500 on a write: never retried',
    operation: WRITE,
    arm: (r) => r.simulator.faults.failNext(1, 500),
    status: 502,
    code: 'upstream_error',
    upstreamRequests: 1,
  },
  {
    name: 'a reset on a write: never retried',
    operation: WRITE,
    arm: (r) => r.simulator.faults.resetNext(1),
    status: 502,
    code: 'upstream_error',
    upstreamRequests: 1,
  },
  {
    name: 'malformed JSON',
    operation: READ,
    arm: (r) => r.simulator.faults.malformedNext(1),
    status: 502,
    code: 'upstream_error',
    upstreamRequests: 1,
  },
  {
    name: 'an answer over UPSTREAM_MAX_RESPONSE_BYTES',
    operation: READ,
    arm: (r) => r.simulator.faults.oversizeNext(1, 2_000_000),
    status: 502,
    code: 'upstream_error',
    upstreamRequests: 1,
  },
  {
    name: 'a redirect: never followed',
    operation: READ,
    arm: (r) => r.simulator.faults.redirectNext(1, `${r.simulator.endpoint}/tok/alert/get`),
    status: 502,
    code: 'upstream_error',
    upstreamRequests: 1,
  },
  {
    name: 'a 401 once: one token refresh, then answered',
    operation: READ,
    arm: (r) => r.simulator.faults.failNext(1, 401),
    status: 200,
    upstreamRequests: 2,
    tokenRefreshes: 1,
  },
  {
    name: 'a 401 twice: one token refresh, then upstream_auth_failed',
    operation: READ,
    arm: (r) => r.simulator.faults.failNext(2, 401),
    status: 502,
    code: 'upstream_auth_failed',
    upstreamRequests: 2,
    tokenRefreshes: 1,
  },
  {
    name: 'a 403 twice on a write: one token refresh, then upstream_auth_failed',
    operation: WRITE,
    arm: (r) => r.simulator.faults.failNext(2, 403),
    status: 502,
    code: 'upstream_auth_failed',
    upstreamRequests: 2,
    tokenRefreshes: 1,
  },
  {
    name: 'a 429',
    operation: READ,
    arm: (r) => r.simulator.faults.failNext(1, 429),
    status: 503,
    code: 'upstream_throttled',
    upstreamRequests: 1,
    headers: { 'retry-after': '1' },
  },
  {
    name: 'a slow answer past the deadline',
    operation: READ,
    arm: (r) => {
      r.simulator.faults.delayMs = DEADLINE_MS + 1_000;
    },
    status: 504,
    code: 'upstream_timeout',
    upstreamRequests: 1,
  },
  {
    name: 'a 404, which Ioto does not document',
    operation: READ,
    arm: (r) => r.simulator.faults.failNext(1, 404),
    status: 502,
    code: 'upstream_error',
    upstreamRequests: 1,
  },
  {
    name: 'another undocumented 4xx (418)',
    operation: WRITE,
    arm: (r) => r.simulator.faults.failNext(1, 418),
    status: 502,
    code: 'upstream_error',
    upstreamRequests: 1,
  },
];

let rig: Rig;

beforeAll(async () => {
  rig = await startRig(fullAccessConfig(OWNER.id), 'tester');
  // The token is read once here, so each cell counts only the reads it causes.
  expect((await rig.call(READ.path, READ.body)).status).toBe(200);
});

afterAll(async () => {
  await rig?.close();
});

beforeEach(() => {
  rig.simulator.reset();
});

const tokenReads = () => rig.secrets.commandCalls(GetSecretValueCommand).length;

const expectCell = (result: CallResult, cell: Cell) => {
  expect(result.status).toBe(cell.status);
  if (cell.code !== undefined) {
    expect(result.headers.get('content-type')).toBe('application/problem+json');
    expect(result.body).toMatchObject({ status: cell.status, code: cell.code });
  }
  for (const [name, value] of Object.entries(cell.headers ?? {})) {
    expect(result.headers.get(name)).toBe(value);
  }
  expect(result.text).not.toContain(rig.canary);
};

describe('the upstream fault matrix', () => {
  it.each(CELLS.map((cell) => [cell.name, cell] as const))('%s', async (_name, cell) => {
    const readsBefore = tokenReads();
    cell.arm(rig);
    const result = await rig.call(cell.operation.path, cell.operation.body);
    expectCell(result, cell);
    expect(
      rig.simulator.requests.filter((request) => request.path === cell.operation.upstream),
    ).toHaveLength(cell.upstreamRequests);
    expect(tokenReads() - readsBefore).toBe(cell.tokenRefreshes ?? 0);
  });

  it('answers a slow upstream at the deadline, not after the answer', async () => {
    rig.simulator.faults.delayMs = DEADLINE_MS * 3;
    const started = performance.now();
    const result = await rig.call(READ.path, READ.body);
    const elapsed = performance.now() - started;
    expectCell(result, { ...CELLS[0], status: 504, code: 'upstream_timeout' } as Cell);
    // Well before Ioto's answer would have come (three deadlines away).
    expect(elapsed).toBeLessThan(DEADLINE_MS * 2);
  });

  it('shares one deadline between the ownership check and the call it guards', async () => {
    // Each Ioto call alone fits in the deadline; the two in a row do not.
    const half = Math.round(DEADLINE_MS * 0.6);
    rig.simulator.faults.delayOperation('device/get', half);
    rig.simulator.faults.delayOperation('generic/get', half);
    const started = performance.now();
    const result = await rig.call('/v1/store/get', {
      deviceId: OWNER.deviceIds[0],
      key: SEED.storeKey,
    });
    const elapsed = performance.now() - started;
    expectCell(result, { ...CELLS[0], status: 504, code: 'upstream_timeout' } as Cell);
    expect(rig.simulator.requests.map((request) => request.path)).toEqual([
      '/tok/device/get',
      '/tok/generic/get',
    ]);
    // The call is cut at the request's deadline, not given a deadline of its own.
    expect(elapsed).toBeLessThan(2 * half);
  });

  it('leaves no token in any log line', () => {
    expect(rig.output.text()).not.toContain(rig.canary);
  });
});
