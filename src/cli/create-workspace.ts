import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { createWorkspaceWithOwner } from '../app/bootstrap-workspace.js';
import { closeContext, openContext } from '../app/open-context.js';
import type { CliCommand } from './runtime.js';

const email = z.email().max(320);
const name = z.string().trim().min(1).max(200);

const parseWith =
  (schema: z.ZodType<string>, what: string) =>
  (value: string): string => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(`not a valid ${what}`);
    return parsed.data;
  };

/** `porthole create-workspace --email <e> [--name <n>]`: a workspace, its owner and an API key, printed once. */
export const createWorkspaceCommand: CliCommand = (program, cli) => {
  program
    .command('create-workspace')
    .description('create a workspace with an owner account and an API key, and print them once')
    .requiredOption('--email <email>', "the owner's email (their sign-in name)", parseWith(email, 'email address'))
    .option('--name <name>', 'the workspace name', parseWith(name, 'workspace name'), 'My workspace')
    .action(async (opts: { email: string; name: string }) => {
      const ctx = await openContext(cli.config(), { scheduleCleanup: false });
      try {
        const created = await createWorkspaceWithOwner(ctx, { name: opts.name, email: opts.email });
        cli.io.stderr('Keep these; the password and API key are not shown again.\n');
        cli.print(
          `workspace: ${created.workspaceId}`,
          `email: ${created.email}`,
          `password: ${created.password}`,
          `api key: ${created.apiKey}`,
        );
      } finally {
        await closeContext(ctx);
      }
    });
};
