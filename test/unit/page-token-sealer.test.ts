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
  const sealer = PageTokenSealer.fromSecrets(
    { current: SECRET },
    { ttlSeconds: 60, now: () => now },
  );

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
    const other = PageTokenSealer.fromSecrets(
      { current: `${SECRET}-other` },
      { ttlSeconds: 60, now: () => now },
    );
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
    expect(() => PageTokenSealer.fromSecrets({ current: 'short' }, { ttlSeconds: 60 })).toThrow(
      RangeError,
    );
  });
});

describe('PageTokenSealer.fromSecrets, over the version stages of the key secret', () => {
  const CURRENT = 'the-current-page-token-key-of-at-least-32-characters';
  const PENDING = 'the-pending-page-token-key-of-at-least-32-characters';
  const PREVIOUS = 'the-previous-page-token-key-of-at-least-32-characters';
  const STRAY = 'a-key-in-no-version-stage-of-at-least-32-characters';
  let now = 1_800_000_000_000;
  const options = { ttlSeconds: 60, now: () => now };
  /** A sealer of one key alone, as an instance holding only AWSCURRENT. */
  const only = (current: string) => PageTokenSealer.fromSecrets({ current }, options);
  const staged = PageTokenSealer.fromSecrets(
    { current: CURRENT, pending: PENDING, previous: PREVIOUS },
    options,
  );

  beforeEach(() => {
    now = 1_800_000_000_000;
  });

  it('seals new tokens with the current key only', () => {
    const token = staged.seal(claims);
    expect(only(CURRENT).open(token, binding)).toEqual({
      cursor: claims.cursor,
      direction: 'next',
    });
    for (const other of [PENDING, PREVIOUS]) {
      expect(() => only(other).open(token, binding)).toThrow(InvalidPageTokenError);
    }
  });

  it.each([
    ['pending', PENDING],
    ['previous', PREVIOUS],
  ])('opens a token sealed with the %s key', (_slot, key) => {
    expect(staged.open(only(key).seal(claims), binding)).toEqual({
      cursor: claims.cursor,
      direction: 'next',
    });
  });

  it('rejects a token sealed with a key in no stage', () => {
    expect(() => staged.open(only(STRAY).seal(claims), binding)).toThrow(InvalidPageTokenError);
  });

  it('rejects a token of the previous key once no stage holds it', () => {
    const retired = only(PREVIOUS).seal(claims);
    const afterRetirement = PageTokenSealer.fromSecrets(
      { current: CURRENT, pending: PENDING },
      options,
    );
    expect(() => afterRetirement.open(retired, binding)).toThrow(InvalidPageTokenError);
  });

  it('keeps the binding and the expiry of a token it opens with an accepted key', () => {
    const token = only(PREVIOUS).seal(claims);
    expect(() => staged.open(token, { ...binding, audience: 'globex' })).toThrow(
      InvalidPageTokenError,
    );
    expect(() => staged.open(token, { ...binding, operation: 'generic/find' })).toThrow(
      InvalidPageTokenError,
    );
    now += 61_000;
    expect(() => staged.open(token, binding)).toThrow(InvalidPageTokenError);
  });

  it('treats one key in two stages as one key', () => {
    // Between promotion and the removal of AWSPENDING, both stages name the new version.
    const promoted = PageTokenSealer.fromSecrets(
      { current: PENDING, pending: PENDING, previous: CURRENT },
      options,
    );
    expect(only(PENDING).open(promoted.seal(claims), binding)).toMatchObject({
      direction: 'next',
    });
    expect(promoted.open(staged.seal(claims), binding)).toMatchObject({ direction: 'next' });
  });

  const SHORT = 'a-31-character-page-token-key!!';
  it.each([
    ['current', { current: SHORT }],
    ['pending', { current: CURRENT, pending: SHORT }],
    ['previous', { current: CURRENT, previous: SHORT }],
  ])('refuses a %s key shorter than 32 characters, naming the stage but no value', (slot, keys) => {
    expect(SHORT).toHaveLength(31);
    let refusal: unknown;
    try {
      PageTokenSealer.fromSecrets(keys, options);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(RangeError);
    const { message } = refusal as RangeError;
    expect(message).toMatch(new RegExp(`^The ${slot} page-token key must hold at least 32`));
    expect(message).not.toContain(SHORT);
    expect(message).not.toContain(CURRENT);
  });

  it('refuses accepted keys that are not 32 bytes', () => {
    expect(
      () =>
        new PageTokenSealer(Buffer.alloc(32), { ttlSeconds: 60, acceptedKeys: [Buffer.alloc(31)] }),
    ).toThrow(RangeError);
  });
});

describe('a page token sealed before key rotation existed', () => {
  // Sealed by the single-key PageTokenSealer.fromSecret(KEY, { ttlSeconds: 60 }) of the first
  // release, at LEGACY_NOW: the derivation of a plain-text key must never change, or every
  // open token breaks on the deploy that changes it.
  const KEY = 'a-page-token-key-sealed-before-rotation-existed-64-characters-xx';
  const LEGACY_NOW = 1_800_000_000_000;
  const TOKEN =
    '2rRACTuI9GNXdTsjJn-95S_fJGncUS9jgaXtuEN2mWCrI08vs5ucTfMJS0fn3g0yl8GbohFjHGKBTAxul-0u-o1goLOPOFWCmQtcvJAcr1atX_vHQU6Ww9a40ABAI4-wyX0SroD6qpT57gLplkoiHj3JlR-eoOtFYpwsPErjQXhLQd1C5-bji0A6Sx0RKVl403ltcv7lBzuhV9D7Z74-4V3Xf9S5-lzkj7-hkkfM1XlKhg';
  const OTHER = 'another-page-token-key-of-at-least-32-characters';
  const options = { ttlSeconds: 60, now: () => LEGACY_NOW + 30_000 };

  it.each([
    ['AWSCURRENT', { current: KEY }],
    ['AWSPENDING', { current: OTHER, pending: KEY }],
    ['AWSPREVIOUS', { current: OTHER, previous: KEY }],
  ])('opens when its key is %s', (_stage, keys) => {
    expect(PageTokenSealer.fromSecrets(keys, options).open(TOKEN, binding)).toEqual({
      cursor: claims.cursor,
      direction: 'next',
    });
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
