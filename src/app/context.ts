import type { Config } from '../config/config.js';
import type { SecretBox } from '../domain/tokens.js';
import type { ViewerIds } from '../domain/viewer.js';
import type { MailDispatcher } from '../notify/mail-dispatcher.js';
import type { Database } from '../storage/database.js';
import type { CleanupSchedule } from './cleanup-schedule.js';
import type { ContentCache } from './content-cache.js';
import type { Metrics } from './metrics.js';
import type { MissLimiter } from './miss-limiter.js';
import type { PublicLedger } from './public-ledger.js';
import type { SharedLimits } from './shared-limits.js';

/** What every use-case needs: the database, the secret box, the configuration and a clock. */
export type AppContext = {
  database: Database;
  box: SecretBox;
  /** The daily pseudonym of a client that views or downloads (unique viewers in analytics), under `box`'s secret. */
  viewerIds: ViewerIds;
  config: Config;
  now: () => number;
  /** Writes the public path's outcomes (views, downloads, denials), batched into shared transactions. */
  ledger: PublicLedger;
  misses: MissLimiter;
  /** Wrong passwords and one-time codes, per link and client. */
  passwordAttempts: MissLimiter;
  /** Requests for one-time codes, per link and client. */
  codeRequests: MissLimiter;
  /** Comments posted, per link and client. */
  commentPosts: MissLimiter;
  /** Edits saved through editor links, per link and client. */
  editSaves: MissLimiter;
  /** Sends what use-cases queued in the outbox; kick it after a commit that queued mail. */
  mail: MailDispatcher;
  /** Retention's scheduled cleanup (a minute after start, then hourly); the HTTP layer logs its runs. */
  cleanup: CleanupSchedule;
  /** The Redis behind both limiters when REDIS_URL is set (closed with the context). */
  sharedLimits: SharedLimits | null;
  /** Counters for operators (Prometheus, set by the HTTP layer). */
  metrics: Metrics;
  /** Immutable resource content (versions, type declarations by stamp). */
  contentCache: ContentCache;
};
