import { buildOpenApiDocument } from '../../dev/openapi';
import { catalog, operationKey } from '../../lambda/catalog/index';

const document = buildOpenApiDocument({ defaultLimit: 25, maxLimit: 100, version: '0.0.0' });
type Post = {
  requestBody: { content: { 'application/json': { schema: Record<string, unknown> } } };
  responses: Record<string, { content: Record<string, { schema: Record<string, unknown> }> }>;
};
const postOf = (key: string) => (document.paths[`/v1/${key}`] as { post: Post }).post;

describe('buildOpenApiDocument', () => {
  it('describes exactly the catalog operations', () => {
    expect(Object.keys(document.paths).sort()).toEqual(
      catalog.map((op) => `/v1/${operationKey(op)}`).sort(),
    );
  });

  it.each(catalog.map((op) => [operationKey(op), op] as const))(
    'gives %s an object request schema',
    (key, op) => {
      const schema = postOf(key).requestBody.content['application/json'].schema;
      expect(schema.type).toBe('object');
      const properties = schema.properties as Record<string, unknown>;
      expect(properties).toBeDefined();
      if (op.paged) expect(properties).toHaveProperty('pageToken');
      else expect(properties).not.toHaveProperty('limit');
    },
  );

  it('keeps strictness and required fields from the catalog', () => {
    const schema = postOf('device/find').requestBody.content['application/json'].schema;
    expect(schema).toMatchObject({ additionalProperties: false, required: ['accountId'] });
    expect(schema.properties).toMatchObject({ limit: { maximum: 100, default: 25 } });
  });

  it('lets Generic bodies carry free attributes', () => {
    const schema = postOf('generic/create').requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(['_type']);
    expect(schema.additionalProperties).not.toBe(false);
  });

  it('describes the paged success envelope', () => {
    const schema = postOf('device/find').responses['200']?.content['application/json']?.schema;
    expect(schema?.required).toEqual(['data', 'nextPageToken', 'prevPageToken']);
  });
});
