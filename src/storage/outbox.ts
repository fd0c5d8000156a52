import { newId } from '../domain/ids.js';
import type { Executor } from './database.js';

/** What the outbox holds for one mail. */
export type OutgoingMail = {
  /** The workspace it is sent for (null for mail of no workspace). */
  workspaceId: string | null;
  /** What it is, for operators: `verification_code`, `comment_notice`… */
  kind: string;
  to: string;
  subject: string;
  text: string;
};

/**
 * Queues a mail in the caller's transaction: it is sent (by the mail worker)
 * only if what it tells of is committed too.
 */
export async function enqueueMail(db: Executor, mail: OutgoingMail, now: number): Promise<string> {
  const id = newId('mail', now);
  await db
    .insertInto('outbox')
    .values({
      id,
      workspace_id: mail.workspaceId,
      kind: mail.kind,
      to_address: mail.to,
      subject: mail.subject,
      body_text: mail.text,
      next_attempt_at: now,
      created_at: now,
    })
    .execute();
  return id;
}

/** A mail the dispatcher has claimed. */
export type ClaimedMail = { id: string; to: string; subject: string; text: string; attempts: number };

/** Mail due now and not held by a dispatcher, oldest first. */
export async function dueMailIds(db: Executor, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('outbox')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Claims one mail for `lockMs`, counting the attempt. Safe with any number of
 * dispatchers on one database: the conditional update lets exactly one win a
 * row, and a dispatcher that dies lets its claim lapse.
 */
export async function claimMail(db: Executor, id: string, now: number, lockMs: number): Promise<ClaimedMail | null> {
  const claimed = await db
    .updateTable('outbox')
    .set((eb) => ({ locked_until: now + lockMs, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) return null;
  const r = await db.selectFrom('outbox').select(['id', 'to_address', 'subject', 'body_text', 'attempts']).where('id', '=', id).executeTakeFirstOrThrow();
  return { id: r.id, to: r.to_address, subject: r.subject, text: r.body_text, attempts: r.attempts };
}

/** A sent mail keeps its address, subject and times, not its text: that may hold a one-time code. */
export async function markMailSent(db: Executor, id: string, now: number): Promise<void> {
  await db.updateTable('outbox').set({ status: 'sent', sent_at: now, locked_until: null, last_error: null, body_text: '' }).where('id', '=', id).execute();
}

/** Records a failed attempt: tried again at `retryAt`, or failed for good when that is null. */
export async function markMailFailed(db: Executor, id: string, error: string, retryAt: number | null): Promise<void> {
  await db
    .updateTable('outbox')
    .set(retryAt === null ? { status: 'failed', locked_until: null, last_error: error } : { next_attempt_at: retryAt, locked_until: null, last_error: error })
    .where('id', '=', id)
    .execute();
}
