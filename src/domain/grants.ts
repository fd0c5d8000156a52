import type { SecretBox } from './tokens.js';
import { safeEqual } from './tokens.js';

/** 30 minutes: how long one view lets its holder page, open records and export. */
export const GRANT_TTL_MS = 30 * 60 * 1000;

/**
 * What a grant proves: which link, under which grant epoch (bumped to void
 * every grant at once), until when, and what was unlocked on the way.
 */
export type GrantClaims = {
  linkId: string;
  epoch: number;
  expiresAt: number;
  passwordUnlocked: boolean;
  email: string | null;
};

/** A signed, unguessable grant: `g1.<payload>.<hmac>`; nothing is stored. */
export function issueGrant(box: SecretBox, claims: GrantClaims): string {
  const payload = Buffer.from(
    JSON.stringify([claims.linkId, claims.epoch, claims.expiresAt, claims.passwordUnlocked ? 1 : 0, claims.email]),
  ).toString('base64url');
  return `g1.${payload}.${box.sign(`g1.${payload}`)}`;
}

/** Reads a grant whose signature holds; any other string is null. Expiry and epoch are the evaluator's to judge. */
export function readGrant(box: SecretBox, grant: string | undefined): GrantClaims | null {
  if (!grant || grant.length > 1024) return null;
  const parts = grant.split('.');
  if (parts.length !== 3 || parts[0] !== 'g1') return null;
  if (!safeEqual(parts[2], box.sign(`g1.${parts[1]}`))) return null;
  try {
    const [linkId, epoch, expiresAt, pw, email] = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (typeof linkId !== 'string' || typeof epoch !== 'number' || typeof expiresAt !== 'number') return null;
    return { linkId, epoch, expiresAt, passwordUnlocked: pw === 1, email: typeof email === 'string' ? email : null };
  } catch {
    return null;
  }
}
