import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createSecretBox,
  isApiKey,
  isLinkToken,
  isShortCode,
  newApiKey,
  newLinkToken,
  newShortCode,
  parseLinkIdentifier,
  safeEqual,
  sha256,
} from './tokens.js';

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const CODE = /^[A-Za-z0-9]{8}$/;
const SECRET = 'a'.repeat(64);

describe('new secrets', () => {
  it('link tokens are 43 base64url characters and differ every time', () => {
    const tokens = Array.from({ length: 500 }, newLinkToken);
    for (const t of tokens) expect(t).toMatch(TOKEN);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('short codes are 8 characters of [A-Za-z0-9] and use the whole alphabet', () => {
    const codes = Array.from({ length: 2000 }, newShortCode);
    for (const c of codes) expect(c).toMatch(CODE);
    const seen = new Set(codes.join(''));
    // 16 000 draws from 62 symbols: every symbol shows up unless the generator is biased or truncated.
    expect(seen.size).toBe(62);
  });

  it('API keys are phk_ + 43 base64url characters', () => {
    for (let i = 0; i < 200; i++) {
      const k = newApiKey();
      expect(k).toMatch(/^phk_[A-Za-z0-9_-]{43}$/);
      expect(isApiKey(k)).toBe(true);
    }
    expect(isApiKey('phk_short')).toBe(false);
    expect(isApiKey(`pk_${'a'.repeat(43)}`)).toBe(false);
  });

  it('freshly made tokens and codes parse as what they are', () => {
    fc.assert(
      fc.property(fc.constant(null), () => {
        expect(parseLinkIdentifier(newLinkToken())?.kind).toBe('token');
        expect(parseLinkIdentifier(newShortCode())?.kind).toBe('code');
      }),
      { numRuns: 200 },
    );
  });
});

describe('parseLinkIdentifier', () => {
  it('accepts a 43-character base64url token and an 8-character alphanumeric code', () => {
    const token = 'Ab0_-'.repeat(8) + 'xyz';
    expect(token).toHaveLength(43);
    expect(parseLinkIdentifier(token)).toEqual({ kind: 'token', value: token });
    expect(parseLinkIdentifier('Ab3dE6gH')).toEqual({ kind: 'code', value: 'Ab3dE6gH' });
  });

  it.each([
    ['empty', ''],
    ['42 characters', 'a'.repeat(42)],
    ['44 characters', 'a'.repeat(44)],
    ['token with a dot', 'a'.repeat(42) + '.'],
    ['token with padding', 'a'.repeat(42) + '='],
    ['token with a slash', 'a'.repeat(42) + '/'],
    ['7-character code', 'abcdefg'],
    ['9-character code', 'abcdefghi'],
    ['code with an underscore', 'abcd_fgh'],
    ['code with a dash', 'abcd-fgh'],
    ['code with a space', 'abcd fgh'],
    ['code with a non-ASCII letter', 'abcdéfgh'],
    ['token with a newline', 'a'.repeat(42) + '\n'],
    ['path traversal', '../../etc/passwd'],
  ])('rejects %s', (_name, s) => {
    expect(parseLinkIdentifier(s)).toBeNull();
  });

  it('accepts exactly the strings of the two formats (property)', () => {
    const anyString = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 50 }),
      fc.string({ unit: fc.constantFrom(...'aZ09_-.=/ +é'), minLength: 6, maxLength: 46 }),
      fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      fc.stringMatching(/^[A-Za-z0-9]{8}$/),
    );
    fc.assert(
      fc.property(anyString, (s) => {
        const parsed = parseLinkIdentifier(s);
        const expected = TOKEN.test(s) ? 'token' : CODE.test(s) ? 'code' : null;
        expect(parsed?.kind ?? null).toBe(expected);
        if (parsed) expect(parsed.value).toBe(s);
        expect(isLinkToken(s)).toBe(expected === 'token');
        expect(isShortCode(s)).toBe(expected === 'code');
      }),
      { numRuns: 2000 },
    );
  });

  it('any 32 bytes in base64url are a token (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        expect(parseLinkIdentifier(Buffer.from(bytes).toString('base64url'))?.kind).toBe('token');
      }),
    );
  });
});

describe('secret box', () => {
  const box = createSecretBox(SECRET);

  it('opens what it sealed (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (plain) => {
        const sealed = box.seal(plain);
        expect(sealed.startsWith('v1.')).toBe(true);
        expect(box.open(sealed)).toBe(plain);
      }),
    );
  });

  it('seals the same text differently every time (random IV)', () => {
    const token = newLinkToken();
    expect(box.seal(token)).not.toBe(box.seal(token));
    expect(box.seal(token)).not.toContain(token);
  });

  it.each([
    ['the IV', 0],
    ['the tag', 14],
    ['the ciphertext', 30],
  ])('refuses a ciphertext with a flipped bit in %s', (_where, index) => {
    const sealed = box.seal('a'.repeat(43));
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[index] ^= 0x01;
    expect(() => box.open(`v1.${raw.toString('base64url')}`)).toThrow();
  });

  it('refuses a truncated ciphertext and another secret', () => {
    const sealed = box.seal('hello');
    expect(() => box.open(sealed.slice(0, -4))).toThrow();
    expect(() => createSecretBox('b'.repeat(64)).open(sealed)).toThrow();
  });

  it('only takes a 32-byte secret', () => {
    expect(() => createSecretBox('ab')).toThrow(/32 bytes/);
  });

  it('signs deterministically under its own key', () => {
    expect(box.sign('grant')).toBe(box.sign('grant'));
    expect(box.sign('grant')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(box.sign('grant')).not.toBe(box.sign('grant2'));
    expect(createSecretBox('b'.repeat(64)).sign('grant')).not.toBe(box.sign('grant'));
  });
});

describe('hashing and comparison', () => {
  it('sha256 is the standard hex digest', () => {
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('safeEqual agrees with === (property), including different lengths', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => {
      expect(safeEqual(a, b)).toBe(a === b);
    }));
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (a) => {
      expect(safeEqual(a, a)).toBe(true);
    }));
  });
});
