import {
  loadPageTokenSealer,
  type SecretVersionReader,
} from '../../lambda/paging/page-token-key-source';
import { hashRequestFields, PageTokenSealer } from '../../lambda/paging/page-token-sealer';
import { InvalidPageTokenError } from '../../lambda/problems/problem-error';

/**
 * loadPageTokenSealer over a fake of Powertools' SecretsProvider: the three version stages of
 * the key secret, each read afresh, a stage no version carries taken for absent, and every
 * other failure failing the load.
 */
const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:page-key-AbCdEf';
const CURRENT = 'the-current-page-token-key-of-at-least-32-characters';
const PENDING = 'the-pending-page-token-key-of-at-least-32-characters';
const PREVIOUS = 'the-previous-page-token-key-of-at-least-32-characters';
const OPTIONS = { ttlSeconds: 60 };
const binding = { operation: 'device/find', requestHash: hashRequestFields({}), audience: '' };
const claims = { ...binding, cursor: 'D10', direction: 'next' as const };

/** Powertools wraps the SDK's error in a GetParameterError, the SDK's as its cause. */
const wrapped = (name: string) =>
  new Error(`GetSecretValue failed: ${name}`, { cause: Object.assign(new Error(name), { name }) });
const notFound = () => wrapped('ResourceNotFoundException');

type Answer = string | Uint8Array | Error | undefined;

/** A reader answering each stage from `answers`, recording every call's options. */
function readerOf(answers: Record<string, Answer>) {
  const calls: { name: string; options: unknown }[] = [];
  const reader: SecretVersionReader = {
    get: async (name, options) => {
      calls.push({ name, options });
      const answer = answers[options.sdkOptions.VersionStage];
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { reader, calls };
}

/** Whether `sealer` opens a token that a sealer of `key` alone sealed. */
const opensTokensOf = (sealer: PageTokenSealer, key: string): boolean => {
  const token = PageTokenSealer.fromSecrets({ current: key }, OPTIONS).seal(claims);
  try {
    sealer.open(token, binding);
    return true;
  } catch (error) {
    if (error instanceof InvalidPageTokenError) return false;
    throw error;
  }
};

describe('loadPageTokenSealer', () => {
  it('reads AWSCURRENT, AWSPENDING and AWSPREVIOUS afresh, caching none of them', async () => {
    const { reader, calls } = readerOf({
      AWSCURRENT: CURRENT,
      AWSPENDING: PENDING,
      AWSPREVIOUS: PREVIOUS,
    });
    await loadPageTokenSealer(reader, SECRET_ID, OPTIONS);
    expect(calls).toEqual(
      ['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS'].map((VersionStage) => ({
        name: SECRET_ID,
        options: { forceFetch: true, maxAge: 0, sdkOptions: { VersionStage } },
      })),
    );
  });

  it('seals with AWSCURRENT and opens the tokens of every stage', async () => {
    const { reader } = readerOf({
      AWSCURRENT: CURRENT,
      AWSPENDING: PENDING,
      AWSPREVIOUS: PREVIOUS,
    });
    const sealer = await loadPageTokenSealer(reader, SECRET_ID, OPTIONS);
    const sealed = sealer.seal(claims);
    expect(
      PageTokenSealer.fromSecrets({ current: CURRENT }, OPTIONS).open(sealed, binding),
    ).toEqual({ cursor: 'D10', direction: 'next' });
    for (const key of [CURRENT, PENDING, PREVIOUS]) expect(opensTokensOf(sealer, key)).toBe(true);
  });

  it.each<[string, Record<string, Answer>, string[]]>([
    ['AWSPENDING and AWSPREVIOUS', {}, []],
    ['AWSPENDING', { AWSPREVIOUS: PREVIOUS }, [PREVIOUS]],
    ['AWSPREVIOUS', { AWSPENDING: PENDING }, [PENDING]],
  ])('takes a missing %s for none', async (_missing, present, opened) => {
    const { reader } = readerOf({
      AWSCURRENT: CURRENT,
      AWSPENDING: notFound(),
      AWSPREVIOUS: notFound(),
      ...present,
    });
    const sealer = await loadPageTokenSealer(reader, SECRET_ID, OPTIONS);
    for (const key of [PENDING, PREVIOUS]) {
      expect(opensTokensOf(sealer, key)).toBe(opened.includes(key));
    }
  });

  it.each([
    ['AWSCURRENT is missing', { AWSCURRENT: notFound() }, /ResourceNotFoundException/],
    ['AWSPENDING is denied', { AWSPENDING: wrapped('AccessDeniedException') }, /AccessDenied/],
    ['AWSPREVIOUS is throttled', { AWSPREVIOUS: wrapped('ThrottlingException') }, /Throttling/],
    ['AWSPENDING is binary', { AWSPENDING: new Uint8Array(64) }, /AWSPENDING version is not text/],
    ['AWSCURRENT has no value', { AWSCURRENT: undefined }, /AWSCURRENT version is not text/],
    ['AWSPREVIOUS is too short', { AWSPREVIOUS: 'short-key' }, /previous page-token key/],
  ])('fails the load when %s', async (_case, answers, message) => {
    const { reader } = readerOf({
      AWSCURRENT: CURRENT,
      AWSPENDING: PENDING,
      AWSPREVIOUS: PREVIOUS,
      ...answers,
    });
    const load = loadPageTokenSealer(reader, SECRET_ID, OPTIONS);
    await expect(load).rejects.toThrow(message);
    const error = (await load.catch((e: unknown) => e)) as Error;
    for (const key of [CURRENT, PENDING, PREVIOUS, 'short-key']) {
      expect(error.message).not.toContain(key);
    }
  });
});
