import type { Config } from '../config/config.js';
import { resolveSecret } from '../config/secret.js';
import { createSecretBox } from '../domain/tokens.js';
import { viewerIds } from '../domain/viewer.js';
import { openDatabase, type Database } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrate.js';
import { startMailDispatcher } from '../notify/mail-dispatcher.js';
import { openMailTransport } from '../notify/mail-transport.js';
import type { AppContext } from './context.js';
import { startCleanupSchedule } from './cleanup-schedule.js';
import { runCleanup } from './run-cleanup.js';
import { createContentCache } from './content-cache.js';
import { noMetrics } from './metrics.js';
import { threadedLedger } from './ledger-thread.js';
import { createMemoryMissLimiter } from './miss-limiter.js';
import { createSharedLimits } from './shared-limits.js';
import { inProcessLedger, type PublicLedger } from './public-ledger.js';

/**
 * Opens the database, migrates it and assembles the context every use-case
 * gets. `scheduleCleanup: false` leaves retention to `porthole cleanup` (tests,
 * whose clocks jump, and one-shot commands).
 */
export async function openContext(config: Config, opts: { migrate?: boolean; scheduleCleanup?: boolean } = {}): Promise<AppContext> {
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, sqliteRole: 'main' });
  if (opts.migrate !== false) await migrateToLatest(database.db);
  // With REDIS_URL the limits are shared by every instance; without, each keeps its own.
  const sharedLimits = config.redisUrl ? createSharedLimits(config.redisUrl, { prefix: config.redisPrefix }) : null;
  const limiter = (name: string, opts: { limit: number; windowMs: number }) => (sharedLimits ? sharedLimits.limiter(name, opts) : createMemoryMissLimiter(opts));
  const box = createSecretBox(resolveSecret(config));
  const ctx: AppContext = {
    database,
    box,
    viewerIds: viewerIds(box),
    config,
    now: Date.now,
    // Batches are reported through whatever metrics the context holds when they run.
    ledger: openLedger(database, (size) => ctx.metrics.batch(size)),
    metrics: noMetrics,
    misses: limiter('misses', { limit: 30, windowMs: 60_000 }),
    passwordAttempts: limiter('password-attempts', { limit: 10, windowMs: 15 * 60_000 }),
    codeRequests: limiter('code-requests', { limit: 10, windowMs: 15 * 60_000 }),
    // Enough for a reviewer working through a list, not for a flood of mail to the link's owner.
    commentPosts: limiter('comment-posts', { limit: 20, windowMs: 10 * 60_000 }),
    // Each saved edit is a new version of the resource: generous for a person, a wall for a loop.
    editSaves: limiter('edit-saves', { limit: 60, windowMs: 10 * 60_000 }),
    // The clock is read through the context, so tests that move it move the outbox's too.
    mail: startMailDispatcher(database.db, openMailTransport({ smtpUrl: config.smtpUrl, dataDir: config.dataDir }), { from: config.mailFrom, now: () => ctx.now() }),
    // Retention on every instance: its deletes are conditional, so runs on many at once delete each row once.
    cleanup: startCleanupSchedule((signal) => runCleanup(ctx, { signal }), { enabled: opts.scheduleCleanup !== false }),
    sharedLimits,
    contentCache: createContentCache(),
  };
  return ctx;
}

/**
 * A SQLite file gets a writer thread for the public path's writes. PostgreSQL
 * takes two batches at once on this thread: each is mostly one statement
 * (countAndAppendMany), and fewer at once make them larger. Alternated runs of
 * the PostgreSQL bench put 2 ahead of 4 and 8, and level with 1.
 */
function openLedger(database: Database, onBatch: (size: number) => void): PublicLedger {
  if (database.file) return threadedLedger(database.file, { onBatch, sharedFlags: database.sharedFlags });
  return inProcessLedger(database.db, { maxInFlight: database.dialect === 'sqlite' ? 1 : 2, onBatch });
}

/** Stops the scheduled cleanup and the mail dispatcher, settles the public path's writes, then closes the database and the connections to Redis. */
export async function closeContext(ctx: AppContext): Promise<void> {
  await ctx.cleanup.close();
  await ctx.mail.close();
  await ctx.ledger.close();
  await ctx.database.close();
  await ctx.sharedLimits?.close();
}
