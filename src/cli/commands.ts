import { auditCommand } from './audit.js';
import { cleanupCommand } from './cleanup.js';
import { createWorkspaceCommand } from './create-workspace.js';
import { demoCommand } from './demo.js';
import { migrateCommand } from './migrate.js';
import type { CliCommand } from './runtime.js';

/**
 * Every `porthole` command, in the order `porthole --help` lists them. A new
 * command is a file in src/cli/ exporting a `CliCommand`, added here; keep it a
 * thin shell over a use-case in src/app/.
 */
export const commands: CliCommand[] = [
  migrateCommand,
  createWorkspaceCommand,
  auditCommand,
  cleanupCommand,
  demoCommand,
];
