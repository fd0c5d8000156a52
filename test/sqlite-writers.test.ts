import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { openDatabase } from '../src/storage/database.js';

it('a SQLite transaction holds the write lock from its start: another writer cannot commit between its read and its write', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-writers-'));
  const database = openDatabase({ dataDir: dir });
  const other = new Database(join(dir, 'porthole.db'));
  other.pragma('busy_timeout = 0');
  try {
    await sql`create table counters (id integer primary key, n integer not null)`.execute(database.db);
    await sql`insert into counters values (1, 0)`.execute(database.db);
    let outside: unknown = null;
    await database.db.transaction().execute(async (tx) => {
      const { rows } = await sql<{ n: number }>`select n from counters where id = 1`.execute(tx);
      // The writer thread (here, a second connection) tries to commit in the middle.
      try {
        other.prepare('update counters set n = n + 100 where id = 1').run();
      } catch (e) {
        outside = e;
      }
      // Deferred, this write would fail at once with SQLITE_BUSY_SNAPSHOT; begun immediate, it goes through.
      await sql`update counters set n = ${rows[0].n + 1} where id = 1`.execute(tx);
    });
    expect((outside as { code?: string } | null)?.code).toBe('SQLITE_BUSY');
    expect(other.prepare('select n from counters where id = 1').pluck().get()).toBe(1);
  } finally {
    other.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
