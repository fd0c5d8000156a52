import { notFound } from '../domain/errors.js';
import { verifyChain, type ChainBreak } from '../domain/event.js';
import { findDeletedLinkHeads, listChainEvents, listChainHeads, listOrphanLinkIds, listWorkspaceChainEvents, listWorkspaceChainHeads } from '../storage/events.js';
import type { AppContext } from './context.js';

export type AuditReport = {
  /** Links whose chain was walked (deleted links whose events remain included). */
  links: number;
  /** Workspaces whose own chain (their workspace-level events) was walked: all of them, unless one link was asked for. */
  workspaces: number;
  /** Events checked across those links. */
  events: number;
  /** Every break found, in link id then sequence order; empty when the trail is intact. */
  breaks: ChainBreak[];
};

const PAGE = 200;

/**
 * Walks every link's events (or one link's) in sequence order and checks each
 * hash chain against the link's `last_event_hash` (DESIGN §6), from where the
 * chain now starts: event retention deletes a chain's oldest events and
 * records the last one it deleted on the link (`chain_floor_seq`/`_hash`).
 * Reads only: it reports tampering, it never repairs it. Links are read a
 * page at a time so the walk's memory is bounded by the page, not the database.
 *
 * Events that name a link with no row are checked too: a link deleted by
 * retention left a `deleted` event with its chain head and floor at
 * deletion, and its remaining events must run from the floor (raised by the
 * `deleted` events retention writes when it cuts such a chain again) to that
 * head. Events of a link with neither a row nor a `deleted` event were forged
 * or their link removed by hand: each is a break.
 */
export async function verifyAudit(ctx: Pick<AppContext, 'database'>, opts: { linkId?: string } = {}): Promise<AuditReport> {
  const { db } = ctx.database;
  const report: AuditReport = { links: 0, workspaces: 0, events: 0, breaks: [] };
  for await (const heads of pages((afterId) => listChainHeads(db, { linkId: opts.linkId, afterId, limit: PAGE }), (h) => h.linkId)) {
    const events = await listChainEvents(db, heads.map((h) => h.linkId));
    for (const head of heads) {
      const chain = events.get(head.linkId) ?? [];
      report.links += 1;
      report.events += chain.length;
      report.breaks.push(...verifyChain(head.linkId, chain, head.lastEventHash, { seq: head.floorSeq, hash: head.floorHash }));
    }
  }
  if (opts.linkId !== undefined && report.links > 0) return report;
  const checkedDeleted = await verifyDeletedLinks(ctx, report, opts.linkId);
  if (opts.linkId !== undefined && checkedDeleted === 0) throw notFound(`Link ${opts.linkId}`);
  if (opts.linkId === undefined) await verifyWorkspaceChains(ctx, report);
  return report;
}

/** Reads pages keyed by id (each read starts after the last id of the one before) until one comes back short. */
async function* pages<T>(read: (afterId: string | undefined) => Promise<T[]>, idOf: (row: T) => string): AsyncGenerator<T[]> {
  for (let after: string | undefined; ; ) {
    const page = await read(after);
    if (page.length > 0) yield page;
    if (page.length < PAGE) return;
    after = idOf(page[page.length - 1]);
  }
}

/**
 * Each workspace's own chain: its workspace-level events (members, keys,
 * policy, deleted resources and links; migration 0005), from the floor
 * retention recorded on the workspace to its chain head. A workspace-level
 * event outside the chain (no sequence number) was forged: a break.
 */
async function verifyWorkspaceChains(ctx: Pick<AppContext, 'database'>, report: AuditReport): Promise<void> {
  const { db } = ctx.database;
  for await (const heads of pages((afterId) => listWorkspaceChainHeads(db, { afterId, limit: PAGE }), (h) => h.workspaceId)) {
    const events = await listWorkspaceChainEvents(db, heads.map((h) => h.workspaceId));
    for (const head of heads) {
      const all = events.get(head.workspaceId) ?? [];
      const chained = all.filter((e) => e.seq !== null);
      report.workspaces += 1;
      report.events += all.length;
      for (const e of all.filter((e) => e.seq === null)) {
        report.breaks.push({ linkId: null, workspaceId: head.workspaceId, seq: null, eventId: e.id, problem: "the event is outside its workspace's chain" });
      }
      report.breaks.push(...verifyChain({ workspaceId: head.workspaceId }, chained, head.lastEventHash, { seq: head.floorSeq, hash: head.floorHash }));
    }
  }
}

/** The chains of links with no row (see verifyAudit); returns how many links it walked. */
async function verifyDeletedLinks(ctx: Pick<AppContext, 'database'>, report: AuditReport, linkId: string | undefined): Promise<number> {
  const { db } = ctx.database;
  let walked = 0;
  for await (const ids of pages((afterId) => listOrphanLinkIds(db, { linkId, afterId, limit: PAGE }), (id) => id)) {
    const events = await listChainEvents(db, ids);
    const orphans = ids.map((id) => ({ linkId: id, workspaceIds: [...new Set((events.get(id) ?? []).map((e) => e.workspaceId))] }));
    const deleted = await findDeletedLinkHeads(ctx.database, orphans);
    for (const id of ids) {
      const chain = events.get(id) ?? [];
      const head = deleted.get(id);
      walked += 1;
      report.links += 1;
      report.events += chain.length;
      if (head) {
        report.breaks.push(...verifyChain(id, chain, { hash: head.hash, seq: head.seq }, head.floor));
        for (const e of chain.filter((e) => e.workspaceId !== head.workspaceId)) {
          report.breaks.push({ linkId: id, seq: e.seq, eventId: e.id, problem: 'the event names another workspace than its deleted link' });
        }
      } else {
        for (const e of chain) {
          report.breaks.push({ linkId: id, seq: e.seq, eventId: e.id, problem: 'the event names a link that does not exist' });
        }
      }
    }
  }
  return walked;
}
