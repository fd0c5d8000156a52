import type { Executor } from './database.js';

/**
 * What retention (DESIGN §6) reads and deletes. Every delete is conditional or
 * by id, so any number of instances may run cleanup at once: a row goes once,
 * and only the run whose statement removed it counts it. Batches are bounded
 * (the caller passes the size) so no statement holds the write lock for long.
 */

/** Links of a workspace revoked or expired before `cutoff`, oldest first. */
export async function retiredLinkIds(db: Executor, workspaceId: string, cutoff: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('links')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where((eb) => eb.or([eb('revoked_at', '<', cutoff), eb('expires_at', '<', cutoff)]))
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** How many links of a workspace were revoked or expired before `cutoff` (for a dry run). */
export async function countRetiredLinks(db: Executor, workspaceId: string, cutoff: number): Promise<number> {
  const r = await db
    .selectFrom('links')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where((eb) => eb.or([eb('revoked_at', '<', cutoff), eb('expires_at', '<', cutoff)]))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A deleted link's chain head at its deletion. */
/** Where a deleted link's chain ended, and where it then started (its floor, 0 and null when whole). */
export type RetiredLinkHead = { eventSeq: number; lastEventHash: string | null; floorSeq: number; floorHash: string | null };

/**
 * Deletes a link that is still past retention (its comments and one-time
 * codes cascade; its events stay) and returns its chain head, or null when no
 * row went: another run deleted it first, or it no longer qualifies. In
 * PostgreSQL a concurrent writer of the row (an event appended to its chain)
 * is waited for, and the head returned is the one it left.
 */
export async function deleteRetiredLink(db: Executor, workspaceId: string, linkId: string, cutoff: number): Promise<RetiredLinkHead | null> {
  const r = await db
    .deleteFrom('links')
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', linkId)
    .where((eb) => eb.or([eb('revoked_at', '<', cutoff), eb('expires_at', '<', cutoff)]))
    .returning(['event_seq', 'last_event_hash', 'chain_floor_seq', 'chain_floor_hash'])
    .executeTakeFirst();
  return r ? { eventSeq: Number(r.event_seq), lastEventHash: r.last_event_hash, floorSeq: Number(r.chain_floor_seq), floorHash: r.chain_floor_hash } : null;
}

/** Whether a link still has its row (retention may have deleted it, its events staying behind). */
export async function linkRowExists(db: Executor, linkId: string): Promise<boolean> {
  return (await db.selectFrom('links').select('id').where('id', '=', linkId).executeTakeFirst()) !== undefined;
}

/** One chained event as retention sees it. */
export type ChainedEventRef = { linkId: string; seq: number; hash: string | null };

/** A workspace's oldest chained events written before `cutoff`, oldest first. */
export async function oldChainedEvents(db: Executor, workspaceId: string, cutoff: number, limit: number): Promise<ChainedEventRef[]> {
  const rows = await db
    .selectFrom('events')
    .select(['link_id', 'seq', 'hash'])
    .where('workspace_id', '=', workspaceId)
    .where('created_at', '<', cutoff)
    .where('link_id', 'is not', null)
    .where('seq', 'is not', null)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ linkId: r.link_id as string, seq: Number(r.seq), hash: r.hash }));
}

/**
 * Records on a link row (if it still exists) that its chain now starts after
 * the event `seq` whose hash is `hash`. Never moves the floor back, so a run
 * that read older events than a concurrent one leaves the newer floor. Takes
 * the link row's lock first, as appending to its chain does.
 */
export async function raiseChainFloor(db: Executor, linkId: string, seq: number, hash: string | null): Promise<void> {
  await db
    .updateTable('links')
    .set({ chain_floor_seq: seq, chain_floor_hash: hash })
    .where('id', '=', linkId)
    .where('chain_floor_seq', '<', seq)
    .execute();
}

/** Deletes a link's events up to sequence `seq` (a prefix of its chain); returns how many went. */
export async function deleteChainPrefix(db: Executor, workspaceId: string, linkId: string, seq: number): Promise<number> {
  const r = await db
    .deleteFrom('events')
    .where('link_id', '=', linkId)
    .where('workspace_id', '=', workspaceId)
    .where('seq', '<=', seq)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/**
 * The workspace chain's event that ends its oldest `limit` events written
 * before `cutoff` (its sequence number and hash), or null when none is that old.
 */
export async function oldWorkspaceChainCut(db: Executor, workspaceId: string, cutoff: number, limit: number): Promise<{ seq: number; hash: string | null; full: boolean } | null> {
  const rows = await db
    .selectFrom('events')
    .select(['seq', 'hash'])
    .where('workspace_id', '=', workspaceId)
    .where('link_id', 'is', null)
    .where('seq', 'is not', null)
    .where('created_at', '<', cutoff)
    .orderBy('seq')
    .limit(limit)
    .execute();
  const last = rows[rows.length - 1];
  return last ? { seq: Number(last.seq), hash: last.hash, full: rows.length === limit } : null;
}

/**
 * Cuts a workspace's own chain (migration 0005) after event `seq`: records
 * the floor on the workspace row (never moving it back; taking the row's
 * lock first, as appending does) and deletes the events up to it. Returns
 * how many went.
 */
export async function cutWorkspaceChain(db: Executor, workspaceId: string, seq: number, hash: string | null): Promise<number> {
  await db.updateTable('workspaces').set({ chain_floor_seq: seq, chain_floor_hash: hash }).where('id', '=', workspaceId).where('chain_floor_seq', '<', seq).execute();
  const r = await db.deleteFrom('events').where('workspace_id', '=', workspaceId).where('link_id', 'is', null).where('seq', '<=', seq).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** A workspace's oldest events outside every chain (written before their chain existed, or forged) written before `cutoff`. */
export async function oldUnchainedEventIds(db: Executor, workspaceId: string, cutoff: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('events')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('created_at', '<', cutoff)
    .where((eb) => eb.or([eb('link_id', 'is', null), eb('seq', 'is', null)]))
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** How many events of a workspace were written before `cutoff` (for a dry run). */
export async function countOldEvents(db: Executor, workspaceId: string, cutoff: number): Promise<number> {
  const r = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('created_at', '<', cutoff)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Deletes the rows named of a table keyed by `id` (events, one-time codes); returns how many went. */
export async function deleteByIds(db: Executor, table: 'events' | 'verification_codes', ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await db.deleteFrom(table).where('id', 'in', ids).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** One-time codes that expired before `before`. */
export async function expiredCodeIds(db: Executor, before: number, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('verification_codes').select('id').where('expires_at', '<', before).orderBy('id').limit(limit).execute();
  return rows.map((r) => r.id);
}

export async function countExpiredCodes(db: Executor, before: number): Promise<number> {
  const r = await db
    .selectFrom('verification_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('expires_at', '<', before)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Mail that is done with (`sent` or `failed`) and was queued before `before`.
 * By the time it was queued: a mail's retries end within hours of it, and a
 * failed one records no time of its last attempt.
 */
export async function finishedMailIds(db: Executor, before: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('outbox')
    .select('id')
    .where('status', 'in', ['sent', 'failed'])
    .where('created_at', '<', before)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export async function countFinishedMail(db: Executor, before: number): Promise<number> {
  const r = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'in', ['sent', 'failed'])
    .where('created_at', '<', before)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Deletes the mails named, only while they are finished; returns how many went. */
export async function deleteFinishedMailById(db: Executor, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await db.deleteFrom('outbox').where('id', 'in', ids).where('status', 'in', ['sent', 'failed']).executeTakeFirst();
  return Number(r.numDeletedRows);
}
