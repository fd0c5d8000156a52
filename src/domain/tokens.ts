import { createCipheriv, createDecipheriv, createHmac, hash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;
const CODE_RE = /^[A-Za-z0-9]{8}$/;
const CODE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const API_KEY_RE = /^phk_[A-Za-z0-9_-]{43}$/;

/** A link token: 32 random bytes in base64url (43 characters). */
export const newLinkToken = (): string => randomBytes(32).toString('base64url');

/** A short code: 8 characters from [A-Za-z0-9], drawn without modulo bias. */
export function newShortCode(): string {
  let code = '';
  for (let i = 0; i < 8; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

/** An API key: `phk_` + 32 random bytes in base64url. */
export const newApiKey = (): string => `phk_${randomBytes(32).toString('base64url')}`;

export const isLinkToken = (s: string): boolean => TOKEN_RE.test(s);
export const isShortCode = (s: string): boolean => CODE_RE.test(s);
export const isApiKey = (s: string): boolean => API_KEY_RE.test(s);

export type LinkIdentifier = { kind: 'token' | 'code'; value: string };

/**
 * Tells a token from a short code by its shape alone, before any database
 * access; anything else is `null` (answered `invalid_token`).
 */
export function parseLinkIdentifier(s: string): LinkIdentifier | null {
  if (s.length === 43 && TOKEN_RE.test(s)) return { kind: 'token', value: s };
  if (s.length === 8 && CODE_RE.test(s)) return { kind: 'code', value: s };
  return null;
}

/** SHA-256 hex digest: how tokens, codes, API keys and session ids are looked up. */
export const sha256 = (s: string): string => hash('sha256', s, 'hex');

/** Constant-time comparison of two strings. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** AES-256-GCM box keyed by PORTHOLE_SECRET, so owners can read a link's token again. */
export type SecretBox = {
  seal(plain: string): string;
  open(sealed: string): string;
  /** HMAC-SHA256 under a key derived from the secret, base64url. */
  sign(data: string): string;
};

export function createSecretBox(secretHex: string): SecretBox {
  const master = Buffer.from(secretHex, 'hex');
  if (master.length !== 32) throw new Error('secret must be 32 bytes');
  const encKey = createHmac('sha256', master).update('porthole:enc').digest();
  const macKey = createHmac('sha256', master).update('porthole:mac').digest();
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', encKey, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
    },
    open(sealed) {
      const raw = Buffer.from(sealed.slice(3), 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', encKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
    sign(data) {
      return createHmac('sha256', macKey).update(data).digest('base64url');
    },
  };
}

/** A one-time code for proving an email address: 6 digits, uniformly drawn. */
export const newOneTimeCode = (): string => String(randomInt(1_000_000)).padStart(6, '0');
