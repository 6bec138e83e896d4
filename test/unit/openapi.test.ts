import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACT_CODES } from '../../dev/fuzz/gateway-fuzz';
import { hasAssumedScope, isWildcardGrantable } from '../../lambda/catalog/grants';
import { catalog, operationKey, withdrawnOperations } from '../../lambda/catalog/index';
import { RECORD_SCHEMAS } from '../../lambda/catalog/records';
import type { BodyPath, OperationDefinition } from '../../lambda/catalog/types';
import { PROBLEM_CODES } from '../../lambda/docs/error-responses';
import {
  buildOpenApiDocument,
  DEFAULT_SCOPE,
  LICENSE,
  type OpenApiDocument,
  PLACEHOLDER_TOKEN_URL,
} from '../../lambda/docs/openapi-document';
import type { JsonObject, JsonValue } from '../../lambda/docs/openapi-types';
import { ACCOUNT_SELECTOR_DESCRIPTION, requiresBody } from '../../lambda/docs/request-schemas';
import { SchemaRegistry } from '../../lambda/docs/schema-registry';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
} from '../../lambda/idempotency/idempotency-key';
import * as problemErrors from '../../lambda/problems/problem-error';
import packageJson from '../../package.json';

const ROOT = join(__dirname, '..', '..');
const OPTIONS = { defaultLimit: 25, maxLimit: 100, version: '1.2.3' } as const;
const document = buildOpenApiDocument(OPTIONS);

const OPERATIONS = catalog.map((op) => [operationKey(op), op] as const);
const postOf = (key: string) => {
  const item = document.paths[`/v1/${key}`];
  if (item === undefined) throw new Error(`no path for ${key}`);
  return item.post;
};

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value a local JSON Pointer (`#/a/b~1c`) names in the document, if any. */
function resolve(pointer: string): JsonValue | undefined {
  if (!pointer.startsWith('#/')) return undefined;
  let node: JsonValue | undefined = document as unknown as JsonValue;
  for (const raw of pointer.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    node = isObject(node) ? node[key] : Array.isArray(node) ? node[Number(key)] : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** Follows `$ref`s to the object they name. */
const deref = (value: JsonValue | undefined): JsonObject => {
  let node = value;
  for (let hops = 0; isObject(node) && typeof node.$ref === 'string' && hops < 10; hops += 1) {
    node = resolve(node.$ref);
  }
  if (!isObject(node)) throw new Error('not an object');
  return node;
};

/** Every value of `key` anywhere in `value`, with where it is. */
function collect(value: JsonValue, key: string, at = '#'): [string, JsonValue][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => collect(item, key, `${at}/${i}`));
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([k, item]) => [
    ...(k === key ? ([[at, item]] as [string, JsonValue][]) : []),
    ...collect(item, key, `${at}/${k}`),
  ]);
}

const json = document as unknown as JsonValue;
const requestSchemaOf = (key: string) =>
  postOf(key).requestBody.content['application/json']?.schema as JsonObject;
const problemOf = (key: string, status: string) => {
  const response = deref(postOf(key).responses[status] as unknown as JsonValue);
  const content = response.content as JsonObject;
  return { response, schema: (content['application/problem+json'] as JsonObject).schema };
};
const codesOf = (key: string, status: string): string[] => {
  const schema = problemOf(key, status).schema as JsonObject;
  return ((schema.properties as JsonObject).code as JsonObject).enum as string[];
};

describe('buildOpenApiDocument', () => {
  it('describes exactly the offered catalog operations, each as a POST', () => {
    expect(Object.keys(document.paths).sort()).toEqual(
      catalog.map((op) => `/v1/${operationKey(op)}`).sort(),
    );
    for (const item of Object.values(document.paths)) expect(Object.keys(item)).toEqual(['post']);
  });

  it.each(withdrawnOperations.map((op) => [operationKey(op)] as const))(
    'has no route for the withdrawn %s',
    (key) => {
      expect(document.paths).not.toHaveProperty(`/v1/${key}`);
    },
  );

  it('is plain JSON and the same on every build', () => {
    expect(JSON.parse(JSON.stringify(document))).toEqual(document);
    expect(buildOpenApiDocument(OPTIONS)).toEqual(document);
  });

  it('gives every operation a unique operationId, a summary and a defined tag', () => {
    const ids = catalog.map((op) => postOf(operationKey(op)).operationId);
    expect(new Set(ids).size).toBe(catalog.length);
    const tags = document.tags.map((tag) => tag.name);
    for (const [key, op] of OPERATIONS) {
      const post = postOf(key);
      expect(post.operationId).toMatch(/^[a-z][A-Za-z]+$/);
      expect(post.summary).toBe(op.summary);
      expect(post.tags).toEqual([op.controller]);
      expect(tags).toContain(op.controller);
    }
  });

  it('describes each controller once, in catalog order, with a link to its Ioto reference', () => {
    expect(document.tags.map((tag) => tag.name)).toEqual([
      ...new Set(catalog.map((op) => op.controller)),
    ]);
    for (const tag of document.tags) {
      expect(tag.description.length).toBeGreaterThan(20);
      expect(tag.externalDocs?.url).toMatch(/^https:\/\/www\.embedthis\.com\/doc\/ioto\/ref\//);
    }
  });
});

describe('references', () => {
  const refs = collect(json, '$ref');

  it('points only inside the document, and every pointer resolves', () => {
    expect(refs.length).toBeGreaterThan(100);
    const dangling = refs.filter(([, ref]) => typeof ref !== 'string' || !resolve(ref));
    expect(dangling).toEqual([]);
  });

  it("keeps none of zod's $defs or $schema", () => {
    expect(collect(json, '$defs')).toEqual([]);
    expect(collect(json, '$schema')).toEqual([]);
    expect(refs.filter(([, ref]) => String(ref).includes('$defs'))).toEqual([]);
  });

  it('uses every component it defines', () => {
    const used = new Set(refs.map(([, ref]) => String(ref)));
    const kinds = ['schemas', 'responses', 'headers', 'parameters'] as const;
    const unused = kinds.flatMap((kind) =>
      Object.keys(document.components[kind])
        .map((name) => `#/components/${kind}/${name}`)
        .filter((ref) => !used.has(ref)),
    );
    expect(unused).toEqual([]);
  });

  it('names the hoisted definitions by what they are: the JSON value, once', () => {
    expect(Object.keys(document.components.schemas).sort()).toEqual(
      ['JsonValue', 'Problem', ...Object.keys(RECORD_SCHEMAS)].sort(),
    );
    const jsonValue = document.components.schemas.JsonValue as JsonObject;
    const members = (jsonValue.anyOf as JsonObject[]).map((member) => member.type).sort();
    expect(members).toEqual(['array', 'boolean', 'null', 'number', 'object', 'string']);
    expect(collect(jsonValue, '$ref').map(([, ref]) => ref)).toEqual([
      '#/components/schemas/JsonValue',
      '#/components/schemas/JsonValue',
    ]);
  });
});

describe('SchemaRegistry', () => {
  const cyclic = (name: string): JsonObject => ({
    anyOf: [{ type: 'string' }, { type: 'array', items: { $ref: `#/$defs/${name}` } }],
  });

  it('stores equal definitions once and gives different ones different stable names', () => {
    const registry = new SchemaRegistry();
    const first = registry.adopt(
      {
        $defs: { __schema0: cyclic('__schema0') },
        properties: { a: { $ref: '#/$defs/__schema0' } },
      },
      'opOne',
    );
    const second = registry.adopt(
      { $defs: { __schema3: cyclic('__schema3') }, items: { $ref: '#/$defs/__schema3' } },
      'opTwo',
    );
    const other = registry.adopt(
      { $defs: { __schema0: { type: 'array', items: { $ref: '#/$defs/__schema0' } } } },
      'opTwo',
    );
    expect(first).toEqual({ properties: { a: { $ref: '#/components/schemas/opOneDef0' } } });
    expect(second).toEqual({ items: { $ref: '#/components/schemas/opOneDef0' } });
    expect(other).toEqual({});
    expect(registry.entries()).toEqual({
      opOneDef0: {
        anyOf: [
          { type: 'string' },
          { type: 'array', items: { $ref: '#/components/schemas/opOneDef0' } },
        ],
      },
      opTwoDef0: { type: 'array', items: { $ref: '#/components/schemas/opTwoDef0' } },
    });
  });

  it('follows definitions that point at each other', () => {
    const registry = new SchemaRegistry();
    const adopted = registry.adopt(
      {
        $defs: {
          __schema0: { type: 'object', additionalProperties: { $ref: '#/$defs/__schema1' } },
          __schema1: { type: 'array', items: { $ref: '#/$defs/__schema0' } },
        },
        items: { $ref: '#/$defs/__schema1' },
      },
      'op',
    );
    expect(adopted).toEqual({ items: { $ref: '#/components/schemas/opDef1' } });
    expect(registry.entries()).toEqual({
      opDef0: { type: 'object', additionalProperties: { $ref: '#/components/schemas/opDef1' } },
      opDef1: { type: 'array', items: { $ref: '#/components/schemas/opDef0' } },
    });
  });

  it('stores two names for one infinite shape once', () => {
    const registry = new SchemaRegistry();
    registry.adopt(
      {
        $defs: {
          __schema0: { items: { $ref: '#/$defs/__schema1' } },
          __schema1: { items: { $ref: '#/$defs/__schema0' } },
        },
      },
      'op',
    );
    expect(registry.entries()).toEqual({
      opDef0: { items: { $ref: '#/components/schemas/opDef0' } },
    });
  });

  it('refuses a pointer to a definition that is not there', () => {
    expect(() =>
      new SchemaRegistry().adopt(
        { $defs: { __schema0: { items: { $ref: '#/$defs/__schema9' } } } },
        'op',
      ),
    ).toThrow(/missing \$defs\/__schema9/);
  });
});

describe('request bodies: the partner view', () => {
  /** The schema of the property at `path`, and the `required` list of the object holding it. */
  const at = (schema: JsonObject, path: BodyPath) => {
    let node = schema;
    for (const field of path.slice(0, -1))
      node = (node.properties as JsonObject)[field] as JsonObject;
    const field = path.at(-1) as string;
    return {
      property: (node.properties as JsonObject)[field] as JsonObject | undefined,
      required: (node.required as string[] | undefined) ?? [],
      field,
    };
  };

  it.each(OPERATIONS.filter(([, op]) => op.scope.account !== undefined))(
    '%s takes the account selector as optional and says why',
    (key, op) => {
      const { property, required, field } = at(requestSchemaOf(key), op.scope.account as BodyPath);
      expect(property).toMatchObject({ type: 'string', description: ACCOUNT_SELECTOR_DESCRIPTION });
      expect(required).not.toContain(field);
    },
  );

  it('lets the README example {"limit":5} through device/find: accountId is not required', () => {
    expect(requestSchemaOf('device/find').required).toBeUndefined();
    expect(postOf('device/find').requestBody.required).toBe(false);
  });

  it.each(OPERATIONS)('%s has paging fields exactly when it is paged', (key, op) => {
    const properties = requestSchemaOf(key).properties as JsonObject;
    if (op.paged) {
      expect(properties.limit).toMatchObject({ minimum: 1, maximum: 100, default: 25 });
      expect(properties.pageToken).toMatchObject({ type: 'string' });
    } else {
      expect(properties).not.toHaveProperty('limit');
      expect(properties).not.toHaveProperty('pageToken');
    }
  });

  it.each(OPERATIONS)('%s requires a body exactly when its schema requires a field', (key, op) => {
    const { requestBody } = postOf(key);
    const schema = requestSchemaOf(key);
    const requiresField = ((schema.required as string[] | undefined)?.length ?? 0) > 0;
    expect(requestBody.required).toBe(requiresBody(op));
    expect(requestBody.required).toBe(requiresField || schema.anyOf !== undefined);
    expect(requestBody.description).toBe(
      requestBody.required
        ? 'A JSON object.'
        : 'A JSON object; an empty body (or none) counts as `{}`.',
    );
  });

  it.each<[string, boolean]>([
    ['device/find', false],
    ['device/getCreds', false],
    ['account/get', false],
    ['alert/find', false],
    ['device/get', true],
    ['generic/find', true],
    ['action/invoke', true],
    ['store/set', true],
  ])('%s requires a body: %s', (key, expected) => {
    expect(postOf(key).requestBody.required).toBe(expected);
  });

  it("states action/invoke's either-id-or-name rule as the catalog validates it", () => {
    const invoke = catalog.find(
      (op) => operationKey(op) === 'action/invoke',
    ) as OperationDefinition;
    expect(requestSchemaOf('action/invoke').anyOf).toEqual([
      { required: ['name'] },
      { required: ['id'] },
    ]);
    const context = { accountId: 'A' };
    expect(invoke.request.safeParse({ context }).success).toBe(false);
    expect(invoke.request.safeParse({ name: 'x', context }).success).toBe(true);
    expect(invoke.request.safeParse({ id: 'x', context }).success).toBe(true);
  });

  it('keeps strictness and free attributes from the catalog', () => {
    expect(requestSchemaOf('device/find').additionalProperties).toBe(false);
    const generic = requestSchemaOf('generic/create');
    expect(generic.required).toEqual(['_type']);
    expect(generic.additionalProperties).toEqual({ $ref: '#/components/schemas/JsonValue' });
  });
});

describe('security', () => {
  it.each(OPERATIONS)('%s takes an OAuth 2.0 access token, by either scheme', (key) => {
    expect(postOf(key).security).toEqual([
      { oauth2ClientCredentials: [DEFAULT_SCOPE] },
      { bearerJwt: [] },
    ]);
  });

  it('defines both schemes, with a placeholder token URL by default', () => {
    expect(document.security).toEqual(postOf('device/find').security);
    expect(document.components.securitySchemes).toEqual({
      oauth2ClientCredentials: expect.objectContaining({
        type: 'oauth2',
        flows: {
          clientCredentials: {
            tokenUrl: PLACEHOLDER_TOKEN_URL,
            scopes: { [DEFAULT_SCOPE]: expect.any(String) },
          },
        },
      }),
      bearerJwt: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    });
  });

  it('takes the token URL and the scope from the options', () => {
    const custom = buildOpenApiDocument({
      ...OPTIONS,
      tokenUrl: 'https://auth.example.org/oauth2/token',
      scope: 'partners/api',
    });
    expect(custom.components.securitySchemes.oauth2ClientCredentials).toMatchObject({
      flows: {
        clientCredentials: {
          tokenUrl: 'https://auth.example.org/oauth2/token',
          scopes: { 'partners/api': expect.any(String) },
        },
      },
    });
    const post = custom.paths['/v1/device/get']?.post;
    expect(post?.security).toEqual([
      { oauth2ClientCredentials: ['partners/api'] },
      { bearerJwt: [] },
    ]);
  });
});

describe('responses', () => {
  /** Every status an operation declares: 409 and 422 concern the Idempotency-Key of writes. */
  const statusesOf = (op: OperationDefinition) => [
    ...['200', '400', '401', '403', '404', '405'],
    ...(op.mutates ? ['409'] : []),
    ...['413', '415'],
    ...(op.mutates ? ['422'] : []),
    ...['429', '500', '502', '503', '504', '4XX'],
  ];

  it.each(OPERATIONS)('%s declares every status a partner can meet', (key, op) => {
    expect(Object.keys(postOf(key).responses)).toEqual(statusesOf(op));
  });

  /** The 403 codes an operation can answer, from its scope declaration. */
  const forbiddenCodes = (op: OperationDefinition) => [
    'forbidden',
    'operation_not_allowed',
    // Also without an account selector: an `accountId` the operation does not take.
    'account_not_allowed',
    ...((op.scope.devices?.length ?? 0) > 0 || (op.scope.freeForm?.length ?? 0) > 0
      ? ['device_not_allowed']
      : []),
    ...(op.scope.action !== undefined ? ['action_not_allowed'] : []),
  ];

  it.each(OPERATIONS)('%s lists the codes of each status its catalog entry allows', (key, op) => {
    expect(codesOf(key, '403')).toEqual(forbiddenCodes(op));
    expect(codesOf(key, '400')).toEqual([
      'malformed_json',
      'validation_failed',
      ...(op.paged ? ['invalid_page_token'] : []),
      'upstream_rejected',
      ...(op.mutates ? ['idempotency_key_required'] : []),
      'bad_request',
    ]);
    if (op.mutates) {
      expect(codesOf(key, '409')).toEqual(['idempotency_in_progress']);
      expect(codesOf(key, '422')).toEqual(['idempotency_key_reused']);
    }
    expect(codesOf(key, '502')).toEqual([
      'upstream_error',
      ...(op.errorInBody ? ['upstream_failed'] : []),
      'upstream_auth_failed',
      'integration_failed',
    ]);
    expect(codesOf(key, '503')).toContain('upstream_throttled');
    expect(codesOf(key, '503').includes('page_token_unavailable')).toBe(op.paged);
    expect(codesOf(key, '503').includes('idempotency_unavailable')).toBe(op.mutates);
  });

  it.each(OPERATIONS)('%s takes an Idempotency-Key exactly when it writes', (key, op) => {
    const post = postOf(key);
    const parameters = post.parameters.map((p) => deref(p as unknown as JsonValue));
    expect(parameters.map((p) => String(p.name).toLowerCase())).toEqual([
      'x-request-id',
      ...(op.mutates ? [IDEMPOTENCY_KEY_HEADER] : []),
    ]);
    const ok = post.responses['200'] as unknown as JsonObject;
    const headers = Object.keys(ok.headers as JsonObject).map((h) => h.toLowerCase());
    expect(headers).toEqual(['x-request-id', ...(op.mutates ? [IDEMPOTENT_REPLAYED_HEADER] : [])]);
  });

  it.each(OPERATIONS)(
    '%s answers each error with the problem schema and x-request-id',
    (key, op) => {
      for (const status of statusesOf(op).filter((s) => s !== '200')) {
        const { response, schema } = problemOf(key, status);
        expect(schema).toMatchObject({ allOf: [{ $ref: '#/components/schemas/Problem' }] });
        expect(String(response.description)).toMatch(/The problem `code` is one of:/);
        const requestId = deref((response.headers as JsonObject)['x-request-id']);
        // Only the web application firewall's 429 comes without a request id.
        expect([status, requestId.required]).toEqual([status, status !== '429']);
        if (/^\d+$/.test(status)) {
          expect((schema as JsonObject).properties).toMatchObject({
            status: { const: Number(status) },
          });
        }
      }
    },
  );

  it.each<[string, string, JsonObject]>([
    ['401', 'WWW-Authenticate', { required: true, schema: { type: 'string', const: 'Bearer' } }],
    ['405', 'Allow', { required: true, schema: { type: 'string', const: 'POST' } }],
    ['409', 'Retry-After', { required: true, schema: { type: 'integer', minimum: 0 } }],
    ['429', 'Retry-After', { required: false, schema: { type: 'integer', minimum: 0 } }],
    ['503', 'Retry-After', { required: false, schema: { type: 'integer', minimum: 0 } }],
  ])('%s carries %s', (status, header, expected) => {
    for (const [key] of OPERATIONS.filter(([, op]) => status !== '409' || op.mutates)) {
      const { response } = problemOf(key, status);
      expect(deref((response.headers as JsonObject)[header])).toMatchObject(expected);
    }
  });

  it("lets the web application firewall's 429 be application/json", () => {
    const { response } = problemOf('device/get', '429');
    expect(Object.keys(response.content as JsonObject)).toEqual([
      'application/problem+json',
      'application/json',
    ]);
  });

  it.each(OPERATIONS)(
    '%s answers 200 with its record, x-request-id and the envelope',
    (key, op) => {
      const ok = postOf(key).responses['200'] as unknown as JsonObject;
      expect(deref((ok.headers as JsonObject)['x-request-id'])).toMatchObject({ required: true });
      const envelope = ((ok.content as JsonObject)['application/json'] as JsonObject)
        .schema as JsonObject;
      expect(envelope.required).toEqual(
        op.paged ? ['data', 'nextPageToken', 'prevPageToken'] : ['data'],
      );
      expect(envelope.additionalProperties).toBe(false);
      const data = (envelope.properties as JsonObject).data as JsonObject;
      if (op.response === 'none') {
        expect(op.record).toBeUndefined();
        expect(data).toMatchObject({ type: 'null' });
        return;
      }
      expect(op.record).toBeDefined();
      const pointer = `#/components/schemas/${op.record}`;
      expect(collect(data, '$ref').map(([, ref]) => ref)).toEqual([pointer]);
      if (op.response === 'list') expect(data.type).toBe('array');
      if (op.response === 'record')
        expect(data.anyOf).toContainEqual(expect.objectContaining({ type: 'null' }));
      if (op.response === 'string') expect(op.record).toBe('SignedUrl');
    },
  );

  it.each(OPERATIONS.filter(([, op]) => hasAssumedScope(op) && op.response !== 'none'))(
    '%s promises that its records name the account, which the gateway checks',
    (key, op) => {
      const ok = postOf(key).responses['200'] as unknown as JsonObject;
      const data = collect(ok, 'allOf');
      expect(data).toHaveLength(1);
      const scoping = op.scope.accountScoping;
      const [first] = scoping?.basis === 'assumed' ? scoping.answer : [];
      expect(collect(data[0]?.[1] as JsonValue, 'required').map(([, r]) => r)).toContainEqual([
        first,
      ]);
    },
  );
});

describe('the codes of the contract', () => {
  /** The README's errors table: `| status | \`code\` | when |`. */
  const readmeCodes = [
    ...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/^\| (\d{3}|4xx)\s+\| `([a-z_]+)`/gm),
  ].map((m) => [m[2] as string, (m[1] as string).toUpperCase()] as const);

  it('reads the README table', () => {
    expect(readmeCodes.length).toBeGreaterThan(25);
  });

  it.each(readmeCodes)('lists %s of the README with status %s', (code, status) => {
    expect(PROBLEM_CODES.get(code)).toContain(status);
  });

  it.each(Object.entries(CONTRACT_CODES))(
    "lists %s of the fuzz oracle's contract with status %i",
    (code, status) => {
      const statuses = PROBLEM_CODES.get(code) ?? [];
      // 0: API Gateway's own status (bad_request).
      expect(status === 0 ? statuses.includes('4XX') : statuses.includes(String(status))).toBe(
        true,
      );
    },
  );

  /** Every problem the proxy can raise: each exported subclass of ProblemError, made once. */
  const raised = Object.values(problemErrors)
    .filter(
      (value): value is typeof problemErrors.ProblemError =>
        typeof value === 'function' && value.prototype instanceof problemErrors.ProblemError,
    )
    .map((error) => Reflect.construct(error, [[]]) as problemErrors.ProblemError)
    .map((error) => [error.code, String(error.status)] as const);

  it.each(raised)('lists %s, which the proxy raises, with status %s', (code, status) => {
    expect(PROBLEM_CODES.get(code)).toContain(status);
  });

  it('lists no code that nothing raises', () => {
    // API Gateway's own answers (lib/constructs/gateway-responses.ts) and the bare 500.
    const gatewayOnly = ['bad_request', 'throttled', 'quota_exceeded', 'internal'];
    const known = new Set([...raised.map(([code]) => code), ...gatewayOnly]);
    expect([...PROBLEM_CODES.keys()].filter((code) => !known.has(code))).toEqual([]);
  });
});

describe('descriptions', () => {
  it.each(OPERATIONS)(
    '%s says what the catalog knows about granting and retrying it',
    (key, op) => {
      const post = postOf(key);
      expect(post.description).toContain(`**Sensitivity:** ${op.sensitivity}.`);
      expect(post.description).toContain(op.retrySafe ? 'Safe to retry' : 'Not safe to retry');
      expect(post.description.includes('needs its exact name')).toBe(!isWildcardGrantable(op));
      expect(post.description.includes('`acceptAssumedScope`')).toBe(hasAssumedScope(op));
      expect(post.description.includes('**Store over REST:**')).toBe(op.upstream !== undefined);
      expect(post).toMatchObject({
        'x-ioto-sensitivity': op.sensitivity,
        'x-ioto-retry-safe': op.retrySafe,
        'x-ioto-mutates': op.mutates,
        'x-ioto-wildcard-grantable': isWildcardGrantable(op),
        'x-ioto-assumed-scope': hasAssumedScope(op),
      });
    },
  );

  it('names the version, a contact and the license of package.json', () => {
    expect(document.info).toMatchObject({
      version: '1.2.3',
      contact: { name: expect.any(String) },
      license: { name: packageJson.license },
    });
    expect(LICENSE).toBe(packageJson.license);
  });
});

describe('servers', () => {
  it('defaults to this host and a placeholder of the deployed URL', () => {
    expect(document.servers.map((server) => server.url)).toEqual([
      '/',
      'https://{apiId}.execute-api.{region}.amazonaws.com/{stage}',
    ]);
    expect(Object.keys(document.servers[1]?.variables ?? {})).toEqual(['apiId', 'region', 'stage']);
  });

  it('takes the servers of the options, without a trailing slash', () => {
    const custom: OpenApiDocument = buildOpenApiDocument({
      ...OPTIONS,
      servers: [
        { url: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/', description: 'Production' },
        { url: '/' },
      ],
    });
    expect(custom.servers).toEqual([
      { url: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod', description: 'Production' },
      { url: '/' },
    ]);
  });
});
