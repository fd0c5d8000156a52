/**
 * Throttles clients that keep guessing: after `limit` misses (malformed or
 * unknown identifiers) within `windowMs`, a client is refused until its window ends.
 * In memory per instance; with REDIS_URL, shared-limits.ts shares it between instances.
 */
export type MissLimiter = {
  /** Seconds to wait when the client is over its limit, else 0. */
  retryAfter(client: string, now: number): number;
  recordMiss(client: string, now: number): void;
};

export function createMemoryMissLimiter(opts: { limit: number; windowMs: number }): MissLimiter {
  const windows = new Map<string, { start: number; misses: number }>();
  const current = (client: string, now: number) => {
    const w = windows.get(client);
    if (!w || now - w.start >= opts.windowMs) return null;
    return w;
  };
  return {
    retryAfter(client, now) {
      const w = current(client, now);
      return w && w.misses >= opts.limit ? Math.max(1, Math.ceil((w.start + opts.windowMs - now) / 1000)) : 0;
    },
    recordMiss(client, now) {
      const w = current(client, now);
      if (w) w.misses++;
      else {
        // Bounded memory: forget the oldest windows when many clients miss at once.
        if (windows.size >= 100_000) windows.delete(windows.keys().next().value as string);
        windows.set(client, { start: now, misses: 1 });
      }
    },
  };
}
