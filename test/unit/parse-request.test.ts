import type { APIGatewayProxyEvent } from 'aws-lambda';
import {
  findDuplicateKey,
  parseJsonBody,
  resolveOperation,
} from '../../lambda/proxy/parse-request';

const route = (
  httpMethod: string,
  controller: string | null,
  operation: string | null,
  resource?: string,
) =>
  ({
    httpMethod,
    pathParameters: controller && operation ? { controller, operation } : null,
    resource: resource ?? '/v1/{controller}/{operation}',
    path: resource ?? `/v1/${controller}/${operation}`,
  }) as Pick<APIGatewayProxyEvent, 'httpMethod' | 'pathParameters' | 'resource' | 'path'>;

describe('resolveOperation', () => {
  it('finds an operation from path parameters', () => {
    expect(resolveOperation(route('POST', 'device', 'find'))).toMatchObject({
      controller: 'device',
      operation: 'find',
    });
  });

  it('finds an operation from an explicit resource path, as the CDK stack routes it', () => {
    expect(resolveOperation(route('POST', null, null, '/v1/store/get'))).toMatchObject({
      controller: 'store',
      operation: 'get',
    });
  });

  it.each([
    ['an unknown operation', route('POST', 'device', 'remove')],
    ['an MQTT-only operation', route('POST', 'metric', 'set')],
    ['a prototype name', route('POST', 'device', '__proto__')],
    ['a different case', route('POST', 'Device', 'Find')],
    ['a path outside /v1', route('POST', null, null, '/v2/device/find')],
  ])('answers not_found for %s', (_name, event) => {
    expect(() => resolveOperation(event)).toThrow(
      expect.objectContaining({ code: 'not_found', status: 404 }),
    );
  });

  it.each(['GET', 'PUT', 'DELETE', 'OPTIONS'])(
    'answers method_not_allowed with Allow for %s',
    (method) => {
      expect(() => resolveOperation(route(method, 'device', 'find'))).toThrow(
        expect.objectContaining({
          code: 'method_not_allowed',
          status: 405,
          headers: { allow: 'POST' },
        }),
      );
    },
  );
});

describe('parseJsonBody', () => {
  const event = (body: string | null, contentType?: string, isBase64Encoded = false) => ({
    body,
    isBase64Encoded,
    headers: contentType === undefined ? {} : { 'Content-Type': contentType },
  });

  it.each([
    ['application/json', '{"a":1}', { a: 1 }],
    ['application/json; charset=utf-8', '{"a":1}', { a: 1 }],
    ['application/merge-patch+json', '[1]', [1]],
  ])('parses a body sent as %s', (type, body, expected) => {
    expect(parseJsonBody(event(body, type), 1024)).toEqual(expected);
  });

  it.each([
    ['no body', null],
    ['an empty body', ''],
    ['white space', '  \n'],
  ])('reads %s as an empty object, whatever the media type', (_name, body) => {
    expect(parseJsonBody(event(body), 1024)).toEqual({});
  });

  it('decodes a base64 body', () => {
    const body = Buffer.from('{"a":"é"}').toString('base64');
    expect(parseJsonBody(event(body, 'application/json', true), 1024)).toEqual({ a: 'é' });
  });

  it.each([
    ['no content type', undefined],
    ['text/plain', 'text/plain'],
    ['form data', 'application/x-www-form-urlencoded'],
    ['a latin-1 charset', 'application/json; charset=iso-8859-1'],
  ])('answers unsupported_media_type for %s', (_name, type) => {
    expect(() => parseJsonBody(event('{}', type), 1024)).toThrow(
      expect.objectContaining({ code: 'unsupported_media_type', status: 415 }),
    );
  });

  it('answers payload_too_large past the limit, counting bytes', () => {
    expect(() => parseJsonBody(event(`{"a":"${'é'.repeat(20)}"}`, 'application/json'), 40)).toThrow(
      expect.objectContaining({ code: 'payload_too_large', status: 413 }),
    );
  });

  it.each([
    ['truncated JSON', '{"a":'],
    ['single quotes', "{'a':1}"],
    ['a trailing comma', '{"a":1,}'],
  ])('answers malformed_json for %s', (_name, body) => {
    expect(() => parseJsonBody(event(body, 'application/json'), 1024)).toThrow(
      expect.objectContaining({ code: 'malformed_json', status: 400 }),
    );
  });

  it('answers malformed_json for an unpaired surrogate, in a value or a key (RFC 7493)', () => {
    for (const body of ['{"id":"\\ud800"}', '{"\\udc00":1}']) {
      expect(() => parseJsonBody(event(body, 'application/json'), 1024)).toThrow(
        expect.objectContaining({ code: 'malformed_json' }),
      );
    }
  });

  it('accepts a paired surrogate', () => {
    expect(parseJsonBody(event('{"id":"\\ud83d\\ude00"}', 'application/json'), 1024)).toEqual({
      id: '😀',
    });
  });

  it.each([
    [31, true],
    [32, false],
  ])('with %i nested arrays inside the body object, accepts it: %s', (depth, accepted) => {
    const body = `{"x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const parse = () => parseJsonBody(event(body, 'application/json'), 100_000);
    if (accepted) expect(parse).not.toThrow();
    else expect(parse).toThrow(expect.objectContaining({ code: 'validation_failed' }));
  });

  it('answers malformed_json for bytes that are not UTF-8', () => {
    const body = Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]).toString('base64');
    expect(() => parseJsonBody(event(body, 'application/json', true), 1024)).toThrow(
      expect.objectContaining({ code: 'malformed_json' }),
    );
  });
});

describe('findDuplicateKey', () => {
  it.each([
    ['{"a":1,"a":2}', 'a'],
    ['{"accountId":"A","x":{"accountId":"B"},"accountId":"C"}', 'accountId'],
    ['{"\\u0061ccountId":"A","accountId":"B"}', 'accountId'],
    ['[{"a":1},{"b":{"c":[{"d":1,"d":2}]}}]', 'd'],
    ['{"k\\"ey":1,"k\\"ey":2}', 'k"ey'],
  ])('finds the duplicate in %s', (text, key) => {
    expect(findDuplicateKey(text)).toBe(key);
  });

  it.each([
    '{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}',
    '{"a":"a","b":"a"}',
    '["a","a"]',
    '{"a":"{\\"a\\":1,\\"a\\":2}"}',
    '{}',
  ])('finds none in %s', (text) => {
    expect(findDuplicateKey(text)).toBeUndefined();
  });

  it('makes parseJsonBody refuse a body with a repeated key', () => {
    expect(() =>
      parseJsonBody(
        {
          body: '{"accountId":"A","accountId":"B"}',
          isBase64Encoded: false,
          headers: { 'content-type': 'application/json' },
        },
        1024,
      ),
    ).toThrow(expect.objectContaining({ code: 'malformed_json' }));
  });
});
