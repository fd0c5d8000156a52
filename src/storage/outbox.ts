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
