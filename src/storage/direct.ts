/**
 * A dialect may offer to run an already compiled query itself, skipping the
 * query executor's per-call machinery (SQLite runs it synchronously on its one
 * connection, inside whatever transaction that connection is in). Keyed by the
 * Kysely adapter, which one database instance and all its transactions share.
 */
export type DirectRunner = (sql: string, parameters: readonly unknown[]) => unknown[];

const runners = new WeakMap<object, DirectRunner>();

export function registerDirectRunner(adapter: object, run: DirectRunner): void {
  runners.set(adapter, run);
}

export function directRunnerFor(adapter: object): DirectRunner | undefined {
  return runners.get(adapter);
}

const fixed = new Set<string>();

/**
 * The SQL of the hot path's prepared queries (see `prepared.ts`): a few texts
 * that never vary, so a database with server-side prepared statements can
 * keep them parsed and planned per connection.
 */
export function registerFixedStatement(sqlText: string): void {
  fixed.add(sqlText);
}

export function isFixedStatement(sqlText: string): boolean {
  return fixed.has(sqlText);
}
