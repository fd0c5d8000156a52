import type { Compilable, CompiledQuery } from 'kysely';
import type { Executor } from './database.js';
import { directRunnerFor, registerFixedStatement } from './direct.js';

const SENTINEL = '\u0000porthole-param:';

type Slot = { name: string } | { value: unknown };

/**
 * A query built once per dialect and then run with new parameters, skipping
 * Kysely's build-and-compile step on every call. For the public hot path only.
 * The builder receives stand-in values: it must use each parameter as a value
 * (never branch on it), so the compiled SQL is the same for every call.
 */
export function preparedQuery<P extends Record<string, unknown>, R>(
  names: ReadonlyArray<keyof P & string>,
  build: (db: Executor, p: { [K in keyof P]: P[K] }) => Compilable<R>,
): (db: Executor, params: P) => Promise<R[]> {
  // The adapter is the dialect's: one compiled form per dialect, shared by transactions.
  const byAdapter = new WeakMap<object, { compiled: CompiledQuery<R>; slots: Slot[] }>();
  const standIns = Object.fromEntries(names.map((n) => [n, `${SENTINEL}${n}`])) as unknown as { [K in keyof P]: P[K] };
  return async (db, params) => {
    const adapter = db.getExecutor().adapter as object;
    let entry = byAdapter.get(adapter);
    if (!entry) {
      const compiled = build(db, standIns).compile();
      const slots = compiled.parameters.map((v): Slot =>
        typeof v === 'string' && v.startsWith(SENTINEL) ? { name: v.slice(SENTINEL.length) } : { value: v },
      );
      entry = { compiled, slots };
      byAdapter.set(adapter, entry);
      registerFixedStatement(compiled.sql);
    }
    const parameters = entry.slots.map((s) => ('name' in s ? params[s.name] : s.value));
    const direct = directRunnerFor(adapter);
    if (direct) return direct(entry.compiled.sql, parameters) as R[];
    const result = await db.executeQuery<R>({ ...entry.compiled, parameters });
    return result.rows;
  };
}

/** True where statements run in-process (SQLite): no round trip to save by merging them. */
export function runsInProcess(db: Executor): boolean {
  return directRunnerFor(db.getExecutor().adapter as object) !== undefined;
}
