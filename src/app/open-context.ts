import type { Config } from '../config/config.js';
import { resolveSecret } from '../config/secret.js';
import { createSecretBox } from '../domain/tokens.js';
import { openDatabase } from '../storage/database.js';
import { createGroupCommitter } from '../storage/group-commit.js';
import { migrateToLatest } from '../storage/migrate.js';
import type { AppContext } from './context.js';
import { createContentCache } from './content-cache.js';
import { noMetrics } from './metrics.js';
import { createMemoryMissLimiter } from './miss-limiter.js';

/** Opens the database, migrates it and assembles the context every use-case gets. */
export async function openContext(config: Config, opts: { migrate?: boolean } = {}): Promise<AppContext> {
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  if (opts.migrate !== false) await migrateToLatest(database.db);
  const ctx: AppContext = {
    database,
    box: createSecretBox(resolveSecret(config)),
    config,
    now: Date.now,
    // SQLite has one writer: one transaction at a time. PostgreSQL takes a few, bounded by its pool.
    // Batches are reported through whatever metrics the context holds when they run.
    committer: createGroupCommitter(database.db, {
      maxInFlight: database.dialect === 'sqlite' ? 1 : 4,
      maxBatch: 256,
      onBatch: (size) => ctx.metrics.batch(size),
    }),
    metrics: noMetrics,
    misses: createMemoryMissLimiter({ limit: 30, windowMs: 60_000 }),
    passwordAttempts: createMemoryMissLimiter({ limit: 10, windowMs: 15 * 60_000 }),
    contentCache: createContentCache(),
  };
  return ctx;
}
