import type { Config } from '../config/config.js';
import type { SecretBox } from '../domain/tokens.js';
import type { Database } from '../storage/database.js';

/** What every use-case needs: the database, the secret box, the configuration and a clock. */
export type AppContext = {
  database: Database;
  box: SecretBox;
  config: Config;
  now: () => number;
};
