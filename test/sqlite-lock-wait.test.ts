import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openDatabase, type Database as PortholeDatabase } from '../src/storage/database.js';

// The server's connection waits for SQLite's write lock without blocking the event loop, and
// the ledger's writer thread lets it go first (LockWait and yieldTurn in storage/dialects/sqlite.ts).

let dir: string;
let file: string;
let database: PortholeDatabase;
let other: Database.Database;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'porthole-lock-'));
  file = join(dir, 'porthole.db');
  database = openDatabase({ dataDir: dir, sqliteRole: 'main', lockWaitMs: 3000 });
  await sql`create table notes (id integer primary key, body text not null)`.execute(database.db);
  // Another connection to the file, as the writer thread or the CLI would hold it.
  other = new Database(file);
  other.pragma('busy_timeout = 0');
});

afterEach(async () => {
  other.close();
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

const count = () => other.prepare('select count(*) from notes').pluck().get() as number;

/** Holds the write lock on the other connection until a timer, which only fires if the event loop is free, releases it. */
function holdLockUntilTimer(ms: number): { timerRan: () => boolean } {
  other.exec('begin immediate');
  let ran = false;
  setTimeout(() => {
    ran = true;
    other.exec('commit');
  }, ms);
  return { timerRan: () => ran };
}

it('an autocommit write that meets the lock waits with the event loop free, then writes', async () => {
  const lock = holdLockUntilTimer(30);
  await sql`insert into notes (body) values ('after the lock')`.execute(database.db);
  // Had SQLite's busy handler waited on this thread, the timer could not have run and released the lock.
  expect(lock.timerRan()).toBe(true);
  expect(count()).toBe(1);
});

it('a transaction that meets the lock waits for it the same way, and commits', async () => {
  const lock = holdLockUntilTimer(30);
  await database.db.transaction().execute(async (tx) => {
    await sql`insert into notes (body) values ('one')`.execute(tx);
    await sql`insert into notes (body) values ('two')`.execute(tx);
  });
  expect(lock.timerRan()).toBe(true);
  expect(count()).toBe(2);
});

it('gives up after the wait limit with SQLITE_BUSY, having written nothing, and the next write goes through', async () => {
  await database.close();
  database = openDatabase({ dataDir: dir, sqliteRole: 'main', lockWaitMs: 150 });
  other.exec('begin immediate');
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  try {
    await expect(database.db.transaction().execute((tx) => sql`insert into notes (body) values ('never')`.execute(tx))).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    await expect(sql`insert into notes (body) values ('never')`.execute(database.db)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
  } finally {
    clearInterval(ticker);
    other.exec('commit');
  }
  // The loop kept turning through both waits.
  expect(ticks).toBeGreaterThan(5);
  expect(count()).toBe(0);
  await sql`insert into notes (body) values ('now')`.execute(database.db);
  expect(count()).toBe(1);
});

it('the writer thread lets a write that is waiting for the lock go before its next transaction', async () => {
  // The writer thread's side: the same openDatabase, in the writer role, given the main connection's turn flag.
  const script = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const { openDatabase } = await import(workerData.module);
      const database = openDatabase({ dataDir: workerData.dir, sqliteRole: 'writer', sharedFlags: workerData.sharedFlags });
      const released = new Promise((resolve) => parentPort.once('message', resolve));
      await database.db.transaction().execute(async (tx) => {
        await tx.insertInto('notes').values({ body: 'writer, first' }).execute();
        parentPort.postMessage('holding');
        await released;
      });
      // Straight into the next transaction, as the ledger does under load.
      const seen = await database.db.transaction().execute(async (tx) => {
        const row = await tx.selectFrom('notes').select((eb) => eb.fn.countAll().as('n')).where('body', '=', 'main').executeTakeFirst();
        await tx.insertInto('notes').values({ body: 'writer, second' }).execute();
        return row.n;
      });
      await database.close();
      parentPort.postMessage({ seen });
    })().catch((e) => parentPort.postMessage({ error: String(e) }));
  `;
  const worker = new Worker(script, {
    eval: true,
    workerData: { dir, sharedFlags: database.sharedFlags, module: new URL('../dist/storage/database.js', import.meta.url).href },
  });
  const messages: unknown[] = [];
  const next = () => new Promise<unknown>((resolve) => worker.once('message', resolve));
  try {
    expect(await next()).toBe('holding');
    const done = next();
    // The main connection meets the writer's lock and waits for it; meanwhile the writer commits and goes on.
    const write = sql`insert into notes (body) values ('main')`.execute(database.db);
    setTimeout(() => worker.postMessage('release'), 30);
    await write;
    messages.push(await done);
  } finally {
    await worker.terminate();
  }
  // The writer's second transaction began only after the waiting write: it saw it.
  expect(messages).toEqual([{ seen: 1 }]);
  expect(other.prepare('select body from notes order by id').pluck().all()).toEqual(['writer, first', 'main', 'writer, second']);
});
