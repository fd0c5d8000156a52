import type { Db, Tx } from './database.js';

type Job<T, D> = { key: string; item: D; work: (tx: Tx) => Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void };

export type GroupCommitter<D> = {
  /**
   * Runs `work` inside a transaction shared with other concurrent jobs;
   * resolves after the commit. `item` is what `settleFirst` sees of the job.
   */
  run<T>(key: string, item: D, work: (tx: Tx) => Promise<T>): Promise<T>;
  /** Waits until nothing is queued or running. */
  drain(): Promise<void>;
};

/**
 * Group commit: concurrent writes that arrive while a transaction is being
 * written are batched into the next one, so N views cost one commit instead
 * of N, and no caller hears "done" before its write is committed.
 * Jobs in a batch run in key order so concurrent batches lock rows in the
 * same order. If a batch fails, each of its jobs is retried alone so one bad
 * job cannot fail its neighbours. Where a round trip costs more than the work
 * (PostgreSQL), `settleFirst` may settle most of a batch in one statement.
 */
export type GroupCommitOptions<D> = {
  maxInFlight: number;
  maxBatch: number;
  onBatch?: (size: number) => void;
  /**
   * Settles what it can of a batch, before and outside its transaction (each
   * outcome it returns must already be committed); the jobs it leaves
   * (undefined) run in the transaction. If it throws, it must have written
   * nothing, and every job runs in the transaction.
   */
  settleFirst?: (items: D[]) => Promise<Array<{ value: unknown } | undefined>>;
};

export function createGroupCommitter<D>(db: Db, opts: GroupCommitOptions<D>): GroupCommitter<D> {
  let queue: Job<any, D>[] = [];
  let inFlight = 0;
  let idle: Array<() => void> = [];

  /** The jobs `settleFirst` did not settle. */
  const settleFirst = async (batch: Job<any, D>[]): Promise<Job<any, D>[]> => {
    if (!opts.settleFirst) return batch;
    let settled: Array<{ value: unknown } | undefined>;
    try {
      settled = await opts.settleFirst(batch.map((job) => job.item));
    } catch {
      return batch;
    }
    return batch.filter((job, i) => {
      const outcome = settled[i];
      if (outcome) job.resolve(outcome.value);
      return !outcome;
    });
  };

  const runBatch = async (all: Job<any, D>[]) => {
    opts.onBatch?.(all.length);
    all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const batch = await settleFirst(all);
    if (batch.length === 0) return;
    try {
      const results = await db.transaction().execute(async (tx) => {
        const out: unknown[] = [];
        for (const job of batch) out.push(await job.work(tx));
        return out;
      });
      batch.forEach((job, i) => job.resolve(results[i]));
    } catch (batchError) {
      if (batch.length === 1) {
        batch[0].reject(batchError);
        return;
      }
      for (const job of batch) {
        try {
          job.resolve(await db.transaction().execute((tx) => job.work(tx)));
        } catch (e) {
          job.reject(e);
        }
      }
    }
  };

  const pump = () => {
    while (inFlight < opts.maxInFlight && queue.length > 0) {
      const batch = queue.slice(0, opts.maxBatch);
      queue = queue.slice(batch.length);
      inFlight++;
      void runBatch(batch).finally(() => {
        inFlight--;
        if (queue.length > 0) pump();
        else if (inFlight === 0) {
          const waiters = idle;
          idle = [];
          for (const w of waiters) w();
        }
      });
    }
  };

  return {
    run(key, item, work) {
      return new Promise((resolve, reject) => {
        queue.push({ key, item, work, resolve, reject });
        // Let the requests already in this turn of the event loop join the batch.
        if (queue.length === 1 && inFlight < opts.maxInFlight) setImmediate(pump);
      });
    },
    drain() {
      if (queue.length === 0 && inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
  };
}
