import { runCli } from '../../src/cli/run-cli.js';
import type { Harness } from './harness.js';

export type CliResult = { code: number; stdout: string; stderr: string };

/** Runs `porthole <argv…>` in-process with `env`, capturing what it prints. */
export async function runPorthole(argv: string[], env: Record<string, string>): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** The environment that points the CLI at a database (SQLite's data directory, or PostgreSQL's URL). */
export const databaseEnv = (db: { dataDir: string; databaseUrl?: string | null }): Record<string, string> => ({
  DATA_DIR: db.dataDir,
  ...(db.databaseUrl ? { DATABASE_URL: db.databaseUrl } : {}),
});

/** Runs `porthole <argv…>` against the harness's database, with `env` on top. */
export const portholeOn = (h: Harness, argv: string[], env: Record<string, string> = {}): Promise<CliResult> =>
  runPorthole(argv, { ...databaseEnv(h.ctx.config), ...env });
