import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { BroadcastChannel, Worker } from 'node:worker_threads';
import { afterEach, expect, it } from 'vitest';
import { openDatabase } from '../src/storage/database.js';
import { preparedQuery } from '../src/storage/prepared.js';

/** A directory for one test's database, removed after it (the test closes its connections first). */
const dirs: string[] = [];
const scratchDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-ckpt-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The WAL's checkpoint sequence number (header bytes 12-15): each restart of the WAL bumps it. */
function walSequence(walFile: string): number {
  const header = Buffer.alloc(16);
  const fd = openSync(walFile, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  return header.readUInt32BE(12);
}

it('SQLite checkpoints happen off the request thread: the database file takes in the WAL without the writer checkpointing', async () => {
  const dir = scratchDir();
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
  }
});

it('under constant writes from the writer thread, the WAL still restarts: the writer finishes checkpoints between its commits', async () => {
  const dir = scratchDir();
  // The server's two connections to one file, in one process: `main` runs the checkpointer, `writer` commits.
  const main = openDatabase({ dataDir: dir, sqliteRole: 'main' });
  const writer = openDatabase({ dataDir: dir, sqliteRole: 'writer' });
  const walFile = join(dir, 'porthole.db-wal');
  try {
    await sql`create table blobs (x text)`.execute(writer.db);
    const seen = new Set<number>();
    // Writes go on until the WAL has restarted once (or 15 s, on a machine busy with other tests).
    const until = Date.now() + 15_000;
    for (let commits = 1; Date.now() < until && seen.size < 2; commits++) {
      await sql`insert into blobs values (${'x'.repeat(2000)})`.execute(writer.db);
      // Let timers and the checkpointer's messages in between commits, as a busy server does.
      if (commits % 5 === 0) {
        seen.add(walSequence(walFile));
        await new Promise((r) => setImmediate(r));
      }
    }
    // Without the writer's finishing checkpoints the WAL never restarts while writes go on: one sequence number.
    expect(seen.size).toBeGreaterThan(1);
  } finally {
    await writer.close();
    await main.close();
  }
});

it('after a pass that copied many frames, the checkpointer makes another before telling the writer, so the writer is left a few', async () => {
  const dir = scratchDir();
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
  }
});

// The writer thread of a server, as its own thread: commits a few pages about every millisecond
// until told to stop, the checkpointer's messages arriving in between; posts how many commits it
// made. Runs the build.
const WRITER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { openDatabase } = await import(workerData.database);
  const { sql } = await import('kysely');
  const writer = openDatabase({ dataDir: workerData.dir, sqliteRole: 'writer', sharedFlags: workerData.sharedFlags });
  let commits = 0;
  const stop = new Int32Array(workerData.stop);
  for (; Atomics.load(stop, 0) === 0; commits++) {
    await sql\`insert into blobs values (\${'x'.repeat(6000)})\`.execute(writer.db);
    await new Promise((r) => setTimeout(r, 1));
  }
  await writer.close();
  parentPort.postMessage(commits);
})();
`;

it('the WAL restarts while the event loop reads all the time: the finishing checkpoint has it read without its turn snapshot for a moment', async () => {
  const dir = scratchDir();
  const main = openDatabase({ dataDir: dir, sqliteRole: 'main' });
  const walFile = join(dir, 'porthole.db-wal');
  // A hot-path read: it joins the turn's read snapshot, as the public lookup does.
  const count = preparedQuery<Record<string, never>, { n: number }>([], (db) => db.selectFrom('blobs' as never).select((eb) => eb.fn.countAll<number>().as('n')));
  try {
    await sql`create table blobs (x text)`.execute(main.db);
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const database = new URL('../dist/storage/database.js', import.meta.url).href;
    const worker = new Worker(WRITER, { eval: true, workerData: { dir, stop: stop.buffer, sharedFlags: main.sharedFlags, database } });
    const commits = new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const seen = new Set<number>();
    // Turns that read and keep the loop busy for 8 ms, with no gap between them: the snapshot
    // of a turn is on the WAL nearly all the time, as on a busy server. Until the WAL has
    // restarted twice, or for 12 s.
    for (const until = Date.now() + 12_000; Date.now() < until && seen.size < 3; ) {
      await count(main.db, {});
      const busyUntil = performance.now() + 8;
      while (performance.now() < busyUntil);
      if (existsSync(walFile)) seen.add(walSequence(walFile));
      await new Promise((r) => setImmediate(r));
    }
    Atomics.store(stop, 0, 1);
    expect(await commits).toBeGreaterThan(100);
    // Without the flag the restart is left to luck, which a reader that is always there never gives: one sequence number.
    expect(seen.size).toBeGreaterThanOrEqual(3);
  } finally {
    await main.close();
  }
});

it('commits never truncate the WAL; once writes are quiet, the checkpointer gives back a WAL file grown past 64 MB', async () => {
  const dir = scratchDir();
  const database = openDatabase({ dataDir: dir, sqliteRole: 'main' });
  const walFile = join(dir, 'porthole.db-wal');
  const channel = new BroadcastChannel(`porthole-checkpoints:${join(dir, 'porthole.db')}`);
  let truncated = false;
  channel.onmessage = (m) => {
    if (((m as MessageEvent).data as { truncated?: boolean }).truncated) truncated = true;
  };
  try {
    const [{ journal_size_limit }] = (await sql<{ journal_size_limit: number }>`pragma journal_size_limit`.execute(database.db)).rows;
    expect(journal_size_limit).toBe(-1);
    await sql`create table blobs (x text)`.execute(database.db);
    // About 70 MB into the WAL in one burst.
    await database.db.transaction().execute(async (tx) => {
      for (let i = 0; i < 70; i++) await sql`insert into blobs values (${'x'.repeat(1_000_000)})`.execute(tx);
    });
    expect(statSync(walFile).size).toBeGreaterThan(64 * 1024 * 1024);
    const deadline = Date.now() + 8000;
    while (!truncated && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(truncated).toBe(true);
    expect(statSync(walFile).size).toBe(0);
    const [{ n }] = (await sql<{ n: number }>`select count(*) as n from blobs`.execute(database.db)).rows;
    expect(n).toBe(70);
  } finally {
    channel.close();
    await database.close();
  }
});
