import { insertWorkspaceEvent } from '../storage/events.js';
import {
  countExpiredCodes,
  countFinishedMail,
  countOldEvents,
  countRetiredLinks,
  cutWorkspaceChain,
  deleteChainPrefix,
  deleteByIds,
  deleteFinishedMailById,
  deleteRetiredLink,
  expiredCodeIds,
  finishedMailIds,
  linkRowExists,
  oldChainedEvents,
  oldUnchainedEventIds,
  oldWorkspaceChainCut,
  raiseChainFloor,
  retiredLinkIds,
  type ChainedEventRef,
} from '../storage/retention.js';
import { listWorkspacesPage, type Workspace } from '../storage/workspaces.js';
import type { AppContext } from './context.js';

const DAY = 86_400_000;
/** Rows read or deleted per statement: a big cleanup is many short transactions, never one long write lock. */
const BATCH = 1000;
/** Links deleted per round of reading; each is deleted in its own transaction. */
const LINK_PAGE = 100;
/** Links whose chains are cut in one transaction (PostgreSQL holds their rows' locks until it commits). */
const CHAINS_PER_TX = 50;
/** One-time codes are kept a day past their expiry; finished mail 30 days. */
const CODE_GRACE_MS = DAY;
const MAIL_KEEP_MS = 30 * DAY;

/** What a cleanup deleted (or, in a dry run, would delete), by kind. */
export type CleanupCounts = { links: number; events: number; verificationCodes: number; outbox: number };

/**
 * Retention (DESIGN §6), for every workspace under its own policy:
 * - links revoked or expired more than `linkRetentionDays` ago are deleted,
 *   each in one transaction with a workspace-level `deleted` event that
 *   records its chain head (`event_seq`, `last_event_hash`), so the events it
 *   leaves behind still verify; its comments and one-time codes go with it;
 * - events older than `eventRetentionDays` are deleted in batches: a link's
 *   chain loses a prefix, and the link row records where it now starts (the
 *   chain floor) in the same transaction; workspace-level events (`deleted`
 *   ones included) go after the chains, which are older than them;
 * - housekeeping: one-time codes expired over a day ago, mail sent or failed
 *   over 30 days ago.
 * Safe on any number of instances at once: every delete is conditional, a
 * link deleted by two runs gets one `deleted` event, and each run counts
 * only the rows its own statements removed. `dryRun` counts without deleting
 * (events by age only: a cut may take a few events a moment younger, to keep
 * the chain whole; and codes by expiry, though some would go with their links).
 * `signal` stops a run between two transactions (the server is stopping):
 * what it deleted stays deleted, every chain stays whole, and the next run
 * goes on from there.
 */
export async function runCleanup(ctx: Pick<AppContext, 'database' | 'now'>, opts: { dryRun?: boolean; signal?: AbortSignal } = {}): Promise<CleanupCounts> {
  const counts: CleanupCounts = { links: 0, events: 0, verificationCodes: 0, outbox: 0 };
  const { db } = ctx.database;
  const stopped = () => opts.signal?.aborted === true;
  for (let afterId: string | undefined; ; ) {
    const page = await listWorkspacesPage(db, { afterId, limit: 100 });
    for (const ws of page) {
      if (stopped()) return counts;
      if (opts.dryRun) {
        const now = ctx.now();
        counts.links += await countRetiredLinks(db, ws.id, now - ws.policy.linkRetentionDays * DAY);
        counts.events += await countOldEvents(db, ws.id, now - ws.policy.eventRetentionDays * DAY);
      } else {
        counts.links += await deleteRetiredLinks(ctx, ws, stopped);
        counts.events += await deleteOldEvents(ctx, ws, stopped);
      }
    }
    if (page.length < 100) break;
    afterId = page[page.length - 1].id;
  }
  const now = ctx.now();
  if (opts.dryRun) {
    counts.verificationCodes = await countExpiredCodes(db, now - CODE_GRACE_MS);
    counts.outbox = await countFinishedMail(db, now - MAIL_KEEP_MS);
    return counts;
  }
  counts.verificationCodes = await deleteInBatches(
    () => expiredCodeIds(db, now - CODE_GRACE_MS, BATCH),
    (ids) => deleteByIds(db, 'verification_codes', ids),
    stopped,
  );
  counts.outbox = await deleteInBatches(
    () => finishedMailIds(db, now - MAIL_KEEP_MS, BATCH),
    (ids) => deleteFinishedMailById(db, ids),
    stopped,
  );
  return counts;
}

/** Reads a batch of ids and deletes them until a read comes back short (or the run is stopped); returns how many this run deleted. */
async function deleteInBatches(read: () => Promise<string[]>, remove: (ids: string[]) => Promise<number>, stopped: () => boolean): Promise<number> {
  let deleted = 0;
  for (;;) {
    if (stopped()) return deleted;
    const ids = await read();
    deleted += await remove(ids);
    if (ids.length < BATCH) return deleted;
  }
}

async function deleteRetiredLinks(ctx: Pick<AppContext, 'database' | 'now'>, ws: Workspace, stopped: () => boolean): Promise<number> {
  const { db } = ctx.database;
  let deleted = 0;
  for (;;) {
    const now = ctx.now();
    const cutoff = now - ws.policy.linkRetentionDays * DAY;
    const ids = await retiredLinkIds(db, ws.id, cutoff, LINK_PAGE);
    for (const linkId of ids) {
      if (stopped()) return deleted;
      const went = await db.transaction().execute(async (tx) => {
        // The row first, on its condition: only the run that removed it writes the event.
        const head = await deleteRetiredLink(tx, ws.id, linkId, cutoff);
        if (!head) return false;
        await insertWorkspaceEvent(
          tx,
          ws.id,
          {
            type: 'deleted',
            metadata: { link_id: linkId, event_seq: head.eventSeq, last_event_hash: head.lastEventHash, chain_floor_seq: head.floorSeq, chain_floor_hash: head.floorHash, reason: 'retention' },
          },
          now,
        );
        return true;
      });
      if (went) deleted += 1;
    }
    if (ids.length < LINK_PAGE) return deleted;
  }
}

/**
 * Deletes a workspace's events older than its event retention: first the
 * links' chains, each cut at the newest old event read (with every event
 * before it, so what remains is whole from the floor on), then the
 * workspace's own chain likewise, then any event outside every chain.
 */
async function deleteOldEvents(ctx: Pick<AppContext, 'database' | 'now'>, ws: Workspace, stopped: () => boolean): Promise<number> {
  const { db } = ctx.database;
  const cutoff = ctx.now() - ws.policy.eventRetentionDays * DAY;
  let deleted = 0;
  for (;;) {
    const old = await oldChainedEvents(db, ws.id, cutoff, BATCH);
    const cuts = [...newestByLink(old).values()].sort((a, b) => (a.linkId < b.linkId ? -1 : a.linkId > b.linkId ? 1 : 0));
    for (let i = 0; i < cuts.length; i += CHAINS_PER_TX) {
      if (stopped()) return deleted;
      const chunk = cuts.slice(i, i + CHAINS_PER_TX);
      deleted += await db.transaction().execute(async (tx) => {
        let n = 0;
        for (const cut of chunk) {
          await raiseChainFloor(tx, cut.linkId, cut.seq, cut.hash);
          const went = await deleteChainPrefix(tx, ws.id, cut.linkId, cut.seq);
          // A deleted link has no row to carry its floor: a `deleted` event on the workspace's chain records the cut (once: a concurrent run that found the events gone writes none).
          if (went > 0 && !(await linkRowExists(tx, cut.linkId))) {
            await insertWorkspaceEvent(tx, ws.id, { type: 'deleted', metadata: { link_id: cut.linkId, chain_floor_seq: cut.seq, chain_floor_hash: cut.hash, reason: 'retention' } }, ctx.now());
          }
          n += went;
        }
        return n;
      });
    }
    if (old.length < BATCH) break;
  }
  // The workspace's own chain (its workspace-level events), cut the same way, a batch at a time.
  for (;;) {
    if (stopped()) return deleted;
    const cut = await oldWorkspaceChainCut(db, ws.id, cutoff, BATCH);
    if (!cut) break;
    deleted += await db.transaction().execute((tx) => cutWorkspaceChain(tx, ws.id, cut.seq, cut.hash));
    if (!cut.full) break;
  }
  deleted += await deleteInBatches(
    () => oldUnchainedEventIds(db, ws.id, cutoff, BATCH),
    (ids) => deleteByIds(db, 'events', ids),
    stopped,
  );
  return deleted;
}

/** Per link, its event of highest sequence among those read. */
function newestByLink(events: ChainedEventRef[]): Map<string, ChainedEventRef> {
  const newest = new Map<string, ChainedEventRef>();
  for (const e of events) {
    const seen = newest.get(e.linkId);
    if (!seen || e.seq > seen.seq) newest.set(e.linkId, e);
  }
  return newest;
}
