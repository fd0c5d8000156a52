import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database.js';
import * as m0001 from './migrations/0001-initial.js';
import * as m0002 from './migrations/0002-recipients.js';
import * as m0003 from './migrations/0003-retention.js';
import * as m0004 from './migrations/0004-analytics.js';

const migrations: Record<string, Migration> = {
  '0001-initial': m0001,
  '0002-recipients': m0002,
  '0003-retention': m0003,
  '0004-analytics': m0004,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Runs every pending migration; throws with the failing migration's error. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider, migrationTableName: 'porthole_migrations', migrationLockTableName: 'porthole_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
