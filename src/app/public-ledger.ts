import { evaluateAccess, type AccessAction, type DenyReason, type EmailCodeCheck } from '../domain/access.js';
import type { AuditEvent, EventInput } from '../domain/event.js';
import type { GrantClaims } from '../domain/grants.js';
import type { Db, Tx } from '../storage/database.js';
import { queueFirstViewNotice, type FirstViewNotice } from './first-view-notice.js';
import { appendLinkEvent, appendLinkEventIfPresent, appendToChain, chainedEvent, countAndAppendMany, countOnHead, type BatchedCount, type ExpectedHead } from '../storage/events.js';
import { createGroupCommitter } from '../storage/group-commit.js';
import { countKind, countView, findLinkById, type CountKind } from '../storage/links.js';
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
  emailCode?: EmailCodeCheck;
  base: EventBase;
  metadata: Record<string, unknown>;
  now: number;
  /** Set when this view may be the link's first and its creator asked to hear of it (`notify_on_view`). */
  notice?: FirstViewNotice;
};

/** Write a denial's event: `expired`, or `access_denied` with its reason. */
export type DenyJob = { kind: 'deny'; link: LedgerLink; reason: DenyReason; action: AccessAction; base: EventBase; now: number };

export type LedgerJob = CountJob | DenyJob;

export type CountResult =
  | {
      ok: true;
      viewCount: number;
      downloadCount: number;
      /** A mail was queued with this count (the first view's notice): wake the dispatcher. */
      queuedMail?: true;
    }
  | { ok: false; reason: DenyReason };

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

/** A denial's event; it names no viewer (a count that turned into a denial drops the one it had). */
const denialEvent = (reason: DenyReason, action: AccessAction, base: EventBase): EventInput =>
  reason === 'expired'
    ? { ...base, viewer: null, type: 'expired', reason, metadata: { action } }
    : { ...base, viewer: null, type: 'access_denied', reason, metadata: { action } };

const countedTypes = (job: CountJob): Array<'viewed' | 'downloaded'> => (job.view ? (job.download ? ['viewed', 'downloaded'] : ['viewed']) : ['downloaded']);

/** The events a count writes, chained on from the link's sequence number `seq` and last hash `prev`. */
function countedEvents(job: CountJob, seq: number, prev: string | null): AuditEvent[] {
  return countedTypes(job).map((type) => {
    const event = chainedEvent(job.link, ++seq, prev, { ...job.base, type, metadata: job.metadata }, job.now);
    prev = event.hash;
    return event;
  });
}

/**
 * The chain heads this ledger last wrote, by link: a hint for the next count
 * of the same link (a link viewed again before the lookup of its next view saw
 * the last one). Wrong hints cost a statement, never a wrong chain: the
 * conditional update checks the head. Forgotten wholesale when it grows large.
 */
export type HeadHints = Map<string, ExpectedHead>;
const MAX_HEAD_HINTS = 10_000;

/** The head to count on: the hint if it is newer than what the lookup read (sequence numbers only grow). */
function expectedHead(link: LedgerLink, hints: HeadHints | undefined): ExpectedHead | undefined {
  const hint = hints?.get(link.id);
  return hint && (!link.head || hint.seq > link.head.seq) ? hint : link.head;
}

function remember(hints: HeadHints | undefined, linkId: string, events: AuditEvent[]): void {
  if (!hints) return;
  if (hints.size >= MAX_HEAD_HINTS) hints.clear();
  const last = events[events.length - 1];
  hints.set(linkId, { seq: last.seq as number, hash: last.hash });
}

/**
 * Counts in one conditional update and chains the events in the same
 * transaction. When the update finds the link changed under it (revoked,
 * limit reached by a concurrent view…), a second read names the reason
 * through the same evaluator and the denial is written instead. In-process
 * (SQLite), the count is first tried on the head the lookup read (or the
 * hint), which saves the statement that moves the head.
 */
async function count(tx: Tx, job: CountJob, hints?: HeadHints): Promise<CountResult> {
  const { link, base, now } = job;
  const events = countedTypes(job).length;
  let counted: CountedOnHead | null = null;
  const head = hints ? expectedHead(link, hints) : undefined;
  if (head) {
    const chained = countedEvents(job, head.seq, head.hash);
    const c = await countOnHead(tx, countKind(job), { link, expected: head, events: chained, now });
    if (c) counted = { ...c, events: chained };
  }
  if (!counted) {
    const c = await countView(tx, link, { view: job.view, download: job.download, events }, now);
    if (c) {
      const chained = countedEvents(job, c.eventSeq - events, c.lastEventHash);
      await appendToChain(tx, link.id, chained);
      counted = { viewCount: c.viewCount, downloadCount: c.downloadCount, events: chained };
    }
  }
  if (counted) {
    remember(hints, link.id, counted.events);
    const result: CountResult = { ok: true, viewCount: counted.viewCount, downloadCount: counted.downloadCount };
    // The first view, and the creator asked to hear of it: told in the same transaction, or not at all.
    if (job.notice && job.view && counted.viewCount === 1 && (await queueFirstViewNotice(tx, link, job.notice, base, now))) result.queuedMail = true;
    return result;
  }
  const fresh = await findLinkById(tx, link.workspaceId, link.id);
  const decision = evaluateAccess({ action: job.action, now, identifierValid: true, rateLimited: false, link: fresh, grant: job.grant, password: job.password, emailCode: job.emailCode });
  // The row changed between read and write; if it now passes, it was the grant epoch: the grant is void.
  const reason: DenyReason = decision.allow ? 'forbidden' : decision.reason;
  if (fresh) await appendLinkEvent(tx, fresh, denialEvent(reason, job.action, base), now);
  return { ok: false, reason };
}

type CountedOnHead = { viewCount: number; downloadCount: number; events: AuditEvent[] };

/**
 * Where every statement is a round trip (PostgreSQL), a batch's counts are
 * first tried in one statement per kind, each on the chain head its lookup
 * read (countAndAppendMany): most views then cost no statement of their own
 * and no BEGIN or COMMIT. What it does not count (the link no longer passes,
 * its head moved, a second view of the same link in the batch, a denial)
 * runs in the batch's transaction as above. Never throws: a statement that
 * failed wrote nothing, and its jobs go to the transaction too.
 */
async function countInOneStatement(db: Db, jobs: LedgerJob[]): Promise<Array<{ value: CountResult } | undefined>> {
  const out: Array<{ value: CountResult } | undefined> = jobs.map(() => undefined);
  const seen = new Set<string>();
  const kinds = new Map<CountKind, Array<{ index: number; job: CountJob }>>();
  jobs.forEach((job, index) => {
    // A view that may be the link's first, with a notice to queue, takes the transaction path.
    if (job.kind !== 'count' || !job.link.head || job.notice || seen.has(job.link.id)) return;
    seen.add(job.link.id);
    const kind = countKind(job);
    const group = kinds.get(kind);
    if (group) group.push({ index, job });
    else kinds.set(kind, [{ index, job }]);
  });
  for (const [kind, group] of kinds) {
    const entries: BatchedCount[] = group.map(({ job }) => {
      const head = job.link.head as ExpectedHead;
      return { link: job.link, expected: head, events: countedEvents(job, head.seq, head.hash), now: job.now };
    });
    try {
      const counted = await countAndAppendMany(db, kind, entries);
      for (const { index, job } of group) {
        const c = counted.get(job.link.id);
        if (c) out[index] = { value: { ok: true, ...c } };
      }
    } catch {
      // Nothing of this statement was written: its jobs take the transaction path.
    }
  }
  return out;
}

/** Runs one job inside a transaction it shares with its batch. */
export async function recordJob(tx: Tx, job: LedgerJob, hints?: HeadHints): Promise<CountResult | null> {
  if (job.kind === 'count') return count(tx, job, hints);
  // A link deleted by retention since its lookup has no chain left to write the denial on.
  await appendLinkEventIfPresent(tx, job.link, denialEvent(job.reason, job.action, job.base), job.now);
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
  const committer = createGroupCommitter<LedgerJob>(db, {
    maxInFlight: opts.maxInFlight,
    maxBatch: 256,
    onBatch: opts.onBatch,
    settleFirst: runsInProcess(db) ? undefined : (jobs) => countInOneStatement(db, jobs),
  });
  // Where statements run in-process, a count first tries the head it expects (see count).
  const hints: HeadHints | undefined = runsInProcess(db) ? new Map() : undefined;
  const run = (job: LedgerJob) => committer.run(job.link.id, job, (tx) => recordJob(tx, job, hints));
  return { run, ...ledgerOver(run, () => committer.drain()) };
}
