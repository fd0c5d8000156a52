import type { EmailCodeCheck } from '../domain/access.js';
import type { Link } from '../domain/link.js';
import { safeEqual, type SecretBox } from '../domain/tokens.js';
import { appendLinkEvent } from '../storage/events.js';
import { consumeCode, countFailedAttempt, liveCode } from '../storage/verification-codes.js';
import type { AppContext } from './context.js';
import type { EventBase } from './public-ledger.js';

/** A code lives this long, and dies after this many wrong tries. */
export const CODE_TTL_MS = 10 * 60_000;
export const CODE_MAX_ATTEMPTS = 5;

/** The stored form of a code: keyed by the server's secret and bound to its link and address, so a leaked table yields nothing to try. */
export const codeHash = (box: SecretBox, linkId: string, email: string, code: string): string => box.sign(`code\u0000${linkId}\u0000${email}\u0000${code}`);

/** How addresses are compared and stored. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/**
 * Checks a one-time code sent for a link. When it holds it is used up and
 * `verified` is written, in one transaction, and the address counts as
 * proven; otherwise the try is counted against the code and the answer is
 * `invalid` (the evaluator then names the denial).
 */
export async function checkEmailCode(
  ctx: AppContext,
  link: Pick<Link, 'id' | 'workspaceId'>,
  sent: { email: string; code: string },
  base: EventBase,
  now: number,
): Promise<EmailCodeCheck> {
  const email = normalizeEmail(sent.email);
  const code = sent.code.trim();
  return ctx.database.db.transaction().execute(async (tx) => {
    const stored = await liveCode(tx, link.id, email, now, CODE_MAX_ATTEMPTS);
    if (!stored) return 'invalid';
    if (!safeEqual(stored.codeHash, codeHash(ctx.box, link.id, email, code))) {
      await countFailedAttempt(tx, stored.id);
      return 'invalid';
    }
    if (!(await consumeCode(tx, stored.id, now))) return 'invalid';
    await appendLinkEvent(tx, link, { ...base, type: 'verified', email, actor: `email:${email}`, metadata: {} }, now);
    return { email };
  });
}
