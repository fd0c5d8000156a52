import { evaluateAccess, type AccessAction, type DenyReason } from '../domain/access.js';
import type { EventInput } from '../domain/event.js';
import type { GrantClaims } from '../domain/grants.js';
import type { Db, Tx } from '../storage/database.js';
import { appendLinkEvent, appendToChain, chainedEvent, countAndAppend, type ExpectedHead } from '../storage/events.js';
import { createGroupCommitter } from '../storage/group-commit.js';
import { countView, findLinkById } from '../storage/links.js';
import { runsInProcess } from '../storage/prepared.js';

/** Who asked, as every public event records it. */
export type EventBase = Omit<EventInput, 'type'>;

/**
 * The link as the ledger needs it: plain data, so a job can cross to a writer
 * thread. `head` is its chain head as the lookup read it, for PostgreSQL's
 * one-statement count.
 */
export type LedgerLink = { id: string; workspaceId: string; grantEpoch: number; head?: ExpectedHead };

/** Count a view and/or a download and chain their events, if the link still allows it. */
export type CountJob = {
  kind: 'count';
  link: LedgerLink;
  view: boolean;
  download: boolean;
  action: AccessAction;
  grant: GrantClaims | null;
  password: 'none' | 'valid' | 'invalid';
  base: EventBase;
  metadata: Record<string, unknown>;
  now: number;
};

/** Write a denial's event: `expired`, or `access_denied` with its reason. */
export type DenyJob = { kind: 'deny'; link: LedgerLink; reason: DenyReason; action: AccessAction; base: EventBase; now: number };

export type LedgerJob = CountJob | DenyJob;

export type CountResult = { ok: true; viewCount: number; downloadCount: number } | { ok: false; reason: DenyReason };

/**
 * Where the public path's writes go. Every job is committed, with its events,
 * before its promise settles; concurrent jobs share transactions.
 */
export type PublicLedger = {
  count(job: CountJob): Promise<CountResult>;
  deny(job: DenyJob): Promise<void>;
  /** Settles what is under way and releases what the ledger holds. */
  close(): Promise<void>;
};

const denialEvent = (reason: DenyReason, action: AccessAction, base: EventBase): EventInput =>
  reason === 'expired' ? { ...base, type: 'expired', reason, metadata: { action } } : { ...base, type: 'access_denied', reason, metadata: { action } };

/**
 * Counts in one conditional update and chains the events in the same
 * transaction. When the update finds the link changed under it (revoked,
 * limit reached by a concurrent view…), a second read names the reason
 * through the same evaluator and the denial is written instead.
 */
async function count(tx: Tx, job: CountJob): Promise<CountResult> {
  const { link, base, now } = job;
  const types: Array<'viewed' | 'downloaded'> = job.view ? (job.download ? ['viewed', 'downloaded'] : ['viewed']) : ['downloaded'];
  const chain = (seq: number, prev: string | null) =>
    types.map((type) => {
      const event = chainedEvent(link, ++seq, prev, { ...base, type, metadata: job.metadata }, now);
      prev = event.hash;
      return event;
    });
  const what = { view: job.view, download: job.download };
  // Where every statement is a round trip, first try it in one, on the head the lookup read.
  if (link.head && !runsInProcess(tx)) {
    const done = await countAndAppend(tx, link, what, link.head, chain(link.head.seq, link.head.hash), now);
    if (done) return { ok: true, ...done };
  }
  const counted = await countView(tx, link, { ...what, events: types.length }, now);
  if (counted) {
    await appendToChain(tx, link.id, chain(counted.eventSeq - types.length, counted.lastEventHash));
    return { ok: true, viewCount: counted.viewCount, downloadCount: counted.downloadCount };
  }
  const fresh = await findLinkById(tx, link.workspaceId, link.id);
  const decision = evaluateAccess({ action: job.action, now, identifierValid: true, rateLimited: false, link: fresh, grant: job.grant, password: job.password });
  // The row changed between read and write; if it now passes, it was the grant epoch: the grant is void.
  const reason: DenyReason = decision.allow ? 'forbidden' : decision.reason;
  if (fresh) await appendLinkEvent(tx, fresh, denialEvent(reason, job.action, base), now);
  return { ok: false, reason };
}

/** Runs one job inside a transaction it shares with its batch. */
export async function recordJob(tx: Tx, job: LedgerJob): Promise<CountResult | null> {
  if (job.kind === 'count') return count(tx, job);
  await appendLinkEvent(tx, job.link, denialEvent(job.reason, job.action, job.base), job.now);
  return null;
}

export type LedgerOptions = {
  /** Transactions at once: 1 for SQLite's one writer, a few for PostgreSQL's pool. */
  maxInFlight: number;
  onBatch?: (size: number) => void;
};

/** A ledger from the one function that runs a job: both kinds of job go through it. */
export function ledgerOver(run: (job: LedgerJob) => Promise<CountResult | null>, close: () => Promise<void>): PublicLedger {
  return {
    count: (job) => run(job) as Promise<CountResult>,
    deny: async (job) => {
      await run(job);
    },
    close,
  };
}

/** Error code of a job sent to a ledger that has closed (the instance is shutting down). */
export const LEDGER_CLOSED = 'PORTHOLE_LEDGER_CLOSED';

/** The ledger on this thread's own connection, through a group committer. */
export function inProcessLedger(db: Db, opts: LedgerOptions): PublicLedger & { run(job: LedgerJob): Promise<CountResult | null> } {
  const committer = createGroupCommitter(db, { maxInFlight: opts.maxInFlight, maxBatch: 256, onBatch: opts.onBatch });
  const run = (job: LedgerJob) => committer.run(job.link.id, (tx) => recordJob(tx, job));
  return { run, ...ledgerOver(run, () => committer.drain()) };
}
