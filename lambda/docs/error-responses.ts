/**
 * The error answers of the API description: every status a partner can meet, with the RFC 9457
 * problem schema (https://www.rfc-editor.org/rfc/rfc9457), the codes it may carry (the README's
 * errors table; `lambda/problems/problem-error.ts`; API Gateway's own answers in
 * `lib/constructs/gateway-responses.ts`) and its headers. Which codes an operation can meet is
 * derived from its catalog entry. Ioto's own 409 and 422 reach no partner: the Ioto client
 * answers them 400 `upstream_rejected` (`lambda/upstream/ioto-client.ts`). The gateway's 409 and
 * 422 concern the `Idempotency-Key` of a write (lambda/idempotency/), so only operations that
 * change the device cloud declare them.
 */
import type { OperationDefinition } from '../catalog/types';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from '../problems/to-problem';
import type { HeaderObject, ReferenceObject, ResponseObject, SchemaObject } from './openapi-types';
import { SchemaRegistry } from './schema-registry';

/** One problem code and when a partner meets it. */
interface ProblemCode {
  readonly code: string;
  readonly when: string;
  /** Whether `op` can answer it; every operation can when absent. */
  readonly on?: (op: OperationDefinition) => boolean;
  /** What the responses that carry it add to their component name (codes with `on` only). */
  readonly variant?: string;
}

/** One status a partner can meet. */
interface ProblemStatus {
  /** The key under `responses`: an HTTP status, or a range. */
  readonly status: string;
  /** Whether `op` can answer this status at all; every operation can when absent. */
  readonly on?: (op: OperationDefinition) => boolean;
  /** The name of its `components/responses` entry, before variants. */
  readonly name: string;
  readonly summary: string;
  readonly codes: readonly ProblemCode[];
  /** Response headers besides `x-request-id`: `components/headers` names, or the header. */
  readonly headers?: Readonly<Record<string, string | HeaderObject>>;
  /** The web firewall's 429 has neither `requestId` nor `x-request-id`; every other does. */
  readonly requestIdAlways: boolean;
  /** The web firewall can send only `application/json`, not `application/problem+json`. */
  readonly alsoPlainJson?: true;
}

const paged = (op: OperationDefinition) => op.paged;
/** Operations that change the device cloud take an `Idempotency-Key` (proxy-core.ts). */
const writes = (op: OperationDefinition) => op.mutates;

/** Every status a partner can meet, in the order the description lists them. */
const PROBLEM_STATUSES: readonly ProblemStatus[] = [
  {
    status: '400',
    name: 'BadRequest',
    summary: 'The request was malformed, invalid or refused by Ioto.',
    requestIdAlways: true,
    codes: [
      {
        code: 'malformed_json',
        when: 'the body is not valid JSON, not UTF-8, holds an unpaired surrogate or repeats an object key',
      },
      {
        code: 'validation_failed',
        when:
          "the body does not match the operation's schema (see `errors`, JSON Pointers into the " +
          'body), nests deeper than 32 levels or names more than 50 distinct devices',
      },
      {
        code: 'invalid_page_token',
        when: 'the page token was altered, has expired, or is for another partner, operation or filter',
        on: paged,
        variant: 'Paged',
      },
      {
        code: 'upstream_rejected',
        when:
          'Ioto refused the request (its 400, 409 or 422). Where the operation touches your ' +
          'data the detail is one neutral sentence (what it names does not exist or is not ' +
          "available to you); on cloud-level operations it is Ioto's own short text",
      },
      {
        code: 'idempotency_key_required',
        when: 'your partner configuration requires an `Idempotency-Key` on writes and none was sent',
        on: writes,
        variant: 'Write',
      },
      { code: 'bad_request', when: 'API Gateway refused the request itself' },
    ],
  },
  {
    status: '401',
    name: 'Unauthorized',
    summary: 'No valid access token.',
    requestIdAlways: true,
    headers: { 'WWW-Authenticate': 'WwwAuthenticate' },
    codes: [
      {
        code: 'unauthorized',
        when:
          'the access token is missing, malformed, forged or expired, lacks the scope, is not an ' +
          'access token, or names no partner',
      },
    ],
  },
  {
    status: '403',
    name: 'Forbidden',
    summary: 'Not allowed to you.',
    requestIdAlways: true,
    codes: [
      {
        code: 'forbidden',
        when: "the gateway's authorizer policy or its web application firewall refused the call",
      },
      {
        code: 'operation_not_allowed',
        when: 'your partner configuration does not grant this operation (or you are read-only and it writes)',
      },
      {
        code: 'account_not_allowed',
        when:
          'the body names an account that is not yours (in the account selector or a free-form ' +
          'value), names none where you have several, or has an `accountId` the operation does not take',
      },
      {
        code: 'device_not_allowed',
        when:
          'the body names a device that is not yours: not on your device list, or not in your ' +
          'account in Ioto (the call is not forwarded)',
        on: (op) => (op.scope.devices?.length ?? 0) > 0 || (op.scope.freeForm?.length ?? 0) > 0,
        variant: 'Device',
      },
      {
        code: 'action_not_allowed',
        when: 'the action is not one of your `actions` by exact name, or is invoked by `id`',
        on: (op) => op.scope.action !== undefined,
        variant: 'Action',
      },
    ],
  },
  {
    status: '404',
    name: 'NotFound',
    summary: 'No such operation.',
    requestIdAlways: true,
    codes: [
      {
        code: 'not_found',
        when:
          'the path is not one of the routes of this description (a misspelt controller or ' +
          'operation, or user/login); answered by the gateway, before any token check',
      },
    ],
  },
  {
    status: '405',
    name: 'MethodNotAllowed',
    summary: 'Every operation is called with POST.',
    requestIdAlways: true,
    headers: { Allow: 'Allow' },
    codes: [
      {
        code: 'method_not_allowed',
        when: 'the route was called with another method than POST; answered before any token check',
      },
    ],
  },
  {
    status: '409',
    name: 'Conflict',
    summary: 'A request with the same `Idempotency-Key` is still running.',
    on: writes,
    requestIdAlways: true,
    headers: {
      'Retry-After': {
        description: 'Seconds to wait before retrying with the same key.',
        required: true,
        schema: { type: 'integer', minimum: 0 },
      },
    },
    codes: [
      {
        code: 'idempotency_in_progress',
        when: 'the first call with this `Idempotency-Key` has not finished: retry it after `Retry-After`',
      },
    ],
  },
  {
    status: '413',
    name: 'PayloadTooLarge',
    summary: 'The body is too large.',
    requestIdAlways: true,
    codes: [
      {
        code: 'payload_too_large',
        when: "the body exceeds the gateway's limit (MAX_BODY_BYTES: 262144 bytes unless configured otherwise)",
      },
    ],
  },
  {
    status: '415',
    name: 'UnsupportedMediaType',
    summary: 'The body is not JSON.',
    requestIdAlways: true,
    codes: [
      {
        code: 'unsupported_media_type',
        when: 'a non-empty body whose Content-Type is not `application/json` (UTF-8)',
      },
    ],
  },
  {
    status: '422',
    name: 'UnprocessableContent',
    summary: 'The `Idempotency-Key` belongs to another request.',
    on: writes,
    requestIdAlways: true,
    codes: [
      {
        code: 'idempotency_key_reused',
        when: 'you sent this `Idempotency-Key` before with another body or operation: use a new key for a new request',
      },
    ],
  },
  {
    status: '429',
    name: 'TooManyRequests',
    summary: 'Too many requests: retry later.',
    requestIdAlways: false,
    alsoPlainJson: true,
    headers: { 'Retry-After': 'RetryAfter' },
    codes: [
      {
        code: 'throttled',
        when:
          "your usage plan's rate is exceeded (`Retry-After: 1`), or one client IP sent more " +
          'than the web application firewall allows in 5 minutes (`Retry-After: 60`; that ' +
          'answer is `application/json` and carries neither `requestId` nor `x-request-id`)',
      },
      { code: 'quota_exceeded', when: "your usage plan's quota is used up for its period" },
    ],
  },
  {
    status: '500',
    name: 'InternalError',
    summary: 'A fault of the gateway.',
    requestIdAlways: true,
    codes: [
      {
        code: 'internal',
        when: 'a bug on our side; no detail is given: quote the `requestId` when reporting it',
      },
    ],
  },
  {
    status: '502',
    name: 'BadGateway',
    summary: 'Ioto, or the gateway in front of it, failed.',
    requestIdAlways: true,
    codes: [
      {
        code: 'upstream_error',
        when:
          'Ioto failed (5xx), could not be reached or answered something unexpected (also an ' +
          'answer naming another account where the gateway checks it)',
      },
      {
        code: 'upstream_failed',
        when: 'Ioto reports that the operation itself failed; its message is in `detail`',
        on: (op) => op.errorInBody === true,
        variant: 'Failed',
      },
      {
        code: 'upstream_auth_failed',
        when: "Ioto refused the gateway's own token even after a refresh (the operators are alerted)",
      },
      {
        code: 'integration_failed',
        when: 'the proxy function failed to answer; quote the `requestId`',
      },
    ],
  },
  {
    status: '503',
    name: 'ServiceUnavailable',
    summary: 'Temporarily unavailable: retry later.',
    requestIdAlways: true,
    headers: { 'Retry-After': 'RetryAfter' },
    codes: [
      {
        code: 'upstream_throttled',
        when: 'Ioto is rate-limiting the gateway, or asks to wait (`Retry-After`)',
      },
      {
        code: 'authorizer_unavailable',
        when: 'the access token could not be checked right now, for instance the issuer keys are unreachable (`Retry-After: 5`)',
      },
      {
        code: 'access_config_unavailable',
        when: 'the gateway could not read its partner configuration (`Retry-After: 5`)',
      },
      { code: 'token_unavailable', when: 'the gateway could not read its Ioto credentials' },
      {
        code: 'page_token_unavailable',
        when: 'the gateway could not read its page-token key',
        on: paged,
        variant: 'Paged',
      },
      {
        code: 'idempotency_unavailable',
        when:
          'the gateway could not record the `Idempotency-Key`, so it did not forward the write: ' +
          'retry with the same key (`Retry-After: 5`)',
        on: writes,
        variant: 'Write',
      },
    ],
  },
  {
    status: '504',
    name: 'GatewayTimeout',
    summary: 'Ioto did not answer in time.',
    requestIdAlways: true,
    codes: [
      {
        code: 'upstream_timeout',
        when: 'Ioto did not answer within the deadline (UPSTREAM_TIMEOUT_MS), or the request did not complete in time',
      },
    ],
  },
  {
    status: '4XX',
    name: 'OtherGatewayRefusal',
    summary: 'Another refusal of API Gateway itself, with its own status.',
    requestIdAlways: true,
    codes: [
      {
        code: 'bad_request',
        when:
          'API Gateway refused the request with a status not listed here (such as 414 for an ' +
          'overlong URL); the problem then carries no `status` member',
      },
    ],
  },
];

/** Every problem code the description lists, with its status (`4XX` for bad_request). */
export const PROBLEM_CODES: ReadonlyMap<string, readonly string[]> = (() => {
  const codes = new Map<string, string[]>();
  for (const { status, codes: entries } of PROBLEM_STATUSES) {
    for (const { code } of entries) codes.set(code, [...(codes.get(code) ?? []), status]);
  }
  return codes;
})();

/** RFC 9457 problem details with the gateway's members `code` and `requestId`. */
export const PROBLEM_SCHEMA: SchemaObject = {
  type: 'object',
  description:
    'RFC 9457 problem details (`application/problem+json`). `code` is stable; `type` is ' +
    `\`${PROBLEM_TYPE_PREFIX}<code>\`. Other members may be added: ignore what you do not know.`,
  required: ['type', 'title', 'detail', 'code'],
  properties: {
    type: {
      type: 'string',
      pattern: `^${PROBLEM_TYPE_PREFIX}[a-z_]+$`,
      description: `\`${PROBLEM_TYPE_PREFIX}\` and the code.`,
    },
    title: { type: 'string', description: 'A short, fixed summary of the code.' },
    status: {
      type: 'integer',
      minimum: 400,
      maximum: 599,
      description:
        "The HTTP status. Absent only on API Gateway's fallback answers (`bad_request` with a " +
        'status not listed, `internal`).',
    },
    detail: { type: 'string', description: 'What happened, for a person to read.' },
    code: { type: 'string', pattern: '^[a-z_]+$', description: 'The stable error code.' },
    requestId: {
      type: 'string',
      description:
        'The id of the request, as in `x-request-id`; quote it when reporting a problem. ' +
        "Absent only on the web application firewall's 429.",
    },
    errors: {
      type: 'array',
      description: 'On `validation_failed`: each problem of the body.',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: {
          path: { type: 'string', description: 'A JSON Pointer into the body.' },
          message: { type: 'string' },
        },
      },
    },
  },
};

/** The headers the responses share, as `components/headers`. */
export const RESPONSE_HEADERS: Readonly<Record<string, HeaderObject>> = {
  XRequestId: {
    description:
      "The gateway's id of the request (API Gateway's own); quote it when reporting a problem. " +
      'A well-formed `x-request-id` you sent comes back in `x-client-request-id` instead.',
    required: true,
    schema: { type: 'string' },
  },
  RetryAfter: {
    description: 'Seconds to wait before retrying, where the code says so.',
    required: false,
    schema: { type: 'integer', minimum: 0 },
  },
  IdempotentReplayed: {
    description:
      'Present on the answer to a write repeated with the same `Idempotency-Key`: the stored ' +
      'answer of the first call, which was not forwarded again.',
    required: false,
    schema: { type: 'string', const: 'true' },
  },
  WwwAuthenticate: {
    description: 'The authentication scheme to use (RFC 6750).',
    required: true,
    schema: { type: 'string', const: 'Bearer' },
  },
  Allow: {
    description: 'The one method the route takes.',
    required: true,
    schema: { type: 'string', const: 'POST' },
  },
};

const headerRef = (name: string): ReferenceObject => ({ $ref: `#/components/headers/${name}` });

/** The `x-request-id` header of a 429, which the web firewall's answer does not carry. */
const OPTIONAL_REQUEST_ID: HeaderObject = {
  description:
    'The id of the request, as on every other answer; absent on the web application ' +
    "firewall's 429.",
  required: false,
  schema: { type: 'string' },
};

/** `components/responses`: one per status and variant, filled as operations use them. */
export class ErrorResponses {
  readonly #responses = new Map<string, ResponseObject>();

  /** The error responses of `op`, by status, as pointers into `components/responses`. */
  responsesOf(op: OperationDefinition): Record<string, ReferenceObject> {
    return Object.fromEntries(
      PROBLEM_STATUSES.filter((entry) => entry.on === undefined || entry.on(op)).map((entry) => {
        const codes = entry.codes.filter((c) => c.on === undefined || c.on(op));
        const name = `${entry.name}${codes.map((c) => c.variant ?? '').join('')}`;
        if (!this.#responses.has(name)) this.#responses.set(name, responseOf(entry, codes));
        return [entry.status, { $ref: `#/components/responses/${name}` }];
      }),
    );
  }

  /** Every response used so far, by name in code-unit order. */
  entries(): Record<string, ResponseObject> {
    return Object.fromEntries(
      [...this.#responses].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  }
}

/** One status's response with the codes an operation can meet. */
function responseOf(entry: ProblemStatus, codes: readonly ProblemCode[]): ResponseObject {
  const status = Number(entry.status);
  const schema: SchemaObject = {
    allOf: [SchemaRegistry.ref('Problem')],
    properties: {
      code: { type: 'string', enum: codes.map((c) => c.code) },
      ...(Number.isInteger(status) && { status: { type: 'integer', const: status } }),
    },
    ...(entry.requestIdAlways && { required: ['requestId'] }),
  };
  const description = [
    entry.summary,
    '',
    'The problem `code` is one of:',
    '',
    ...codes.map((c) => `- \`${c.code}\`: ${c.when}.`),
  ].join('\n');
  return {
    description,
    headers: {
      'x-request-id': entry.requestIdAlways ? headerRef('XRequestId') : OPTIONAL_REQUEST_ID,
      ...Object.fromEntries(
        Object.entries(entry.headers ?? {}).map(([header, value]) => [
          header,
          typeof value === 'string' ? headerRef(value) : value,
        ]),
      ),
    },
    content: {
      [PROBLEM_CONTENT_TYPE]: { schema },
      ...(entry.alsoPlainJson && { 'application/json': { schema } }),
    },
  };
}
