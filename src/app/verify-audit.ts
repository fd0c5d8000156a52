import { notFound } from '../domain/errors.js';
import { verifyChain, type ChainBreak } from '../domain/event.js';
import { listChainEvents, listChainHeads } from '../storage/events.js';
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
 * the walk's memory is bounded by the page, not the database. Events of links
 * that retention has already deleted have no chain head left and are skipped.
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
  if (opts.linkId !== undefined && report.links === 0) throw notFound(`Link ${opts.linkId}`);
  return report;
}
