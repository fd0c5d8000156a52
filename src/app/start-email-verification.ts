import { AppError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { emailAllowance, type Link } from '../domain/link.js';
import { newOneTimeCode } from '../domain/tokens.js';
import { findMember, findUserByEmail } from '../storage/accounts.js';
import type { Executor } from '../storage/database.js';
import { appendLinkEvent } from '../storage/events.js';
import { enqueueMail } from '../storage/outbox.js';
import { insertCode, lastCodeAt } from '../storage/verification-codes.js';
import { authorizePublic, type PublicRequest } from './authorize-public.js';
import { CODE_TTL_MS, codeHash, normalizeEmail } from './check-email-code.js';
import type { AppContext } from './context.js';

/** One address gets at most one new code this often; asking again sooner sends nothing new. */
export const CODE_RESEND_MS = 30_000;

/** What the caller learns: the same whether or not the address may open the link, so the answer reveals no one's address. */
export type VerificationStarted = { email: string; expiresAt: number };

async function isMemberAddress(db: Executor, workspaceId: string, email: string): Promise<boolean> {
  const user = await findUserByEmail(db, email);
  return user !== null && (await findMember(db, workspaceId, user.id)) !== null;
}

function codeMail(link: Link, code: string): { subject: string; text: string } {
  const what = link.label ? `“${link.label}”` : 'the link shared with you';
  return {
    // The subject is seen on lock screens and in mail lists: the code is only in the text.
    subject: 'Your one-time code',
    text: [
      `Your one-time code is ${code}`,
      '',
      `Enter it on the page that asked for it to open ${what}. It works once and expires in ${CODE_TTL_MS / 60_000} minutes.`,
      '',
      'If you did not ask for this code, you can ignore this mail: without the code no one can open the link as you.',
    ].join('\n'),
  };
}

/**
 * `POST /verify/start`: mails a one-time code to an address the link allows
 * (its recipient, allowed addresses or domains; the workspace's members when
 * it names none). The link must be open to the caller up to the identity
 * check (DESIGN §4's order); asking counts no view. An address the link does
 * not allow gets no mail and an `access_denied` event, but the same answer.
 */
export async function startEmailVerification(ctx: AppContext, req: PublicRequest, rawEmail: string): Promise<VerificationStarted> {
  const access = await authorizePublic(ctx, req, 'verify', {
    // Requests for codes are limited per link and client by the gate, as comments and edits are.
    throttle: ctx.codeRequests,
    prepare: async (link) => {
      if (!link.requiresAuth) throw new AppError('conflict', 'This share link does not ask for an email address: open it directly');
    },
  });
  const { link } = access;
  const now = ctx.now();

  const email = normalizeEmail(rawEmail);
  const expiresAt = now + CODE_TTL_MS;
  const { db } = ctx.database;
  const allowance = emailAllowance(link, email);
  const allowed = allowance === 'listed' || (allowance === 'members_only' && (await isMemberAddress(db, link.workspaceId, email)));
  if (!allowed) {
    await db.transaction().execute((tx) =>
      appendLinkEvent(tx, link, { ...access.events, type: 'access_denied', reason: 'auth_required', metadata: { action: 'verify', address_allowed: false } }, now),
    );
    return { email, expiresAt };
  }

  const last = await lastCodeAt(db, link.id, email);
  if (last !== null && now - last < CODE_RESEND_MS) return { email, expiresAt: last + CODE_TTL_MS };

  const code = newOneTimeCode();
  await db.transaction().execute(async (tx) => {
    await insertCode(tx, { id: newId('otc', now), workspaceId: link.workspaceId, linkId: link.id, email, codeHash: codeHash(ctx.box, link.id, email, code), createdAt: now, expiresAt });
    await enqueueMail(tx, { workspaceId: link.workspaceId, kind: 'verification_code', to: email, ...codeMail(link, code) }, now);
  });
  ctx.mail.kick();
  return { email, expiresAt };
}
