import { decodeUpstreamQuery } from '../../dev/ioto-simulator/upstream-query';
import { encodeUpstreamQuery, type UpstreamQuery } from '../../lambda/paging/upstream-query';

/**
 * The proxy writes Ioto's query-string options one way (lambda/paging/upstream-query.ts); the
 * simulator reads them back with its inverse. The two must agree exactly, or the simulator would
 * hide an encoding bug of the proxy.
 */
describe('the upstream query encoding', () => {
  it.each<[string, UpstreamQuery, string]>([
    ['nothing', {}, ''],
    ['a limit', { limit: 25 }, '?limit=25'],
    ['a string cursor', { next: 'abc/+= ?&' }, '?next=abc%2F%2B%3D%20%3F%26'],
    [
      'a key-object cursor',
      { prev: { pk: 'account#A', sk: 'device#D' } },
      '?prev=%7B%22pk%22%3A%22account%23A%22%2C%22sk%22%3A%22device%23D%22%7D',
    ],
    ['an upsert', { exists: null }, '?exists'],
    ['a must-exist update', { exists: true }, '?exists=true'],
    ['a must-not-exist create', { exists: false }, '?exists=false'],
    [
      'everything',
      { limit: 5, next: { pk: 'x' }, exists: null },
      '?limit=5&next=%7B%22pk%22%3A%22x%22%7D&exists',
    ],
  ])('writes %s as the proxy sends it and reads it back unchanged', (_name, query, text) => {
    expect(encodeUpstreamQuery(query)).toBe(text);
    expect(decodeUpstreamQuery(text)).toEqual(query);
  });

  it('refuses a cursor that looks like JSON but is not', () => {
    expect(() => decodeUpstreamQuery('?next=%7Bnot-json')).toThrow(SyntaxError);
  });
});
