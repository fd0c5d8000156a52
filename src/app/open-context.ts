import type { Config } from '../config/config.js';
import { resolveSecret } from '../config/secret.js';
import { createSecretBox } from '../domain/tokens.js';
import { openDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrate.js';
import type { AppContext } from './context.js';

/** Opens the database, migrates it and assembles the context every use-case gets. */
export async function openContext(config: Config, opts: { migrate?: boolean } = {}): Promise<AppContext> {
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  if (opts.migrate !== false) await migrateToLatest(database.db);
  return { database, box: createSecretBox(resolveSecret(config)), config, now: Date.now };
}
