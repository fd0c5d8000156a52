import { join } from 'node:path';
import { Kysely, type Expression, type RawBuilder, type Transaction } from 'kysely';
import type { DB } from './schema.js';
import * as sqlite from './dialects/sqlite.js';
import * as postgres from './dialects/postgres.js';

export type DialectName = 'sqlite' | 'postgres';
export type Db = Kysely<DB>;
export type Tx = Transaction<DB>;
export type Executor = Db | Tx;

/** The database and the few helpers whose SQL differs per dialect. */
export type Database = {
  db: Db;
  dialect: DialectName;
  /** The SQLite file (null for PostgreSQL and in-memory databases): a writer thread opens it too. */
  file: string | null;
  /** For the writer thread on `file`: the flags it shares with this connection (its write turn, the WAL's restart; see dialects/sqlite.ts). */
  sharedFlags: SharedArrayBuffer | null;
  /** The text value of a key of a JSON text column. */
  jsonText(column: Expression<string>, key: string): RawBuilder<string | null>;
  /** The UTC day of an epoch-milliseconds column, as whole days since 1970-01-01 (an integer, for GROUP BY). */
  dayOf(column: Expression<number>): RawBuilder<number>;
  close(): Promise<void>;
};

/**
 * The unique constraint a database error violated, by the constraint names of
 * the migrations, or null for any other error. Each driver is recognised by its own error codes.
 */
export function violatedConstraint(e: unknown): string | null {
  return sqlite.violatedConstraint(e) ?? postgres.violatedConstraint(e);
}

/**
 * Why the database could not take a statement for a moment, not a failure of
 * the request: `busy` (a lock stayed taken past the wait: SQLite's by the CLI
 * or a long transaction, a PostgreSQL row held by another session) or `lost` (PostgreSQL's connection dropped or could not
 * be made: a failover, a restart). Null for any other error.
 */
export function unavailable(e: unknown): 'busy' | 'lost' | null {
  if (sqlite.isBusy(e) || postgres.lockTimedOut(e)) return 'busy';
  return postgres.connectionLost(e) ? 'lost' : null;
}

export type DatabaseOptions = { databaseUrl?: string; dataDir: string; sqliteFile?: string; sqliteRole?: sqlite.SqliteRole } & sqlite.SqliteOptions;

/** Opens PostgreSQL when a URL is given, otherwise SQLite at `<dataDir>/porthole.db`. */
export function openDatabase(opts: DatabaseOptions): Database {
  if (opts.databaseUrl) {
    const { dialect, pool } = postgres.createPostgresDialect(opts.databaseUrl, { lockWaitMs: opts.lockWaitMs });
    const db = new Kysely<DB>({ dialect });
    return {
      db,
      dialect: 'postgres',
      file: null,
      sharedFlags: null,
      jsonText: postgres.jsonText,
      dayOf: postgres.dayOf,
      close: async () => {
        await db.destroy();
        void pool;
      },
    };
  }
  const file = opts.sqliteFile ?? join(opts.dataDir, 'porthole.db');
  const { dialect, stopCheckpoints, sharedFlags } = sqlite.createSqliteDialect(file, opts.sqliteRole, opts);
  const db = new Kysely<DB>({ dialect });
  return {
    db,
    dialect: 'sqlite',
    file: file === ':memory:' ? null : file,
    sharedFlags,
    jsonText: sqlite.jsonText,
    dayOf: sqlite.dayOf,
    close: async () => {
      await stopCheckpoints();
      await db.destroy();
    },
  };
}
