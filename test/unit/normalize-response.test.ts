import { normalizeReply } from '../../lambda/proxy/normalize-response';

const json = (value: unknown) => ({ contentType: 'application/json', text: JSON.stringify(value) });
const cursor = { pk: 'account#A1', sk: 'device#D2' };

describe('normalizeReply', () => {
  it.each([
    [
      'a wrapped page',
      json({ data: [{ id: 1 }], next: cursor, prev: 'p1', paged: true }),
      { data: [{ id: 1 }], next: cursor, prev: 'p1' },
    ],
    ['a last page without cursors', json({ data: [{ id: 1 }] }), { data: [{ id: 1 }] }],
    ['null cursors', json({ data: [], next: null, prev: null }), { data: [] }],
    ['a bare array', json([{ id: 1 }, { id: 2 }]), { data: [{ id: 1 }, { id: 2 }] }],
    ['a bare record', json({ id: 1, name: 'x' }), { data: [{ id: 1, name: 'x' }] }],
    ['a bare string', json('only'), { data: ['only'] }],
    ['an empty body', { contentType: 'application/json', text: '' }, { data: [] }],
  ])('turns %s of a paged operation into a list', (_name, reply, expected) => {
    expect(normalizeReply('list', true, reply)).toEqual(expected);
  });

  it('drops cursors of an unpaged list', () => {
    expect(normalizeReply('list', false, json({ data: [{ id: 1 }], next: cursor }))).toEqual({
      data: [{ id: 1 }],
    });
  });

  it.each([
    ['a bare record', json({ id: 'D1' }), { id: 'D1' }],
    ['a wrapped record', json({ data: { id: 'D1' } }), { id: 'D1' }],
    ['null', json(null), null],
    [
      'a record that has a data field among others',
      json({ id: 'G1', data: 5 }),
      { id: 'G1', data: 5 },
    ],
  ])('reads %s as a record', (_name, reply, expected) => {
    expect(normalizeReply('record', false, reply)).toEqual({ data: expected });
  });

  it.each([
    [
      'a JSON string literal',
      json('https://signed.example/x?sig=1'),
      'https://signed.example/x?sig=1',
    ],
    [
      'plain text',
      { contentType: 'text/plain', text: 'https://signed.example/y\n' },
      'https://signed.example/y',
    ],
    ['a wrapped string', json({ data: 'https://signed.example/z' }), 'https://signed.example/z'],
  ])('reads %s as a string', (_name, reply, expected) => {
    expect(normalizeReply('string', false, reply)).toEqual({ data: expected });
  });

  it('ignores whatever Ioto sends for an operation with no documented answer', () => {
    expect(normalizeReply('none', false, { contentType: 'text/html', text: '<oops>' })).toEqual({
      data: null,
    });
  });

  it.each([
    [
      'malformed JSON for a record',
      'record',
      false,
      { contentType: 'application/json', text: '{"data": [' },
    ],
    ['an array for a record', 'record', false, json([1, 2])],
    ['a string for a record', 'record', false, json('x')],
    ['a number for a string', 'string', false, json(42)],
    ['a number for a list', 'list', true, json({ data: 42 })],
    ['an oversized cursor', 'list', true, json({ data: [], next: 'x'.repeat(3000) })],
    ['an array cursor', 'list', true, json({ data: [], next: [1, 2] })],
    ['HTML for a list', 'list', true, { contentType: 'text/html', text: '<html></html>' }],
  ] as const)('rejects %s as upstream_error', (_name, kind, paged, reply) => {
    expect(() => normalizeReply(kind, paged, reply)).toThrow(
      expect.objectContaining({ code: 'upstream_error', status: 502 }),
    );
  });
});
