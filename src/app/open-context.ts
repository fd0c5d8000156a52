import type { Config } from '../config/config.js';
import { resolveSecret } from '../config/secret.js';
import { createSecretBox } from '../domain/tokens.js';
import { openDatabase } from '../storage/database.js';
import { createGroupCommitter } from '../storage/group-commit.js';
import { migrateToLatest } from '../storage/migrate.js';
import type { AppContext } from './context.js';
import { createContentCache } from './content-cache.js';
import { createMemoryMissLimiter } from './miss-limiter.js';

/** Opens the database, migrates it and assembles the context every use-case gets. */
export async function openContext(config: Config, opts: { migrate?: boolean } = {}): Promise<AppContext> {
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  if (opts.migrate !== false) await migrateToLatest(database.db);
  // SQLite has one writer: one transaction at a time. PostgreSQL takes a few, bounded by its pool.
  const committer = createGroupCommitter(database.db, { maxInFlight: database.dialect === 'sqlite' ? 1 : 4, maxBatch: 256 });
  return {
    database,
    box: createSecretBox(resolveSecret(config)),
    config,
    now: Date.now,
    committer,
    misses: createMemoryMissLimiter({ limit: 30, windowMs: 60_000 }),
    passwordAttempts: createMemoryMissLimiter({ limit: 10, windowMs: 15 * 60_000 }),
    contentCache: createContentCache(),
  };
}
