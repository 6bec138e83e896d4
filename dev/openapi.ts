import { toJSONSchema } from 'zod';
import { catalog, operationKey } from '../lambda/catalog/index';
import type { OperationDefinition, ResponseKind } from '../lambda/catalog/types';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from '../lambda/problems/to-problem';

/** Page-size bounds written into the paged operations' schemas. */
export interface OpenApiOptions {
  readonly defaultLimit: number;
  readonly maxLimit: number;
  readonly version: string;
}

type JsonSchema = Record<string, unknown>;

const DATA_SCHEMAS: Record<ResponseKind, JsonSchema> = {
  record: { type: ['object', 'null'], additionalProperties: true },
  list: { type: 'array', items: {} },
  string: { type: 'string' },
  none: { type: 'null' },
};

const problem = (description: string) => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** The request body schema a partner sends: the catalog schema, plus paging when paged. */
function requestSchema(op: OperationDefinition, options: OpenApiOptions): JsonSchema {
  // No catalog schema has defaults or transforms, so the output view equals the input view; it
  // also sees through the pipes that guard free-attribute bodies against reserved keys.
  const { $schema: _dialect, ...schema } = toJSONSchema(op.request, {
    io: 'output',
    unrepresentable: 'any',
  }) as JsonSchema;
  if (!op.paged) return schema;
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  return {
    ...schema,
    properties: {
      ...properties,
      limit: {
        type: 'integer',
        minimum: 1,
        maximum: options.maxLimit,
        default: options.defaultLimit,
        description: 'Page size.',
      },
      pageToken: {
        type: 'string',
        minLength: 1,
        maxLength: 4096,
        description:
          'nextPageToken or prevPageToken of an earlier answer, with the same other fields.',
      },
    },
  };
}

function successSchema(op: OperationDefinition): JsonSchema {
  const data = DATA_SCHEMAS[op.response];
  if (!op.paged) {
    return {
      type: 'object',
      required: ['data'],
      properties: { data },
      additionalProperties: false,
    };
  }
  const token = { type: ['string', 'null'] };
  return {
    type: 'object',
    required: ['data', 'nextPageToken', 'prevPageToken'],
    properties: { data, nextPageToken: token, prevPageToken: token },
    additionalProperties: false,
  };
}

/** An operationId such as `deviceGetCreds`. */
const operationId = (op: OperationDefinition) =>
  `${op.controller}${op.operation.charAt(0).toUpperCase()}${op.operation.slice(1)}`;

/**
 * The OpenAPI 3.1 description of the partner contract, derived from the operation catalog: one
 * `POST /v1/{controller}/{operation}` per entry, with its request schema, its success shape and
 * the RFC 9457 problem responses.
 */
export function buildOpenApiDocument(options: OpenApiOptions) {
  const paths: Record<string, unknown> = {};
  for (const op of catalog) {
    const translated = op.upstream
      ? ` Forwarded to Ioto ${op.upstream.controller}/${op.upstream.operation}.`
      : '';
    paths[`/v1/${operationKey(op)}`] = {
      post: {
        operationId: operationId(op),
        tags: [op.controller],
        summary: op.summary,
        description: `Sensitivity: ${op.sensitivity}. ${op.retrySafe ? 'Safe' : 'Not safe'} to retry.${translated}`,
        'x-ioto-sensitivity': op.sensitivity,
        'x-ioto-retry-safe': op.retrySafe,
        requestBody: {
          required: false,
          content: { 'application/json': { schema: requestSchema(op, options) } },
        },
        responses: {
          '200': {
            description: 'Success.',
            content: { 'application/json': { schema: successSchema(op) } },
          },
          '400': problem(
            'malformed_json, validation_failed, invalid_page_token or upstream_rejected.',
          ),
          '404': problem('not_found.'),
          '405': problem('method_not_allowed.'),
          '413': problem('payload_too_large.'),
          '415': problem('unsupported_media_type.'),
          '500': problem('internal.'),
          '502': problem('upstream_error or upstream_auth_failed.'),
          '503': problem('token_unavailable or upstream_throttled.'),
          '504': problem('upstream_timeout.'),
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ioto-bff partner API',
      version: options.version,
      description:
        "The EmbedThis Ioto device cloud API, validated and normalized. Names are exactly Ioto's.",
    },
    paths,
    components: {
      schemas: {
        Problem: {
          type: 'object',
          description: `RFC 9457 problem details; \`type\` is \`${PROBLEM_TYPE_PREFIX}<code>\`.`,
          required: ['type', 'title', 'status', 'detail', 'code', 'requestId'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            code: { type: 'string' },
            requestId: { type: 'string' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                required: ['path', 'message'],
                properties: { path: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  };
}
