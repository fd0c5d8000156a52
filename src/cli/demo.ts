import { bootstrapIfEmpty } from '../app/bootstrap-workspace.js';
import { demoJobs, MODEL_COUNT } from '../app/demo-data.js';
import { loadDemo, resolveDemoActor } from '../app/load-demo.js';
import { closeContext, openContext } from '../app/open-context.js';
import type { CliCommand } from './runtime.js';

/**
 * `porthole demo [--email <e>] [--workspace <id>]`: sample jobs, a report and a
 * model inventory with one link of every kind. Safe to run again: it updates
 * in place. On an empty database it first creates the workspace `npm start` would.
 */
export const demoCommand: CliCommand = (program, cli) => {
  program
    .command('demo')
    .description('load sample jobs, a compliance report and a model inventory with one link of every kind (safe to run again)')
    .option('--email <email>', 'the workspace member to act as; the links are theirs', 'owner@porthole.local')
    .option('--workspace <id>', "the workspace to load into (default: the member's first)")
    .action(async (opts: { email: string; workspace?: string }) => {
      const ctx = await openContext(cli.config(), { scheduleCleanup: false });
      try {
        const created = await bootstrapIfEmpty(ctx);
        if (created) {
          cli.io.stderr('No workspace yet: created one. Keep these; the password and API key are not shown again.\n');
          cli.print(`workspace: ${created.workspaceId}`, `email: ${created.email}`, `password: ${created.password}`, `api key: ${created.apiKey}`, '');
        }
        const actor = await resolveDemoActor(ctx, { email: created?.email ?? opts.email, workspaceId: opts.workspace });
        const links = await loadDemo(ctx, actor);
        cli.print(
          `Demo data in workspace ${actor.workspaceId}: ${Object.keys(demoJobs).length} jobs, 1 report (2 versions), ${MODEL_COUNT} models.`,
          '',
        );
        for (const l of links) cli.print(`${l.kind} (${l.status}): ${l.label}`, `  ${l.url}`, `  ${l.short_url}`);
      } finally {
        await closeContext(ctx);
      }
    });
};
