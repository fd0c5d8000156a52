import { notFound } from '../domain/errors.js';
import { verifyChain, type ChainBreak } from '../domain/event.js';
import { listChainEvents, listChainHeads, listOrphanEvents } from '../storage/events.js';
import type { AppContext } from './context.js';

export type AuditReport = {
  /** Links whose chain was walked. */
  links: number;
  /** Events checked across those links. */
  events: number;
  /** Every break found, in link id then sequence order; empty when the trail is intact. */
  breaks: ChainBreak[];
};

const PAGE = 200;

/**
 * Walks every link's events (or one link's) in sequence order and checks each
 * hash chain against the link's `last_event_hash` (DESIGN §6). Reads only: it
 * reports tampering, it never repairs it. Links are read a page at a time so
 * the walk's memory is bounded by the page, not the database. The whole
 * walk also reports events that name a link with no row: Porthole never
 * deletes links, so such an event was forged or its link removed by hand.
 */
export async function verifyAudit(ctx: Pick<AppContext, 'database'>, opts: { linkId?: string } = {}): Promise<AuditReport> {
  const { db } = ctx.database;
  const report: AuditReport = { links: 0, events: 0, breaks: [] };
  let afterId: string | undefined;
  for (;;) {
    const heads = await listChainHeads(db, { linkId: opts.linkId, afterId, limit: PAGE });
    if (heads.length === 0) break;
    const events = await listChainEvents(db, heads.map((h) => h.linkId));
    for (const head of heads) {
      const chain = events.get(head.linkId) ?? [];
      report.links += 1;
      report.events += chain.length;
      report.breaks.push(...verifyChain(head.linkId, chain, head.lastEventHash));
    }
    if (heads.length < PAGE) break;
    afterId = heads[heads.length - 1].linkId;
  }
  if (opts.linkId !== undefined) {
    if (report.links === 0) throw notFound(`Link ${opts.linkId}`);
    return report;
  }
  for (let after: string | undefined; ; ) {
    const orphans = await listOrphanEvents(db, { afterId: after, limit: PAGE });
    report.events += orphans.length;
    for (const e of orphans) {
      report.breaks.push({ linkId: e.linkId as string, seq: e.seq, eventId: e.id, problem: 'the event names a link that does not exist' });
    }
    if (orphans.length < PAGE) break;
    after = orphans[orphans.length - 1].id;
  }
  return report;
}
