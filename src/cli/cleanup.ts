import { runCleanup } from '../app/run-cleanup.js';
import { withDatabase, type CliCommand } from './runtime.js';

/**
 * `porthole cleanup [--dry-run]`: applies retention now, as the server does
 * hourly (safe beside running servers), and prints what it deleted by kind.
 */
export const cleanupCommand: CliCommand = (program, cli) => {
  program
    .command('cleanup')
    .description('delete links, events, one-time codes and mail past retention (the server also does this hourly)')
    .option('--dry-run', 'count what would be deleted, delete nothing')
    .action(async (opts: { dryRun?: boolean }) => {
      const counts = await withDatabase(cli.config(), (database) => runCleanup({ database, now: Date.now }, { dryRun: opts.dryRun === true }));
      if (opts.dryRun) cli.print('dry run: nothing was deleted; these would be');
      cli.print(
        `links: ${counts.links}`,
        `events: ${counts.events}`,
        `verification codes: ${counts.verificationCodes}`,
        `outbox: ${counts.outbox}`,
      );
    });
};
