import { Worker } from 'node:worker_threads';
import { LEDGER_CLOSED, ledgerOver, type CountResult, type LedgerJob, type PublicLedger } from './public-ledger.js';

/** What the writer thread is started with: the file, and the main connection's turn flag (see `LockWait`). */
export type LedgerWorkerData = { file: string; sharedFlags?: SharedArrayBuffer };

/** Main thread → writer: jobs to run. Writer → main: their outcomes, and the sizes of the commits it made. */
export type LedgerRequest = { jobs: Array<{ id: number; job: LedgerJob }> };
export type LedgerReply = {
  results: Array<{ id: number; ok: true; value: CountResult | null } | { id: number; ok: false; error: { message: string; code?: string } }>;
  batches: number[];
};

// Compiled code runs the compiled worker beside it; the test runner, reading sources, runs the build's.
const workerUrl = new URL(import.meta.url.endsWith('.ts') ? '../../dist/app/ledger-worker.js' : './ledger-worker.js', import.meta.url);

/**
 * Views arrive in bursts (the answers of one commit go out together, and
 * their clients come back together), and the event loop takes a few
 * milliseconds to look a burst up. Sending its jobs every few instead of at
 * the end lets the writer begin committing while the rest is looked up: about
 * 8% more views a second in the bench, for a few more, smaller messages.
 */
const SEND_EARLY_AT = 8;

/**
 * The ledger on a writer thread with its own SQLite connection: the views'
 * updates, event inserts and commits leave the event loop, which keeps
 * reading and answering meanwhile. Jobs arriving in one turn of the loop
 * travel in a few messages and are committed together when they can be. The thread starts at
 * once (its memory is there from the start, not on the first view), again
 * with the next job if it ever dies, and stops on close.
 */
export function threadedLedger(
  file: string,
  opts: { onBatch?: (size: number) => void; sharedFlags?: SharedArrayBuffer | null; /** Told of each writer thread started (tests stop one to see the next take over). */ onStart?: (worker: Worker) => void } = {},
): PublicLedger {
  let worker: Worker | null = null;
  let nextId = 1;
  let outbox: LedgerRequest['jobs'] = [];
  const pending = new Map<number, { resolve: (v: CountResult | null) => void; reject: (e: unknown) => void }>();
  let idle: Array<() => void> = [];
  let closed = false;

  const settled = () => {
    if (pending.size > 0) return;
    const waiters = idle;
    idle = [];
    for (const w of waiters) w();
  };

  // The thread died: what it was sent is lost with it (each job either committed before, or not at
  // all), and fails. What was not sent yet stays queued for the next thread: failing it here while
  // it is sent afterwards would count views whose answer said they failed.
  const failAll = (error: unknown) => {
    worker = null;
    const unsent = new Set(outbox.map((j) => j.id));
    for (const [id, p] of pending) {
      if (unsent.has(id)) continue;
      p.reject(error);
      pending.delete(id);
    }
    settled();
  };

  const start = (): Worker => {
    const w = new Worker(workerUrl, { workerData: { file, sharedFlags: opts.sharedFlags ?? undefined } satisfies LedgerWorkerData });
    w.on('message', (reply: LedgerReply) => {
      for (const size of reply.batches) opts.onBatch?.(size);
      for (const r of reply.results) {
        const p = pending.get(r.id);
        if (!p) continue;
        pending.delete(r.id);
        if (r.ok) p.resolve(r.value);
        else p.reject(Object.assign(new Error(r.error.message), { code: r.error.code }));
      }
      settled();
    });
    w.on('error', failAll);
    w.on('exit', (code) => {
      if (worker === w) failAll(new Error(`the ledger's writer thread stopped (exit ${code})`));
    });
    opts.onStart?.(w);
    return w;
  };

  const flush = () => {
    const jobs = outbox;
    outbox = [];
    if (jobs.length === 0) return;
    try {
      (worker ??= start()).postMessage({ jobs } satisfies LedgerRequest);
    } catch (e) {
      // A job that cannot be copied to the thread fails alone, with its batch, not the process.
      for (const { id } of jobs) {
        pending.get(id)?.reject(e);
        pending.delete(id);
      }
      settled();
    }
  };

  const run = (job: LedgerJob) =>
    new Promise<CountResult | null>((resolve, reject) => {
      if (closed) return reject(Object.assign(new Error('the ledger is closed'), { code: LEDGER_CLOSED }));
      const id = nextId++;
      pending.set(id, { resolve, reject });
      outbox.push({ id, job });
      if (outbox.length === 1) setImmediate(flush);
      else if (outbox.length >= SEND_EARLY_AT) flush();
    });

  worker = start();

  return ledgerOver(run, async () => {
    closed = true;
    flush();
    if (pending.size > 0) await new Promise<void>((resolve) => idle.push(resolve));
    const w = worker;
    worker = null;
    if (!w) return;
    await new Promise<void>((resolve) => {
      w.once('exit', () => resolve());
      w.postMessage('close');
    });
  });
}
