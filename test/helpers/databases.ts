import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type DialectName = 'sqlite' | 'postgres';

/** The server every PostgreSQL test database is created on. */
export const PG_ADMIN_URL = process.env.PORTHOLE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let pgAvailable: boolean | undefined;

async function postgresReachable(): Promise<boolean> {
  if (pgAvailable !== undefined) return pgAvailable;
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    pgAvailable = true;
  } catch {
    pgAvailable = false;
  } finally {
    await client.end().catch(() => {});
  }
  return pgAvailable;
}

/**
 * The dialects to test. PostgreSQL is required under CI=true (never skipped);
 * on a developer machine without it, only SQLite runs, and says so.
 */
export async function testDialects(): Promise<DialectName[]> {
  if (await postgresReachable()) return ['sqlite', 'postgres'];
  if (process.env.CI === 'true') throw new Error(`PostgreSQL is required under CI=true but ${PG_ADMIN_URL} is not reachable`);
  console.warn(`PostgreSQL not reachable at ${PG_ADMIN_URL}: running SQLite only`);
  return ['sqlite'];
}

export type ScratchDatabase = { databaseUrl?: string; dataDir: string; drop(): Promise<void> };

/** A fresh, empty database of the dialect, with its own data directory; `drop()` removes both. */
export async function scratchDatabase(dialect: DialectName): Promise<ScratchDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'porthole-test-'));
  if (dialect === 'sqlite') {
    return { dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `porthole_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    dataDir,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
