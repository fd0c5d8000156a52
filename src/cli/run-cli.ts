import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config.js';
import { describeFailure } from '../app/describe-failure.js';
import { commands as builtinCommands } from './commands.js';
import { createRuntime, type CliCommand, type CliIo } from './runtime.js';

/** Exit codes: 0 success, 1 failure (or a broken audit trail), 2 bad configuration. */
export const EXIT_CONFIG = 2;

function packageVersion(): string {
  try {
    // src/cli and dist/cli both sit two levels below the package root.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Runs `porthole <argv…>` in-process and resolves to the exit code, never
 * calling process.exit: the entry file and the tests both drive it.
 */
export async function runCli(argv: string[], io: CliIo, commands: CliCommand[] = builtinCommands): Promise<number> {
  const cli = createRuntime(io);
  const program = new Command()
    .name('porthole')
    .description('Porthole: self-hosted share links. Configure with the same environment variables as the server.')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run porthole --help for usage)');
  for (const register of commands) register(program, cli);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return cli.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    io.stderr(`porthole: ${describeFailure(err)}\n`);
    return err instanceof ConfigError ? EXIT_CONFIG : 1;
  }
}
