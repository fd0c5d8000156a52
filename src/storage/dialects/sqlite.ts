import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BroadcastChannel, Worker } from 'node:worker_threads';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery, SqliteAdapter, SqliteDialect, SqliteDriver, sql, type DatabaseConnection, type Driver, type Expression, type RawBuilder } from 'kysely';
import { registerDirectRunner } from '../direct.js';

/**
 * Which connection this is. The server's `main` connection starts the
 * checkpointer thread; the ledger's `writer` thread, which writes the views,
 * finishes checkpoints between its commits; `standalone` (the CLI, a
 * database without a writer thread) does both.
 */
export type SqliteRole = 'main' | 'writer' | 'standalone';

/**
 * Opens the embedded database: WAL, foreign keys on, a busy timeout for the
 * other connections (the writer thread, the CLI), and checkpoints moved off
 * the event loop. `stopCheckpoints` ends them (the database itself closes with Kysely).
 */
export function createSqliteDialect(file: string, role: SqliteRole = 'standalone'): { dialect: SqliteDialect; stopCheckpoints: () => Promise<void> } {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const snapshot = new ReadSnapshot(database);
  const stopCheckpoints = file === ':memory:' ? async () => {} : startCheckpoints(database, snapshot, file, role);
  const cached = withStatementCache(database, snapshot);
  return { dialect: new DirectSqliteDialect(cached, database, snapshot), stopCheckpoints };
}

// Runs in a worker thread with its own connection: copies the WAL into the database file every
// half second, and says so on the file's channel. PASSIVE never waits for or blocks the writer.
const CHECKPOINTER = `
const { parentPort, workerData, BroadcastChannel } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 0');
const done = new BroadcastChannel(workerData.channel);
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); done.postMessage('checkpointed'); } catch {}
}, 500);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  done.close();
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  db.close();
  parentPort.postMessage('stopped');
});
`;

/**
 * SQLite checkpoints the WAL on the committing connection every 1,000 pages,
 * and with synchronous=NORMAL a checkpoint syncs the file: on the server's
 * one thread that stalls every request behind it. A worker thread does it
 * instead; the connections' own automatic checkpoints are switched off.
 */
function startCheckpoints(database: Database.Database, snapshot: ReadSnapshot, file: string, role: SqliteRole): () => Promise<void> {
  database.pragma('wal_autocheckpoint = 0');
  // After a restart, give back what a burst grew the WAL to, beyond 64 MB.
  database.pragma('journal_size_limit = 67108864');
  const stops: Array<() => Promise<void>> = [];
  const channel = `porthole-checkpoints:${file}`;
  if (role !== 'writer') stops.push(startCheckpointer(file, channel));
  if (role !== 'main') stops.push(startFinisher(database, snapshot, channel));
  let stopped: Promise<void> | undefined;
  return () => (stopped ??= Promise.all(stops.map((stop) => stop())).then(() => undefined));
}

function startCheckpointer(file: string, channel: string): () => Promise<void> {
  const worker = new Worker(CHECKPOINTER, { eval: true, workerData: { file, channel, driver: createRequire(import.meta.url).resolve('better-sqlite3') } });
  worker.unref();
  return () =>
    new Promise<void>((resolve) => {
      const done = () => resolve();
      worker.once('message', () => void worker.terminate().then(done, done));
      worker.once('error', done);
      worker.once('exit', done);
      worker.postMessage('stop');
    });
}

/**
 * Under constant writes the checkpointer never catches up with the last
 * frame, and the WAL restarts only after a checkpoint that does. So every two
 * seconds the connection that writes, between its own transactions (messages
 * and timers never arrive inside one), finishes the job. It does so just after
 * the checkpointer has copied the WAL, when what is left is a few frames and
 * a sync of a few pages: its writes wait milliseconds, not the tens of
 * milliseconds a sync of two seconds' pages takes here.
 */
function startFinisher(database: Database.Database, snapshot: ReadSnapshot, channel: string): () => Promise<void> {
  const EVERY_MS = 2000;
  let last = Date.now();
  const finish = () => {
    last = Date.now();
    try {
      snapshot.end();
      database.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or closed: the next round will do.
    }
  };
  const checkpointed = new BroadcastChannel(channel);
  checkpointed.onmessage = () => {
    if (Date.now() - last >= EVERY_MS) finish();
  };
  checkpointed.unref();
  // Without a checkpointer in this process (it stopped, or never started), finish alone.
  const fallback = setInterval(() => {
    if (Date.now() - last >= 3 * EVERY_MS) finish();
  }, EVERY_MS);
  fallback.unref();
  return async () => {
    clearInterval(fallback);
    checkpointed.close();
  };
}

/**
 * The SQLite dialect, registering a direct runner for prepared hot-path
 * queries: better-sqlite3 is synchronous, so a compiled query can run on the
 * connection at once, without the executor's connection acquisition and
 * promise chain. On the one connection, a statement run this way takes part in
 * whatever transaction is open, as it would through Kysely.
 */
class DirectSqliteDialect extends SqliteDialect {
  constructor(
    private readonly database: Database.Database,
    private readonly uncached: Database.Database,
    private readonly snapshot: ReadSnapshot,
  ) {
    super({ database });
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.database });
  }
  override createAdapter(): SqliteAdapter {
    const adapter = super.createAdapter() as SqliteAdapter;
    const statements = new Map<string, DirectStatement>();
    registerDirectRunner(adapter, (sqlText, parameters) => {
      let entry = statements.get(sqlText);
      if (!entry) {
        entry = directStatement(this.uncached.prepare(sqlText));
        statements.set(sqlText, entry);
      }
      if (entry.reader) this.snapshot.join();
      else this.snapshot.end();
      return entry.run(parameters as unknown[]);
    });
    return adapter;
  }
}

/**
 * Transactions take the write lock when they begin. Another connection (the
 * writer thread, the CLI) may commit between a deferred transaction's first
 * read and its first write, and SQLite then fails the write at once instead
 * of waiting; taken up front, the lock is waited for under busy_timeout.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * Outside a transaction, every SQLite statement takes and drops the file's
 * read locks and checks the WAL: a handful of system calls, dearer here than
 * the lookup itself (about 8 of a 10 µs indexed read). The hot path's reads
 * that arrive in one turn of the event loop share one read transaction
 * instead, ended before the turn is over (setImmediate), so they see what was
 * committed before the turn's first read, as reads run back to back would.
 * Anything else on the connection (a write, a transaction, a pragma) ends it
 * first, so it never holds up or swallows a write, and a request's own
 * writes are seen by the reads after them.
 */
export class ReadSnapshot {
  private open = false;
  private readonly beginStmt: Database.Statement;
  private readonly commitStmt: Database.Statement;
  constructor(private readonly database: Database.Database) {
    this.beginStmt = database.prepare('begin');
    this.commitStmt = database.prepare('commit');
  }
  /** Before a direct read: inside a transaction it takes part in it; otherwise in this turn's snapshot. */
  join(): void {
    if (this.open || this.database.inTransaction) return;
    this.beginStmt.run();
    this.open = true;
    setImmediate(this.end);
  }
  /** Before anything else runs on the connection. */
  readonly end = (): void => {
    if (!this.open) return;
    this.open = false;
    if (this.database.inTransaction && this.database.open) this.commitStmt.run();
  };
}

type DirectStatement = { reader: boolean; run: (parameters: unknown[]) => unknown[] };

/**
 * Runs one of the few hot-path statements. Rows come back as arrays (building
 * an object a column at a time costs better-sqlite3 more than the lookup
 * itself) and become objects through a literal compiled from the column
 * names, so callers see the same rows Kysely would give them. These
 * statements are kept apart from the shared cache, as `raw` changes them.
 */
function directStatement(stmt: Database.Statement): DirectStatement {
  if (!stmt.reader) {
    return {
      reader: false,
      run: (parameters) => {
        stmt.run(parameters);
        return [];
      },
    };
  }
  stmt.raw(true);
  const names = stmt.columns().map((c) => c.name);
  // Keys come from our own SQL; JSON.stringify quotes them. A repeated name keeps the last value, as object rows do.
  const toRow = new Function('v', `return {${names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`).join(', ')}};`) as (v: unknown[]) => unknown;
  return {
    reader: true,
    run: (parameters) => {
      const rows = stmt.all(parameters) as unknown[][];
      return rows.map(toRow);
    },
  };
}

/**
 * Kysely prepares every query afresh; preparing costs as much as running a
 * small statement. Queries are built from a fixed set of shapes, so their
 * prepared statements are kept (bounded, least recently used dropped first).
 */
function withStatementCache(database: Database.Database, snapshot: ReadSnapshot, max = 500): Database.Database {
  const cache = new Map<string, Database.Statement>();
  // Kysely runs what it prepares at once: the turn's read snapshot ends first.
  const prepare = (sqlText: string): Database.Statement => {
    snapshot.end();
    let stmt = cache.get(sqlText);
    if (stmt) {
      cache.delete(sqlText);
    } else {
      stmt = database.prepare(sqlText);
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
    }
    cache.set(sqlText, stmt);
    return stmt;
  };
  return new Proxy(database, {
    get(target, prop, receiver) {
      if (prop === 'prepare') return prepare;
      if (prop === 'close' || prop === 'exec' || prop === 'pragma') snapshot.end();
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** `fields->>key` on a JSON text column, as text the way PostgreSQL's `->>` gives it (true, 3, 2.5). */
export function jsonText(column: Expression<string>, key: string): RawBuilder<string | null> {
  const path = '$.' + JSON.stringify(key);
  return sql<string | null>`(case json_type(${column}, ${path}) when 'true' then 'true' when 'false' then 'false' else cast(json_extract(${column}, ${path}) as text) end)`;
}

// SQLite names the columns, not the constraint: map them back to the constraint names used in migrations.
const sqliteConstraints: Record<string, string> = {
  'users.email': 'users_email_key',
  'api_keys.key_hash': 'api_keys_key_hash_key',
  'links.token_hash': 'links_token_hash_key',
  'links.short_code_hash': 'links_short_code_hash_key',
  'members.workspace_id, members.user_id': 'members_pkey',
  'resources.workspace_id, resources.type, resources.id': 'resources_pkey',
  'resource_versions.workspace_id, resource_versions.type, resource_versions.resource_id, resource_versions.version':
    'resource_versions_pkey',
};

/** The unique constraint a SQLite error violated, if any. */
export function violatedConstraint(e: unknown): string | null {
  const err = e as { code?: string; message?: string };
  if (err?.code !== 'SQLITE_CONSTRAINT_UNIQUE' && err?.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return null;
  const cols = /constraint failed: (.+)$/.exec(err.message ?? '')?.[1] ?? '';
  return sqliteConstraints[cols] ?? 'unknown_unique';
}
