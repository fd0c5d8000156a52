import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/config.js';
import { AppError } from '../domain/errors.js';
import { openDatabase, type Database } from '../storage/database.js';
import { pendingMigrations } from '../storage/migrate.js';

/** Where a command reads its environment and writes its output; the process's own in production, buffers in tests. */
export type CliIo = {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
};

/** What every command gets: its I/O, the configuration on demand, and the exit code it sets. */
export type CliRuntime = {
  io: CliIo;
  /** Parses `io.env` once; a bad value throws ConfigError, which `runCli` turns into exit code 2. */
  config(): Config;
  /** Writes whole lines to stdout. */
  print(...lines: string[]): void;
  /** The process exit code once the command is done; 0 unless the command says otherwise. */
  exitCode: number;
};

/**
 * A command adds itself to the program. Its action does the work through
 * `app/` use-cases and sets `cli.exitCode`; errors it throws are reported by
 * `runCli` (ConfigError → 2, anything else → 1).
 */
export type CliCommand = (program: Command, cli: CliRuntime) => void;

export function createRuntime(io: CliIo): CliRuntime {
  let config: Config | undefined;
  return {
    io,
    config: () => (config ??= loadConfig(io.env)),
    print: (...lines) => io.stdout(lines.map((l) => `${l}\n`).join('')),
    exitCode: 0,
  };
}

/**
 * Opens the configured database for one command and always closes it, so the
 * process can exit. Unless `anySchema` (migrate itself), a database that has
 * not run this version's migrations is refused with what to do, instead of
 * failing on a missing table or column halfway through the work.
 */
export async function withDatabase<T>(config: Config, work: (database: Database) => Promise<T>, opts: { anySchema?: boolean } = {}): Promise<T> {
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    if (!opts.anySchema) {
      const pending = await pendingMigrations(database.db);
      if (pending.length > 0) {
        throw new AppError('not_ready', `the database is not at this version's schema (${pending.length} migration${pending.length === 1 ? '' : 's'} pending: ${pending.join(', ')}); run \`porthole migrate\`, or start the server, first`);
      }
    }
    return await work(database);
  } finally {
    await database.close();
  }
}
