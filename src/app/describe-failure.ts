import { ConfigError } from '../config/config.js';
import { isAppError } from '../domain/errors.js';
import { unavailable } from '../storage/database.js';

/**
 * What an entry point (`npm start`, the CLI) prints when it stops on an
 * error. What the operator can fix is said in one line: a bad setting, a
 * refused request, a database out of reach (with what to check), a system or
 * driver error (which carries a code). Anything else is a bug: its stack
 * says where.
 */
export function describeFailure(err: unknown): string {
  if (err instanceof ConfigError || isAppError(err)) return err.message;
  const e = err as { message?: string; code?: unknown; stack?: string } | null;
  if (unavailable(err) === 'lost') return `cannot reach the database: ${e?.message || 'connection failed'}${e?.code ? ` (${String(e.code)})` : ''}. Is PostgreSQL running, and does DATABASE_URL point at it?`;
  if (typeof e?.code === 'string' && e.code) return `${e.message || 'error'} (${e.code})`;
  return e?.stack ?? String(err);
}
