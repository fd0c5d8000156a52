import type { Executor } from './database.js';

/** A one-time code as stored: only its keyed hash, never the code. */
export type StoredCode = { id: string; codeHash: string; attempts: number };

export type NewCode = { id: string; workspaceId: string; linkId: string; email: string; codeHash: string; createdAt: number; expiresAt: number };

export async function insertCode(db: Executor, c: NewCode): Promise<void> {
  await db
    .insertInto('verification_codes')
    .values({ id: c.id, workspace_id: c.workspaceId, link_id: c.linkId, email: c.email, code_hash: c.codeHash, created_at: c.createdAt, expires_at: c.expiresAt })
    .execute();
}

/** When the newest code for this link and address was made, or null. */
export async function lastCodeAt(db: Executor, linkId: string, email: string): Promise<number | null> {
  const r = await db
    .selectFrom('verification_codes')
    .select('created_at')
    .where('link_id', '=', linkId)
    .where('email', '=', email)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r ? Number(r.created_at) : null;
}

/** The newest code for this link and address that is still usable: not used, not expired, attempts left. Older codes die when a new one is sent. */
export async function liveCode(db: Executor, linkId: string, email: string, now: number, maxAttempts: number): Promise<StoredCode | null> {
  const r = await db
    .selectFrom('verification_codes')
    .select(['id', 'code_hash', 'attempts', 'consumed_at', 'expires_at'])
    .where('link_id', '=', linkId)
    .where('email', '=', email)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!r || r.consumed_at !== null || Number(r.expires_at) <= now || r.attempts >= maxAttempts) return null;
  return { id: r.id, codeHash: r.code_hash, attempts: r.attempts };
}

/** Uses a code up; false when a concurrent request used it first. */
export async function consumeCode(db: Executor, id: string, now: number): Promise<boolean> {
  const r = await db.updateTable('verification_codes').set({ consumed_at: now }).where('id', '=', id).where('consumed_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function countFailedAttempt(db: Executor, id: string): Promise<void> {
  await db
    .updateTable('verification_codes')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .execute();
}
