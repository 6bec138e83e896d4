/**
 * The OpenAPI 3.1 description of the partner contract (README, "The partner contract"), built
 * from the operation catalog: one `POST /v1/{controller}/{operation}` per offered operation,
 * with the body a partner sends, the record Ioto answers (lambda/catalog/records.ts), every
 * error status it can meet, and the OAuth 2.0 security every route requires. The result is
 * plain JSON: `npm run openapi` prints it, the docs function serves it, the typed client is
 * generated from it.
 */

import { hasAssumedScope, isDeviceSide, isScopable, isWildcardGrantable } from '../catalog/grants';
import { catalog, operationKey } from '../catalog/index';
import { RECORD_SCHEMAS } from '../catalog/records';
import type { BodyPath, OperationDefinition } from '../catalog/types';
import { ErrorResponses, PROBLEM_SCHEMA, RESPONSE_HEADERS } from './error-responses';
import type {
  OpenApiDocument,
  OperationObject,
  ParameterObject,
  PathItemObject,
  ResponseObject,
  SchemaObject,
  SecurityRequirement,
  ServerObject,
  TagObject,
} from './openapi-types';
import { partnerRequestSchema, requiresBody } from './request-schemas';
import { SchemaRegistry } from './schema-registry';

export type { OpenApiDocument } from './openapi-types';

/** A server of the description: a base URL partners call, and what it is. */
export interface OpenApiServer {
  readonly url: string;
  readonly description?: string;
}

/** What the description says beyond the catalog. */
export interface OpenApiOptions {
  /** `limit` of paged operations when none is sent (`PAGE_LIMIT_DEFAULT`). */
  readonly defaultLimit: number;
  /** The largest `limit` (`PAGE_LIMIT_MAX`). */
  readonly maxLimit: number;
  /** The version of ioto-bff (package.json). */
  readonly version: string;
  /**
   * Where partners call the API: the stack's `PartnerApiUrl` or the custom domain.
   * @default this host (`/`) and a placeholder of the execute-api URL
   */
  readonly servers?: readonly OpenApiServer[];
  /**
   * The OAuth 2.0 token endpoint of the client credentials grant (the stack's
   * `IdentityTokenEndpoint` output with Cognito).
   * @default a placeholder naming where to find it
   */
  readonly tokenUrl?: string;
  /**
   * The scope every access token must carry: the access configuration's `scope`.
   * @default `ioto-bff/partner-api`, the default of the deployment configuration
   */
  readonly scope?: string;
}

/** The default scope of the deployment configuration (`identity.scope`, lib/config.ts). */
export const DEFAULT_SCOPE = 'ioto-bff/partner-api';

/** Stands for the token endpoint when the options give none. */
export const PLACEHOLDER_TOKEN_URL = 'https://your-token-endpoint.invalid/oauth2/token';

/** The license of ioto-bff (package.json `license`: npm's word for "not licensed to others"). */
export const LICENSE = 'UNLICENSED';

/** Where Ioto's reference is, for the descriptions partners read. */
const IOTO_REFERENCE = 'https://www.embedthis.com/doc/ioto/ref';

/** Used when the options name no server: this host, and the shape of the deployed URL. */
const DEFAULT_SERVERS: readonly ServerObject[] = [
  { url: '/', description: 'This host: the API that serves this description.' },
  {
    url: 'https://{apiId}.execute-api.{region}.amazonaws.com/{stage}',
    description:
      "The deployed API (the stack's PartnerApiUrl output), unless it has a custom domain.",
    variables: {
      apiId: { default: 'your-api-id', description: 'The id of the REST API.' },
      region: { default: 'eu-west-1', description: 'Its AWS region.' },
      stage: { default: 'prod', description: 'Its stage (`api.stageName`).' },
    },
  },
];

/**
 * The controllers, in Ioto's words (docs/ioto-api.md §3 intros), for the tags partners browse
 * by. A controller of the catalog missing here fails the build of the description.
 */
const CONTROLLERS: Readonly<Record<string, string>> = {
  account:
    'Your Ioto account: its record, its identity, closing it. Accounts are not created ' +
    "explicitly: Ioto creates one on a user's first login.",
  action:
    'Automated actions, started by triggers (alerts, notifications, remedies). They belong ' +
    'to the device cloud, not to an account; you invoke the ones your configuration names.',
  alert: 'Alerts raised by automated actions in your account.',
  dashboard: 'Dashboards of your account: their layout, time range and widgets.',
  device:
    'Devices: a device registers with the Builder by its claim ID, is claimed into the ' +
    'device cloud, and is then found, read, provisioned and released here.',
  generic:
    "Create, read, update and delete any item of the device cloud's database, whatever its " +
    'schema: the model is chosen with `_type` (such as `Device` or `Store`), every other ' +
    'property is an item attribute or a key filter.',
  metric:
    'Metrics, grouped in namespaces (device metrics are in `Embedthis/Device`) and divided ' +
    'by dimensions; statistics such as avg, min, max, count and sum over spans from 5 ' +
    'minutes to a year.',
  provision: 'Device-side certificate issue and software updates.',
  store:
    "A device's key/value store. Ioto offers it over MQTT only; here it is offered over " +
    'REST as Generic items of `_type` Store.',
  user: 'The users of your account: invitations, names, preferences and roles.',
};

/** Ioto's reference page of a controller. */
const referenceOf = (controller: string) => `${IOTO_REFERENCE}/${controller}.html`;

/** The tag description of a controller. */
function describeController(controller: string): string {
  const description = CONTROLLERS[controller];
  if (description === undefined) throw new Error(`No description of the controller ${controller}`);
  return description;
}

/** The inbound `x-request-id` a partner may send to correlate its own logs. */
const REQUEST_ID_PARAMETER: ParameterObject = {
  name: 'x-request-id',
  in: 'header',
  description:
    'Your own id for this request: when it is 8 to 128 characters of `A-Z a-z 0-9 . _ : -`, ' +
    'the gateway logs it beside its own request id and echoes it in `x-client-request-id`; it ' +
    "never becomes the request id (`x-request-id`, a problem's `requestId`).",
  required: false,
  schema: { type: 'string' },
};

/**
 * The key that makes a write safe to repeat (lambda/idempotency/idempotency-key.ts; IETF
 * draft-ietf-httpapi-idempotency-key-header). Only operations that change the cloud read it.
 */
const IDEMPOTENCY_KEY_PARAMETER: ParameterObject = {
  name: 'Idempotency-Key',
  in: 'header',
  description:
    'Makes a retry of this write safe: the gateway forwards it at most once per key (for ' +
    '`IDEMPOTENCY_WINDOW_SECONDS`, a day by default) and answers a repeat with the first ' +
    'successful answer, marked `Idempotent-Replayed: true`. The same key with another body or ' +
    'operation is 422 `idempotency_key_reused`; a repeat while the first call runs is 409 ' +
    '`idempotency_in_progress`. A failed call keeps no record, so a retry is forwarded again. ' +
    'Required (400 `idempotency_key_required`) when your partner configuration says so.',
  required: false,
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,255}$' },
};

/** An operationId such as `deviceGetCreds`. */
const operationIdOf = (op: OperationDefinition) =>
  `${op.controller}${op.operation.charAt(0).toUpperCase()}${op.operation.slice(1)}`;

/** `required` at `path` of a record, nested: what the gateway guarantees an answer names. */
const requiredAt = (path: BodyPath): SchemaObject => {
  const [field, ...rest] = path;
  if (field === undefined) return {};
  const named: SchemaObject =
    rest.length > 0
      ? { type: 'object', ...requiredAt(rest) }
      : { type: 'string', description: 'The account of the call: one of yours.' };
  return { required: [field], properties: { [field]: named } };
};

/** The schema of `data` in a successful answer of `op`. */
function dataSchema(op: OperationDefinition, registry: SchemaRegistry): SchemaObject {
  if (op.response === 'none') {
    return { type: 'null', description: 'Ioto documents no answer for this operation.' };
  }
  const name = op.record;
  if (name === undefined) throw new Error(`${operationKey(op)} answers data but names no record`);
  const record = registry.add(name, RECORD_SCHEMAS[name]);
  if (op.response === 'string') return record;
  // Where the account scoping is assumed, the gateway passes on only records that name the
  // account of the call (README, "What is enforced", rule 4).
  const scoping = op.scope.accountScoping;
  const item: SchemaObject =
    scoping?.basis === 'assumed'
      ? {
          allOf: [record, requiredAt(scoping.answer)],
          description: `Names the account of the call at \`${scoping.answer.join('.')}\`: the gateway checks it.`,
        }
      : record;
  if (op.response === 'list') return { type: 'array', items: item };
  return { anyOf: [item, { type: 'null', description: 'Ioto found nothing.' }] };
}

/** The `200` of `op`: `{data}`, or the page envelope of paged operations (README, "Success"). */
function successResponse(op: OperationDefinition, registry: SchemaRegistry): ResponseObject {
  const data = dataSchema(op, registry);
  const token = (direction: string): SchemaObject => ({
    type: ['string', 'null'],
    description: `Send it back as \`pageToken\` (with the same other fields) for the ${direction} page; null at the end.`,
  });
  const schema: SchemaObject = op.paged
    ? {
        type: 'object',
        required: ['data', 'nextPageToken', 'prevPageToken'],
        properties: { data, nextPageToken: token('next'), prevPageToken: token('previous') },
        additionalProperties: false,
      }
    : { type: 'object', required: ['data'], properties: { data }, additionalProperties: false };
  return {
    description: op.paged ? 'A page of the answer.' : 'The answer.',
    headers: {
      'x-request-id': { $ref: '#/components/headers/XRequestId' },
      ...(op.mutates && {
        'Idempotent-Replayed': { $ref: '#/components/headers/IdempotentReplayed' },
      }),
    },
    content: { 'application/json': { schema } },
  };
}

/** What a partner should know about `op` beyond its summary, as Markdown paragraphs. */
function descriptionOf(op: OperationDefinition): string {
  const key = operationKey(op);
  const lines: string[] = [];
  lines.push(
    `**Sensitivity:** ${op.sensitivity}. ${
      op.mutates
        ? 'It can change the device cloud or hands out what can, so read-only partners are refused.'
        : 'It changes nothing.'
    } ${
      op.retrySafe
        ? 'Safe to retry after a lost answer.'
        : `Not safe to retry blindly: a repeat may act twice or fail${
            op.mutates ? '; send an `Idempotency-Key` to retry it safely' : ''
          }.`
    }`,
  );
  lines.push(
    isWildcardGrantable(op)
      ? `**Grant:** \`${op.controller}/*\` or \`${key}\` in your partner's \`operations\`.`
      : `**Grant:** needs its exact name, \`${key}\`, in your partner's \`operations\`; \`${op.controller}/*\` does not grant it.`,
  );
  if (hasAssumedScope(op)) {
    lines.push(
      '**Assumed account scoping:** Ioto does not document that the account selector confines ' +
        `this call, so a partner granted it must also list \`${key}\` in \`acceptAssumedScope\`. ` +
        'Every record of the answer must name your account, or the answer is 502 `upstream_error`.',
    );
  }
  if (isDeviceSide(op)) {
    lines.push(
      "**Device-side:** Ioto's reference writes it for a device's own token; what it does with " +
        "the gateway's token is undocumented. The gateway names your device in the body.",
    );
  }
  if (op.scope.action !== undefined) {
    lines.push(
      "**Actions by name:** `name` must be one of your partner's `actions`; invoking by `id` " +
        'is refused with 403 `action_not_allowed`.',
    );
  }
  if (op.upstream) {
    const upsert = op.upstream.query?.exists === null;
    lines.push(
      `**Store over REST:** forwarded to Ioto \`${op.upstream.controller}/${op.upstream.operation}${upsert ? '?exists' : ''}\` ` +
        `${upsert ? '(an upsert) ' : ''}with \`_type: "Store"\`.` +
        (op.operation === 'set'
          ? ' Without `type`, it is filled from the JSON type of `value`; a given `type` must ' +
            'fit `value` as the Ioto agent writes it: `string` a string, `number` a number or ' +
            'decimal text (`"21.5"`), `boolean` true, false, 1, 0, "1" or "0". Values are ' +
            'forwarded unchanged.'
          : ''),
    );
  }
  if (op.errorInBody) {
    lines.push(
      '**Failures in the answer:** Ioto reports a failure of this operation inside its answer; ' +
        'it is 502 `upstream_failed` with its message, or 503 `upstream_throttled` with ' +
        '`Retry-After` when Ioto asks to wait.',
    );
  }
  lines.push(
    isScopable(op)
      ? "**Refusals:** Ioto's refusal is one neutral 400 `upstream_rejected`, whether what you " +
          'name is missing or not yours.'
      : "**Refusals:** Ioto's refusal is 400 `upstream_rejected` with Ioto's short text.",
  );
  lines.push(`Ioto reference: ${referenceOf(op.controller)}`);
  return lines.join('\n\n');
}

/** The one POST of `op`. */
function operationOf(
  op: OperationDefinition,
  options: OpenApiOptions,
  security: readonly SecurityRequirement[],
  registry: SchemaRegistry,
  errors: ErrorResponses,
): OperationObject {
  const operationId = operationIdOf(op);
  const required = requiresBody(op);
  return {
    operationId,
    tags: [op.controller],
    summary: op.summary,
    description: descriptionOf(op),
    security,
    parameters: [
      { $ref: '#/components/parameters/XRequestId' },
      ...(op.mutates ? [{ $ref: '#/components/parameters/IdempotencyKey' }] : []),
    ],
    requestBody: {
      description: required
        ? 'A JSON object.'
        : 'A JSON object; an empty body (or none) counts as `{}`.',
      required,
      content: {
        'application/json': { schema: partnerRequestSchema(op, options, registry, operationId) },
      },
    },
    responses: { '200': successResponse(op, registry), ...errors.responsesOf(op) },
    'x-ioto-sensitivity': op.sensitivity,
    'x-ioto-retry-safe': op.retrySafe,
    'x-ioto-mutates': op.mutates,
    'x-ioto-wildcard-grantable': isWildcardGrantable(op),
    'x-ioto-assumed-scope': hasAssumedScope(op),
    ...(op.upstream && {
      'x-ioto-upstream': `${op.upstream.controller}/${op.upstream.operation}`,
    }),
  };
}

/** A server URL without a trailing slash (the paths begin with one), except the root. */
const serverOf = (server: OpenApiServer): ServerObject => ({
  url: server.url.length > 1 ? server.url.replace(/\/+$/, '') : server.url,
  ...(server.description !== undefined && { description: server.description }),
});

/**
 * The OpenAPI 3.1 description of the partner contract, derived from the operation catalog (the
 * offered operations; withdrawn ones have no route).
 */
export function buildOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  const scope = options.scope ?? DEFAULT_SCOPE;
  const security: readonly SecurityRequirement[] = [
    { oauth2ClientCredentials: [scope] },
    { bearerJwt: [] },
  ];
  const registry = new SchemaRegistry();
  registry.add('Problem', PROBLEM_SCHEMA);
  const errors = new ErrorResponses();
  const paths: Record<string, PathItemObject> = {};
  for (const op of catalog) {
    paths[`/v1/${operationKey(op)}`] = {
      post: operationOf(op, options, security, registry, errors),
    };
  }
  const controllers = [...new Set(catalog.map((op) => op.controller))];
  const tags: TagObject[] = controllers.map((name) => ({
    name,
    description: describeController(name),
    externalDocs: { url: referenceOf(name), description: 'Ioto reference' },
  }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'ioto-bff partner API',
      version: options.version,
      summary: 'The EmbedThis Ioto device cloud API for partner services, scoped to each partner.',
      description: [
        "The EmbedThis Ioto device cloud API, validated, scoped to your accounts and devices, and normalized. Controller, operation and field names are exactly Ioto's.",
        'Every operation is `POST /v1/{controller}/{operation}` with a JSON object body and an OAuth 2.0 access token (client credentials) as `Authorization: Bearer <token>`. What you may call is your partner configuration.',
        'Success is `200` with `{"data": ...}`; paged operations add `nextPageToken` and `prevPageToken`. Every error is an RFC 9457 problem (`application/problem+json`) with a stable `code`, and every answer carries `x-request-id`.',
      ].join('\n\n'),
      contact: { name: 'The operators of this ioto-bff deployment' },
      license: { name: LICENSE },
    },
    servers: options.servers?.map(serverOf) ?? DEFAULT_SERVERS,
    security,
    tags,
    paths,
    components: {
      schemas: registry.entries(),
      responses: errors.entries(),
      headers: RESPONSE_HEADERS,
      parameters: { XRequestId: REQUEST_ID_PARAMETER, IdempotencyKey: IDEMPOTENCY_KEY_PARAMETER },
      securitySchemes: {
        oauth2ClientCredentials: {
          type: 'oauth2',
          description:
            'OAuth 2.0 client credentials: your client id and secret at the token endpoint, with ' +
            `the scope \`${scope}\`, give an access token to send as \`Authorization: Bearer <token>\`.`,
          flows: {
            clientCredentials: {
              tokenUrl: options.tokenUrl ?? PLACEHOLDER_TOKEN_URL,
              scopes: {
                [scope]:
                  'Call the partner API. What you may call, and on which accounts and devices, is ' +
                  'your partner configuration.',
              },
            },
          },
        },
        bearerJwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            `An access token (a JWT) of the gateway's issuer carrying the scope \`${scope}\`, ` +
            'however you obtained it. ID tokens are refused.',
        },
      },
    },
  };
}
