import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { openDatabase } from '../src/storage/database.js';

it('SQLite checkpoints happen off the request thread: the database file takes in the WAL without the writer checkpointing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-ckpt-'));
  const database = openDatabase({ dataDir: dir });
  try {
    await sql`create table blobs (x text)`.execute(database.db);
    const file = join(dir, 'porthole.db');
    const before = statSync(file).size;
    for (let i = 0; i < 300; i++) await sql`insert into blobs values (${'x'.repeat(4000)})`.execute(database.db);
    // The writer never checkpoints (wal_autocheckpoint = 0); the worker copies the WAL within a second.
    const deadline = Date.now() + 5000;
    while (statSync(file).size < before + 300 * 4000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(statSync(file).size).toBeGreaterThanOrEqual(before + 300 * 4000);
    const [{ wal_autocheckpoint }] = (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(database.db)).rows;
    expect(wal_autocheckpoint).toBe(0);
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
