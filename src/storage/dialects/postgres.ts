import pg from 'pg';
import { PostgresDialect, sql, type Expression, type RawBuilder } from 'kysely';

// int8 (bigint, our epoch milliseconds) and numeric counts come back as numbers, not strings.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export function createPostgresDialect(url: string): { dialect: PostgresDialect; pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: url, max: 10, types: types as pg.CustomTypesConfig });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it. Queries report their own errors.
  });
  return { dialect: new PostgresDialect({ pool }), pool };
}

/** `fields->>key` on a JSON text column. */
export const jsonText = (column: Expression<string>, key: string): RawBuilder<string | null> =>
  sql<string | null>`(${column}::jsonb ->> ${key})`;

/** The unique constraint a PostgreSQL error violated, if any. */
export function violatedConstraint(e: unknown): string | null {
  const err = e as { code?: string; constraint?: string };
  return err?.code === '23505' ? (err.constraint ?? 'unknown_unique') : null;
}
