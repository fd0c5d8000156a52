import type { CleanupCounts } from './run-cleanup.js';

/** The scheduled cleanup of a server: what it reports to whoever logs. */
export type CleanupSchedule = {
  /** Set by whoever logs (the HTTP layer): a run that failed; the next one is tried as planned. */
  onFailure: (error: unknown) => void;
  /** Set by whoever logs: what a run deleted. */
  onDone: (counts: CleanupCounts) => void;
  /** Stops the timer, and a run under way at its next transaction, and waits for it to stop. */
  close(): Promise<void>;
};

/**
 * Runs `run` once `firstDelayMs` after start (a minute), then every
 * `intervalMs` (an hour), on unref'd timers: a pending run never keeps the
 * process alive, and a failed one is reported, never thrown. Runs never
 * overlap; closing stops the one under way through its signal. `enabled:
 * false` plans none (the hooks and close() still work).
 */
export function startCleanupSchedule(
  run: (signal: AbortSignal) => Promise<CleanupCounts>,
  opts: { firstDelayMs?: number; intervalMs?: number; enabled?: boolean } = {},
): CleanupSchedule {
  let closed = false;
  const stop = new AbortController();
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  const plan = (ms: number) => {
    if (closed) return;
    timer = setTimeout(tick, ms);
    timer.unref();
  };
  const tick = () => {
    running = run(stop.signal)
      .then(
        (counts) => schedule.onDone(counts),
        (e: unknown) => schedule.onFailure(e),
      )
      // A hook that throws must not take the process down either.
      .catch(() => {})
      .finally(() => {
        running = null;
        plan(opts.intervalMs ?? 3_600_000);
      });
  };
  const schedule: CleanupSchedule = {
    onFailure: () => {},
    onDone: () => {},
    async close() {
      closed = true;
      stop.abort();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
  if (opts.enabled !== false) plan(opts.firstDelayMs ?? 60_000);
  return schedule;
}
