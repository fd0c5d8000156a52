import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type pg from 'pg';
import { PostgresDialect, sql, type Expression, type RawBuilder } from 'kysely';
import { isFixedStatement } from '../direct.js';

// The driver is loaded when a PostgreSQL database is opened: on SQLite, the server and its
// writer thread do without its few MB of code and heap.
const require = createRequire(import.meta.url);
const driver = (): typeof pg => require('pg') as typeof pg;

/** How long making a connection (or waiting for one of the pool's) may take. */
export const CONNECT_TIMEOUT_MS = 5_000;

/**
 * `lockWaitMs`: how long a statement waits for a row or table lock before it
 * fails (lock_timeout, SQLSTATE 55P03, answered 503 `not_ready` like SQLite's
 * busy timeout). Without it, a session that holds a link's row (an open
 * transaction in psql) would hang its views for as long as it is open, and
 * with them the batches they are in.
 */
export function createPostgresDialect(url: string, opts: { lockWaitMs?: number } = {}): { dialect: PostgresDialect; pool: pg.Pool } {
  const pg = driver();
  // int8 (bigint, our epoch milliseconds) and numeric counts come back as numbers, not strings.
  const types = {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === 20 || oid === 1700) return (v: string) => Number(v);
      return pg.types.getTypeParser(oid, format as 'text');
    },
  };
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    types: types as pg.CustomTypesConfig,
    lock_timeout: opts.lockWaitMs ?? 5000,
    // A server that takes the connection and never answers (a hung PostgreSQL, a black-holed
    // route) fails the request in 5 s (503), rather than holding it until TCP gives up; so does
    // waiting that long for a free connection of the pool.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // Dead peers of idle connections are found by TCP keepalive, not by the next request.
    keepAlive: true,
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it. Queries report their own errors.
  });
  pool.on('connect', (client) => {
    // A checked-out client that loses its connection between two queries (a failover, an
    // administrator ending sessions) emits 'error' with no listener of the pool's: without one
    // of its own the process would die. Its next query fails, and the pool drops it on release.
    client.on('error', () => {});
    nameFixedStatements(client);
  });
  return { dialect: new PostgresDialect({ pool }), pool };
}

const names = new Map<string, string>();
const nameOf = (text: string): string => {
  let name = names.get(text);
  if (!name) {
    name = `porthole_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
};

type QueryFn = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * Kysely sends every query unnamed, so PostgreSQL parses and plans it each
 * time: for the public path's lookup (four tables) and its counting statement
 * (an update and an insert in one), planning is a good part of the server's
 * work per view, on the same cores as ours. The hot path's fixed statements
 * go as named ones instead: node-postgres prepares each once per connection
 * and then only binds and executes it.
 */
function nameFixedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as QueryFn;
  (client as unknown as { query: QueryFn }).query = (config, values, callback) =>
    typeof config === 'string' && Array.isArray(values) && isFixedStatement(config)
      ? query({ name: nameOf(config), text: config, values }, callback)
      : query(config, values, callback);
}

/** `fields->>key` on a JSON text column. */
export const jsonText = (column: Expression<string>, key: string): RawBuilder<string | null> =>
  sql<string | null>`(${column}::jsonb ->> ${key})`;

/** The UTC day of epoch milliseconds as days since 1970: bigint division (truncates, which floors for the times we store: none before 1970). */
export const dayOf = (column: Expression<number>): RawBuilder<number> => sql<number>`(${column} / 86400000)`;

/** SQLSTATEs of a connection that is gone or cannot be had for now: class 08, the server shutting down or starting, too many connections. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** What the socket under a connection reports when the server is gone or unreachable. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** node-postgres's own errors for a lost connection carry no code, only these messages. */
const LOST_MESSAGE = /^(Connection terminated|Client has encountered a connection error|Client was closed|timeout exceeded when trying to connect)/;

/** lock_not_available: a statement waited for a lock past lock_timeout (another session held it). */
export const lockTimedOut = (e: unknown): boolean => (e as { code?: unknown } | null)?.code === '55P03';

/**
 * True when a PostgreSQL error says the connection was lost or could not be
 * made (a failover, a restart, sessions ended by an administrator), rather
 * than that the statement was wrong: the same request can succeed a moment later.
 */
export function connectionLost(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  if (code.startsWith('08') || UNAVAILABLE_STATES.has(code) || SOCKET_CODES.has(code)) return true;
  return code === '' && typeof err?.message === 'string' && LOST_MESSAGE.test(err.message);
}

/** The unique constraint a PostgreSQL error violated, if any. */
export function violatedConstraint(e: unknown): string | null {
  const err = e as { code?: string; constraint?: string };
  return err?.code === '23505' ? (err.constraint ?? 'unknown_unique') : null;
}
