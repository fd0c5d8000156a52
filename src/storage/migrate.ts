import { Migrator, SqliteAdapter, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database.js';
import * as m0001 from './migrations/0001-initial.js';
import * as m0002 from './migrations/0002-recipients.js';
import * as m0003 from './migrations/0003-retention.js';
import * as m0004 from './migrations/0004-analytics.js';
import * as m0005 from './migrations/0005-workspace-chain.js';

const migrations: Record<string, Migration> = {
  '0001-initial': m0001,
  '0002-recipients': m0002,
  '0003-retention': m0003,
  '0004-analytics': m0004,
  '0005-workspace-chain': m0005,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

const migratorOf = (db: Db) => new Migrator({ db, provider, migrationTableName: 'porthole_migrations', migrationLockTableName: 'porthole_migrations_lock' });

/**
 * Runs every pending migration, all of them or none: throws with the failing
 * migration's error, having changed nothing. On PostgreSQL, Kysely takes a
 * lock and runs them in one transaction. On SQLite it takes neither (it
 * assumes one connection), so two processes starting at once raced each
 * other ("table already exists"), and a migration that failed half-way left
 * its first tables behind; here they run in one transaction that takes the
 * write lock first (`begin immediate`), so a second process waits, then finds
 * nothing left to do.
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const run = async () => {
    const { error, results } = await migratorOf(db).migrateToLatest();
    if (error) throw error;
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  };
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return run();
  await sql`begin immediate`.execute(db);
  try {
    const done = await run();
    await sql`commit`.execute(db);
    return done;
  } catch (e) {
    await sql`rollback`.execute(db).catch(() => {});
    throw e;
  }
}

/** The migrations this version has that the database has not run yet, in order (all of them for an empty database). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  return (await migratorOf(db).getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/** Migrates up (or down) to the named migration: for tests of a migration on data written before it. */
export async function migrateTo(db: Db, name: string): Promise<void> {
  const { error } = await migratorOf(db).migrateTo(name);
  if (error) throw error;
}
