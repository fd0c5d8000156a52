import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BroadcastChannel, Worker } from 'node:worker_threads';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery, SqliteAdapter, SqliteDialect, SqliteDriver, sql, type DatabaseConnection, type Driver, type Expression, type QueryResult, type RawBuilder } from 'kysely';
import { registerDirectRunner } from '../direct.js';

/**
 * Which connection this is. The server's `main` connection starts the
 * checkpointer thread; the ledger's `writer` thread, which writes the views,
 * finishes checkpoints between its commits; `standalone` (the CLI, a
 * database without a writer thread) does both.
 */
export type SqliteRole = 'main' | 'writer' | 'standalone';

export type SqliteOptions = {
  /** For a `writer`: the flags it shares with the `main` connection it writes beside (see `LockWait`, `startFinisher`). */
  sharedFlags?: SharedArrayBuffer;
  /** How long a write waits for the lock before failing with SQLITE_BUSY (default 5 s). */
  lockWaitMs?: number;
};

/**
 * Opens the embedded database: WAL, foreign keys on, writes that wait for the
 * lock without stalling the event loop (`LockWait`), and checkpoints moved off
 * the event loop. `stopCheckpoints` ends them (the database itself closes with
 * Kysely); `sharedFlags` is what the `main` connection shares with its writer thread.
 */
export function createSqliteDialect(
  file: string,
  role: SqliteRole = 'standalone',
  opts: SqliteOptions = {},
): { dialect: SqliteDialect; stopCheckpoints: () => Promise<void>; sharedFlags: SharedArrayBuffer | null } {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new Database(file);
  const lockWaitMs = opts.lockWaitMs ?? 5000;
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  // The event loop's connection waits for the lock itself, asynchronously; the others may block their thread.
  database.pragma(`busy_timeout = ${role === 'main' ? 0 : lockWaitMs}`);
  // The main connection makes the shared flags (see `Flag`); the writer thread is given them.
  const ownFlags = role === 'main' && file !== ':memory:' ? new SharedArrayBuffer(4 * FLAGS) : null;
  const flagBuffer = ownFlags ?? (role === 'writer' ? (opts.sharedFlags ?? null) : null);
  const flags = flagBuffer ? new Int32Array(flagBuffer) : null;
  const snapshot = new ReadSnapshot(database, role === 'main' ? flags : null);
  const stopCheckpoints = file === ':memory:' ? async () => {} : startCheckpoints(database, snapshot, file, role, lockWaitMs, flags);
  const cached = withStatementCache(database, snapshot);
  const locking: Locking =
    role === 'main' ? { kind: 'wait', wait: new LockWait(database, flags, lockWaitMs) } : flags ? { kind: 'yield', turn: flags, maxMs: lockWaitMs } : { kind: 'plain' };
  return { dialect: new DirectSqliteDialect(cached, database, snapshot, locking), stopCheckpoints, sharedFlags: ownFlags };
}

/**
 * What the `main` connection and its writer thread share, one Int32 each:
 * `Turn`, raised by main while it waits for the write lock or holds it (see
 * `LockWait`); `Restarting`, raised by the writer while its finishing
 * checkpoint waits for main's read snapshot to leave the WAL, and
 * `Snapshot`, raised by main while its turn's read snapshot is open (see
 * `startFinisher` and `ReadSnapshot`).
 */
const Flag = { Turn: 0, Restarting: 1, Snapshot: 2 } as const;
const FLAGS = 3;

/** Frames the writer's finishing checkpoint may be left to copy (see CHECKPOINTER). */
const FEW_FRAMES = 256;

/** A WAL file larger than this is given back to the file system once writes are quiet. */
const WAL_KEEP_BYTES = 64 * 1024 * 1024;

// Runs in a worker thread with its own connection: copies the WAL into the database file every
// half second, and says so on the file's channel. PASSIVE never waits for or blocks the writer.
// A pass that copied many frames took long enough for the writer to add many more: it is
// followed by another (up to 8), so that what the writer's finishing checkpoint has left to
// copy and sync, while views wait, is a few frames. At a million links, where each frame is a
// random write into a large file, the finisher stalled the writer 130-320 ms every time; with
// the passes, mostly under 55 ms (sometimes still 140-150), and the views' p99.9 went from
// 297-376 ms to 172-192 ms.
// Commits never truncate the WAL (see startCheckpoints): when writes are quiet (a tick added
// few frames, and all are copied) and the file is larger than it needs to stay, this thread
// truncates it, without waiting for anyone (busy_timeout 0: if a writer or reader is there, the
// next quiet tick will do).
const CHECKPOINTER = `
const { parentPort, workerData, BroadcastChannel } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 0');
const done = new BroadcastChannel(workerData.channel);
let lastLog = 0;
const walSize = () => { try { return statSync(workerData.file + '-wal').size; } catch { return 0; } };
const timer = setInterval(() => {
  try {
    let passes = 0;
    let before = 0;
    let r = { log: -1, checkpointed: -1 };
    for (let again = true; again && passes < 8; passes++) {
      const started = performance.now();
      [r] = db.pragma('wal_checkpoint(PASSIVE)');
      if (r.log < 0) break;
      // A restart of the WAL in between starts the count again.
      const copied = r.checkpointed >= before ? r.checkpointed - before : r.checkpointed;
      before = r.checkpointed;
      // Again if this pass copied many frames or took long (the writer went on meanwhile), or
      // if many were left behind (a reader's snapshot held them back: it may have moved on).
      again = copied > ${FEW_FRAMES} || r.log - r.checkpointed > ${FEW_FRAMES} || performance.now() - started >= 5;
    }
    done.postMessage({ passes });
    const added = r.log >= lastLog ? r.log - lastLog : r.log;
    lastLog = r.log;
    if (r.log >= 0 && added <= ${FEW_FRAMES} && r.log === r.checkpointed && walSize() > ${WAL_KEEP_BYTES}) {
      const [t] = db.pragma('wal_checkpoint(TRUNCATE)');
      if (t.busy === 0) { lastLog = 0; done.postMessage({ truncated: true }); }
    }
  } catch {}
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
function startCheckpoints(
  database: Database.Database,
  snapshot: ReadSnapshot,
  file: string,
  role: SqliteRole,
  lockWaitMs: number,
  flags: Int32Array | null,
): () => Promise<void> {
  database.pragma('wal_autocheckpoint = 0');
  // A commit never truncates the WAL: after a restart the file is written again from its start.
  // Truncating a WAL of a few hundred MB frees that much of the page cache, and the commit
  // that did it (journal_size_limit) stalled every view 36-186 ms. The checkpointer truncates
  // it instead, once writes are quiet.
  database.pragma('journal_size_limit = -1');
  const stops: Array<() => Promise<void>> = [];
  const channel = `porthole-checkpoints:${file}`;
  if (role !== 'writer') stops.push(startCheckpointer(file, channel));
  if (role !== 'main') stops.push(startFinisher(database, snapshot, channel, lockWaitMs, flags));
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

/** How long the writer's finishing checkpoint waits for readers to leave the WAL. */
const RESTART_WAIT_MS = 10;

/**
 * Under constant writes the checkpointer never catches up with the last
 * frame, and the WAL restarts only after a checkpoint that does. So every two
 * seconds the connection that writes, between its own transactions (messages
 * and timers never arrive inside one), finishes the job. It does so just after
 * the checkpointer has copied the WAL, when what is left is a few frames and
 * a sync of a few pages: its writes wait milliseconds, not the tens of
 * milliseconds a sync of two seconds' pages takes here.
 *
 * It is a RESTART checkpoint: it also waits for the readers still on the
 * WAL's frames to finish, so that the next commit starts the WAL again from
 * its beginning. The reader there is nearly always the event loop's snapshot
 * of the turn (`ReadSnapshot`), which on a busy server, ended, is at once
 * opened again. So first the `Restarting` flag tells the event loop to read
 * without one, the writer waits (at most RESTART_WAIT_MS) for the one open to
 * end, and the checkpoint then waits at most as long for any other reader
 * (an export's stream, another process). With a PASSIVE checkpoint, the restart
 * failed more often than not and the WAL grew to 120,000-180,000 frames
 * (500-700 MB) between restarts: every read the event loop makes searches the
 * WAL's index, and each restart then truncated hundreds of MB. Now the WAL
 * holds about two seconds of writes.
 */
function startFinisher(
  database: Database.Database,
  snapshot: ReadSnapshot,
  channel: string,
  lockWaitMs: number,
  flags: Int32Array | null,
): () => Promise<void> {
  const EVERY_MS = 2000;
  let last = Date.now();
  const finish = () => {
    last = Date.now();
    try {
      snapshot.end();
      if (flags) {
        Atomics.store(flags, Flag.Restarting, 1);
        Atomics.wait(flags, Flag.Snapshot, 1, RESTART_WAIT_MS);
      }
      database.pragma(`busy_timeout = ${RESTART_WAIT_MS}`);
      database.pragma('wal_checkpoint(RESTART)');
    } catch {
      // Busy or closed: the next round will do.
    } finally {
      if (flags) Atomics.store(flags, Flag.Restarting, 0);
      if (database.open) database.pragma(`busy_timeout = ${lockWaitMs}`);
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
    private readonly locking: Locking,
  ) {
    super({ database });
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.database }, this.locking);
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

/** How a connection's writes meet the other connections' (see `LockWait`). */
type Locking = { kind: 'wait'; wait: LockWait } | { kind: 'yield'; turn: Int32Array; maxMs: number } | { kind: 'plain' };

/**
 * Transactions take the write lock when they begin. Another connection (the
 * writer thread, the CLI) may commit between a deferred transaction's first
 * read and its first write, and SQLite then fails the write at once instead
 * of waiting; taken up front, the lock is waited for (see `LockWait`).
 */
class ImmediateSqliteDriver extends SqliteDriver {
  private wrapped: DatabaseConnection | null = null;
  constructor(
    config: ConstructorParameters<typeof SqliteDriver>[0],
    private readonly locking: Locking,
  ) {
    super(config);
  }
  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    if (this.locking.kind !== 'wait') return connection;
    return (this.wrapped ??= this.locking.wait.wrap(connection));
  }
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.locking.kind === 'yield') yieldTurn(this.locking.turn, this.locking.maxMs);
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * The event loop never waits for the write lock inside SQLite. With a busy
 * timeout, a write that meets the ledger's writer thread mid-commit sleeps in
 * SQLite's busy handler (1, 2, 5, 10… ms) with every request stalled behind
 * it: measured against a busy writer, p50 8 ms and p99 20 ms of frozen event
 * loop per management write. So this connection's busy timeout is 0, and a
 * statement refused for the lock outside a transaction (an autocommit write,
 * or the `begin immediate` of a transaction, so nothing has been done yet) is
 * tried again a millisecond later, the loop serving requests meanwhile, for up
 * to `timeoutMs`; then SQLITE_BUSY goes to the caller (a 503 `not_ready`).
 *
 * Retrying alone would lose to the writer thread, which begins its next
 * transaction microseconds after the last. So while this connection waits
 * for the lock, and until the transaction it got ends, it raises the turn
 * flag it shares with the writer, and the writer lets it go first (`yieldTurn`).
 */
class LockWait {
  private raised = false;
  constructor(
    private readonly database: Database.Database,
    private readonly flag: Int32Array | null,
    private readonly timeoutMs: number,
  ) {}
  wrap(connection: DatabaseConnection): DatabaseConnection {
    return {
      executeQuery: (query) => this.execute(connection, query),
      streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
    };
  }
  private async execute<R>(connection: DatabaseConnection, query: CompiledQuery): Promise<QueryResult<R>> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      let result: Promise<QueryResult<R>>;
      try {
        // better-sqlite3 runs the statement before this returns: the state read next is the statement's.
        result = connection.executeQuery<R>(query);
      } catch (e) {
        if (isBusy(e) && !this.database.inTransaction && Date.now() < deadline) {
          this.raise();
          await new Promise((resolve) => setTimeout(resolve, 1));
          continue;
        }
        if (!this.database.inTransaction) this.lower();
        throw e;
      }
      if (!this.database.inTransaction) this.lower();
      return result;
    }
  }
  private raise(): void {
    if (this.raised || !this.flag) return;
    this.raised = true;
    Atomics.store(this.flag, Flag.Turn, 1);
  }
  private lower(): void {
    if (!this.raised || !this.flag) return;
    this.raised = false;
    Atomics.store(this.flag, Flag.Turn, 0);
    Atomics.notify(this.flag, Flag.Turn);
  }
}

/** On the writer thread, before it takes the lock: while the event loop waits for it or holds it, wait (at most `maxMs`). */
function yieldTurn(flag: Int32Array, maxMs: number): void {
  const until = Date.now() + maxMs;
  for (let v = Atomics.load(flag, Flag.Turn); v !== 0; v = Atomics.load(flag, Flag.Turn)) {
    const left = until - Date.now();
    if (left <= 0) return;
    Atomics.wait(flag, Flag.Turn, v, left);
  }
}

/** SQLITE_BUSY and its extended codes: another connection held the lock past the wait. */
export const isBusy = (e: unknown): boolean => String((e as { code?: unknown } | null)?.code ?? '').startsWith('SQLITE_BUSY');

/**
 * Outside a transaction, every SQLite statement takes and drops the file's
 * read locks and checks the WAL: a handful of system calls, dearer here than
 * the lookup itself (about 8 of a 10 µs indexed read). The hot path's reads
 * that arrive in one turn of the event loop share one read transaction
 * instead, ended before the turn is over (setImmediate), so they see what was
 * committed before the turn's first read, as reads run back to back would.
 * Anything else on the connection (a write, a transaction, a pragma) ends it
 * first, so it never holds up or swallows a write, and a request's own
 * writes are seen by the reads after them. While the writer thread waits to
 * restart the WAL (`flags`), reads go without one, each its own.
 */
export class ReadSnapshot {
  private open = false;
  private readonly beginStmt: Database.Statement;
  private readonly commitStmt: Database.Statement;
  constructor(
    private readonly database: Database.Database,
    private readonly flags: Int32Array | null = null,
  ) {
    this.beginStmt = database.prepare('begin');
    this.commitStmt = database.prepare('commit');
  }
  /** Before a direct read: inside a transaction it takes part in it; otherwise in this turn's snapshot. */
  join(): void {
    if (this.open || this.database.inTransaction) return;
    if (this.flags && Atomics.load(this.flags, Flag.Restarting) !== 0) return;
    this.beginStmt.run();
    this.open = true;
    if (this.flags) Atomics.store(this.flags, Flag.Snapshot, 1);
    setImmediate(this.end);
  }
  /** Before anything else runs on the connection. */
  readonly end = (): void => {
    if (!this.open) return;
    this.open = false;
    if (this.database.inTransaction && this.database.open) this.commitStmt.run();
    if (this.flags) {
      Atomics.store(this.flags, Flag.Snapshot, 0);
      // A writer waiting for this (it raised Restarting first) is woken; otherwise no call.
      if (Atomics.load(this.flags, Flag.Restarting) !== 0) Atomics.notify(this.flags, Flag.Snapshot);
    }
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

/** The UTC day of epoch milliseconds as days since 1970: integer division (the column holds integers; none before 1970). */
export const dayOf = (column: Expression<number>): RawBuilder<number> => sql<number>`(cast(${column} as integer) / 86400000)`;

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
