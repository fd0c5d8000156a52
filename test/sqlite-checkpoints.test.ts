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

it('under constant writes from the writer thread, the WAL still restarts: the writer finishes checkpoints between its commits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-ckpt-'));
  // The server's two connections to one file, in one process: `main` runs the checkpointer, `writer` commits.
  const main = openDatabase({ dataDir: dir, sqliteRole: 'main' });
  const writer = openDatabase({ dataDir: dir, sqliteRole: 'writer' });
  try {
    await sql`create table blobs (x text)`.execute(writer.db);
    let commits = 0;
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      await sql`insert into blobs values (${'x'.repeat(2000)})`.execute(writer.db);
      commits++;
      // Let timers and the checkpointer's messages in between commits, as a busy server does.
      if (commits % 5 === 0) await new Promise((r) => setImmediate(r));
    }
    // Every commit appended at least one frame; a WAL that never restarted would hold them all.
    const [{ log }] = (await sql<{ log: number }>`pragma wal_checkpoint(PASSIVE)`.execute(writer.db)).rows;
    expect(commits).toBeGreaterThan(300);
    expect(log).toBeLessThan(commits * 0.8);
  } finally {
    await writer.close();
    await main.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
