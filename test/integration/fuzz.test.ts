import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONTRACT_CODES,
  checkResponse,
  formatReport,
  fuzzCases,
  runGatewayFuzz,
} from '../../dev/fuzz/gateway-fuzz';
import { type DevGateway, type RigPartner, startDevGateway } from '../../dev/fuzz/gateway-rig';
import { captureOutput } from '../support/capture-output';

/**
 * A bounded sample of the gateway fuzz (`npm run fuzz` runs the long one): seeded fast-check
 * cases over every route and some paths that are not routes, with malformed, mistyped, huge,
 * deeply nested and unicode-edged bodies, prototype keys, duplicate keys, wrong media types and
 * methods, forged and tampered access tokens and page tokens, through the local gateway. No
 * answer may break the contract (see `checkResponse` in dev/fuzz/gateway-fuzz.ts), the Ioto
 * token may appear in no response and no log line, and the gateway must still serve afterwards.
 */
const SEED_OF_THE_SAMPLE = 20261126;
const CASES = 300;

let rig: DevGateway;
let output: ReturnType<typeof captureOutput>;
const minted: string[] = [];

beforeAll(async () => {
  output = captureOutput();
  rig = await startDevGateway();
});

afterAll(async () => {
  await rig?.close();
  output?.restore();
});

it(`keeps the contract on ${CASES} seeded cases (seed ${SEED_OF_THE_SAMPLE})`, async () => {
  const report = await runGatewayFuzz(
    {
      ...rig,
      tokenFor: (partner: RigPartner) => {
        const token = rig.tokenFor(partner);
        minted.push(token);
        return token;
      },
      resetUpstream: () => rig.simulator.reset(),
    },
    { runs: CASES, seed: SEED_OF_THE_SAMPLE, batchSize: 100 },
  );
  // The whole report on failure: seed, counts and each finding with its reproduction.
  expect([report.findings.length, report.health.ok]).toEqual(
    report.findings.length === 0 && report.health.ok ? [0, true] : [formatReport(report), true],
  );
  expect(report.runs).toBe(CASES);
  // The sample reaches past the authorizer and the function-level check into Ioto.
  expect(report.statusCounts[200] ?? 0).toBeGreaterThan(0);
  expect(report.pageTokens).toBeGreaterThanOrEqual(4);

  const logs = output.text();
  expect(logs).not.toContain(rig.canary);
  for (const token of minted) expect(logs).not.toContain(token);
}, 60_000);

it('is reproducible: a seed always gives the same cases, whatever the number of runs', () => {
  expect(fuzzCases(SEED_OF_THE_SAMPLE, 5)).toEqual(fuzzCases(SEED_OF_THE_SAMPLE, 50).slice(0, 5));
});

it("knows every problem code of the README's error table, with its status", () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| (\d{3}|4xx) +\| `([a-z_]+)` +\|/gm)].map(
    ([, status, code]) => [code, status === '4xx' ? 0 : Number(status)] as const,
  );
  expect(rows.length).toBeGreaterThan(20);
  expect(CONTRACT_CODES).toEqual(Object.fromEntries(rows));
});

describe('the oracle', () => {
  const request = {
    method: 'POST',
    path: '/v1/device/find',
    headers: [['x-request-id', 'fuzz-oracle-0001']] as const,
    body: undefined,
    partner: 'acme' as const,
    granted: true,
    operation: 'device/find',
    expectation: undefined,
    bodyText: '',
  };
  const good = {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-request-id': 'apigw-request-0001',
    'x-client-request-id': 'fuzz-oracle-0001',
  };
  const problem = {
    type: 'urn:ioto-bff:problem:validation_failed',
    title: 'Request validation failed',
    status: 400,
    code: 'validation_failed',
    requestId: 'apigw-request-0001',
  };
  const check = (status: number, headers: Record<string, string>, body: unknown) =>
    checkResponse({ canary: 'CANARY-x' }, request, {
      status,
      headers: new Headers(headers),
      text: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('accepts a problem that keeps the contract', () => {
    expect(check(400, good, problem)).toEqual([]);
  });

  it("lets API Gateway's own answers go without the client's id echoed", () => {
    const notFound = {
      ...problem,
      type: 'urn:ioto-bff:problem:not_found',
      status: 404,
      code: 'not_found',
    };
    const { 'x-client-request-id': _echo, ...gatewayHeaders } = good;
    expect(check(404, gatewayHeaders, notFound)).toEqual([]);
  });

  it.each([
    ['a 5xx', 502, good, { ...problem, status: 502, code: 'upstream_error', type: 'x' }],
    ['no cache-control', 400, { ...good, 'cache-control': 'max-age=60' }, problem],
    ['no nosniff', 400, { ...good, 'x-content-type-options': '' }, problem],
    ['no x-request-id', 400, { ...good, 'x-request-id': '' }, problem],
    [
      "the client's own id as the request id",
      400,
      { ...good, 'x-request-id': 'fuzz-oracle-0001' },
      { ...problem, requestId: 'fuzz-oracle-0001' },
    ],
    [
      "the client's id not echoed on the proxy's answer",
      400,
      { ...good, 'x-client-request-id': 'someone-elses-id' },
      problem,
    ],
    ['a JSON error', 400, { ...good, 'content-type': 'application/json' }, problem],
    ['no code', 400, good, { ...problem, code: undefined }],
    ['a camelCase code', 400, good, { ...problem, code: 'validationFailed' }],
    ['a status member that differs', 400, good, { ...problem, status: 422 }],
    ['a code of another status', 403, good, { ...problem, status: 403 }],
    ['the canary', 400, good, { ...problem, detail: 'token CANARY-x refused' }],
    ['a stack trace', 400, good, { ...problem, detail: 'at run (/app/x.js:12:7)' }],
    ['a 2xx without data', 200, { ...good, 'content-type': 'application/json' }, { items: [] }],
    ['a body that is not JSON', 400, good, 'Internal Server Error'],
  ])('refuses %s', (_name, status, headers, body) => {
    expect(check(status, headers, body)).not.toEqual([]);
  });
});
