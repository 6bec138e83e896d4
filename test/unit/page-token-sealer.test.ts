import { hashRequestFields, PageTokenSealer } from '../../lambda/paging/page-token-sealer';
import { InvalidPageTokenError } from '../../lambda/problems/problem-error';

const SECRET = 'a-page-token-secret-of-at-least-32-characters';
const binding = {
  operation: 'device/find',
  requestHash: hashRequestFields({ accountId: 'A1' }),
  audience: '',
};
const claims = {
  ...binding,
  cursor: { pk: 'account#A1', sk: 'device#D10' },
  direction: 'next' as const,
};

describe('PageTokenSealer', () => {
  let now = 1_800_000_000_000;
  const sealer = PageTokenSealer.fromSecret(SECRET, { ttlSeconds: 60, now: () => now });

  beforeEach(() => {
    now = 1_800_000_000_000;
  });

  it('round-trips the cursor and direction for the same request', () => {
    const token = sealer.seal(claims);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sealer.open(token, binding)).toEqual({ cursor: claims.cursor, direction: 'next' });
  });

  it('hides the cursor from the partner', () => {
    const token = sealer.seal(claims);
    expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain('device#D10');
    expect(token).not.toEqual(sealer.seal(claims));
  });

  it.each([
    ['another operation', { ...binding, operation: 'generic/find' }],
    ['changed filters', { ...binding, requestHash: hashRequestFields({ accountId: 'A2' }) }],
    ['another audience', { ...binding, audience: 'globex' }],
  ])('rejects a token presented for %s', (_name, other) => {
    const token = sealer.seal(claims);
    expect(() => sealer.open(token, other)).toThrow(InvalidPageTokenError);
  });

  it('rejects an expired token', () => {
    const token = sealer.seal(claims);
    now += 61_000;
    expect(() => sealer.open(token, binding)).toThrow(InvalidPageTokenError);
  });

  it('rejects a token sealed with another key', () => {
    const other = PageTokenSealer.fromSecret(`${SECRET}-other`, { ttlSeconds: 60, now: () => now });
    expect(() => sealer.open(other.seal(claims), binding)).toThrow(InvalidPageTokenError);
  });

  const flip = (token: string, index: number): string => {
    const raw = Buffer.from(token, 'base64url');
    raw[index] = (raw[index] ?? 0) ^ 0x01;
    return raw.toString('base64url');
  };

  it.each([
    ['a flipped nonce bit', (t: string) => flip(t, 0)],
    ['a flipped ciphertext bit', (t: string) => flip(t, 14)],
    ['a flipped tag bit', (t: string) => flip(t, Buffer.from(t, 'base64url').length - 1)],
    ['a truncated token', (t: string) => t.slice(0, 20)],
    ['characters outside base64url', (t: string) => `${t}!`],
    ['an oversized token', () => 'A'.repeat(5000)],
    ['an empty token', () => ''],
  ])('rejects a token with %s', (_name, tamper) => {
    expect(() => sealer.open(tamper(sealer.seal(claims)), binding)).toThrow(InvalidPageTokenError);
  });

  it('refuses keys that are not 32 bytes and secrets that are too short', () => {
    expect(() => new PageTokenSealer(Buffer.alloc(16), { ttlSeconds: 60 })).toThrow(RangeError);
    expect(() => PageTokenSealer.fromSecret('short', { ttlSeconds: 60 })).toThrow(RangeError);
  });
});

describe('hashRequestFields', () => {
  it('ignores key order and undefined values', () => {
    expect(hashRequestFields({ a: 1, b: { c: 2, d: [1, 2] } })).toEqual(
      hashRequestFields({ b: { d: [1, 2], c: 2 }, a: 1, e: undefined }),
    );
  });

  it.each([
    [{ a: 1 }, { a: '1' }],
    [{ a: [1, 2] }, { a: [2, 1] }],
    [{ a: { b: 1 } }, { a: { b: 1, c: 0 } }],
  ])('distinguishes %j from %j', (left, right) => {
    expect(hashRequestFields(left)).not.toEqual(hashRequestFields(right));
  });
});
