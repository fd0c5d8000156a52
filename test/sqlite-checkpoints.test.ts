import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { BroadcastChannel } from 'node:worker_threads';
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
  // Each restart of the WAL bumps the checkpoint sequence number in its header (bytes 12-15).
  const walFile = join(dir, 'porthole.db-wal');
  const sequence = () => {
    const header = Buffer.alloc(16);
    const fd = openSync(walFile, 'r');
    try {
      readSync(fd, header, 0, 16, 0);
    } finally {
      closeSync(fd);
    }
    return header.readUInt32BE(12);
  };
  try {
    await sql`create table blobs (x text)`.execute(writer.db);
    const seen = new Set<number>();
    // Writes go on until the WAL has restarted once (or 15 s, on a machine busy with other tests).
    const until = Date.now() + 15_000;
    for (let commits = 1; Date.now() < until && seen.size < 2; commits++) {
      await sql`insert into blobs values (${'x'.repeat(2000)})`.execute(writer.db);
      // Let timers and the checkpointer's messages in between commits, as a busy server does.
      if (commits % 5 === 0) {
        seen.add(sequence());
        await new Promise((r) => setImmediate(r));
      }
    }
    // Without the writer's finishing checkpoints the WAL never restarts while writes go on: one sequence number.
    expect(seen.size).toBeGreaterThan(1);
  } finally {
    await writer.close();
    await main.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('after a pass that copied many frames, the checkpointer makes another before telling the writer, so the writer is left a few', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-ckpt-'));
  const database = openDatabase({ dataDir: dir, sqliteRole: 'main' });
  const channel = new BroadcastChannel(`porthole-checkpoints:${join(dir, 'porthole.db')}`);
  const announced: unknown[] = [];
  channel.onmessage = (m) => announced.push((m as MessageEvent).data);
  try {
    await sql`create table blobs (x text)`.execute(database.db);
    // About 1,200 pages into the WAL, far more than the writer should be left.
    for (let i = 0; i < 300; i++) await sql`insert into blobs values (${'x'.repeat(16_000)})`.execute(database.db);
    const deadline = Date.now() + 5000;
    while (announced.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(announced[0]).toEqual({ passes: expect.any(Number) });
    expect((announced[0] as { passes: number }).passes).toBeGreaterThanOrEqual(2);
  } finally {
    channel.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
