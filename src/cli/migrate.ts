import { migrateToLatest } from '../storage/migrate.js';
import { withDatabase, type CliCommand } from './runtime.js';

/** `porthole migrate`: brings the configured database to the latest schema. */
export const migrateCommand: CliCommand = (program, cli) => {
  program
    .command('migrate')
    .description('apply pending database migrations (the server also does this on start)')
    .action(async () => {
      const applied = await withDatabase(cli.config(), (database) => migrateToLatest(database.db), { anySchema: true });
      if (applied.length === 0) cli.print('up to date');
      else cli.print(...applied.map((name) => `applied: ${name}`));
    });
};
