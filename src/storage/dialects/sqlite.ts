import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteAdapter, SqliteDialect, sql, type Expression, type RawBuilder } from 'kysely';
import { registerDirectRunner } from '../direct.js';

/** Opens the embedded database: WAL, foreign keys on, a busy timeout for the CLI beside the server. */
export function createSqliteDialect(file: string): { dialect: SqliteDialect; close: () => void } {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const cached = withStatementCache(database);
  return { dialect: new DirectSqliteDialect(cached), close: () => database.close() };
}

/**
 * The SQLite dialect, registering a direct runner for prepared hot-path
 * queries: better-sqlite3 is synchronous, so a compiled query can run on the
 * connection at once, without the executor's connection acquisition and
 * promise chain. On the one connection, a statement run this way takes part in
 * whatever transaction is open, as it would through Kysely.
 */
class DirectSqliteDialect extends SqliteDialect {
  constructor(private readonly database: Database.Database) {
    super({ database });
  }
  override createAdapter(): SqliteAdapter {
    const adapter = super.createAdapter() as SqliteAdapter;
    registerDirectRunner(adapter, (sqlText, parameters) => {
      const stmt = this.database.prepare(sqlText);
      if (stmt.reader) return stmt.all(parameters as unknown[]);
      stmt.run(parameters as unknown[]);
      return [];
    });
    return adapter;
  }
}

/**
 * Kysely prepares every query afresh; preparing costs as much as running a
 * small statement. Queries are built from a fixed set of shapes, so their
 * prepared statements are kept (bounded, least recently used dropped first).
 */
function withStatementCache(database: Database.Database, max = 500): Database.Database {
  const cache = new Map<string, Database.Statement>();
  const prepare = (sqlText: string): Database.Statement => {
    let stmt = cache.get(sqlText);
    if (stmt) {
      cache.delete(sqlText);
    } else {
      stmt = database.prepare(sqlText);
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
    }
    cache.set(sqlText, stmt);
    return stmt;
  };
  return new Proxy(database, {
    get(target, prop, receiver) {
      if (prop === 'prepare') return prepare;
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** `fields->>key` on a JSON text column, as text the way PostgreSQL's `->>` gives it (true, 3, 2.5). */
export function jsonText(column: Expression<string>, key: string): RawBuilder<string | null> {
  const path = '$.' + JSON.stringify(key);
  return sql<string | null>`(case json_type(${column}, ${path}) when 'true' then 'true' when 'false' then 'false' else cast(json_extract(${column}, ${path}) as text) end)`;
}

// SQLite names the columns, not the constraint: map them back to the constraint names used in migrations.
const sqliteConstraints: Record<string, string> = {
  'users.email': 'users_email_key',
  'api_keys.key_hash': 'api_keys_key_hash_key',
  'links.token_hash': 'links_token_hash_key',
  'links.short_code_hash': 'links_short_code_hash_key',
  'members.workspace_id, members.user_id': 'members_pkey',
  'resources.workspace_id, resources.type, resources.id': 'resources_pkey',
  'resource_versions.workspace_id, resource_versions.type, resource_versions.resource_id, resource_versions.version':
    'resource_versions_pkey',
};

/** The unique constraint a SQLite error violated, if any. */
export function violatedConstraint(e: unknown): string | null {
  const err = e as { code?: string; message?: string };
  if (err?.code !== 'SQLITE_CONSTRAINT_UNIQUE' && err?.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return null;
  const cols = /constraint failed: (.+)$/.exec(err.message ?? '')?.[1] ?? '';
  return sqliteConstraints[cols] ?? 'unknown_unique';
}
