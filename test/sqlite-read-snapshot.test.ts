import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openDatabase, type Database as PortholeDatabase } from '../src/storage/database.js';
import { preparedQuery } from '../src/storage/prepared.js';

// The hot path's direct reads share one read transaction per turn of the event loop (storage/dialects/sqlite.ts).
const readN = preparedQuery<{ id: number }, { n: number }>(['id'], (db, p) => ({ compile: () => sql<{ n: number }>`select n from counters where id = ${p.id}`.compile(db) }));

let dir: string;
let database: PortholeDatabase;
let other: Database.Database;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'porthole-snapshot-'));
  database = openDatabase({ dataDir: dir });
  await sql`create table counters (id integer primary key, n integer not null)`.execute(database.db);
  await sql`insert into counters values (1, 0)`.execute(database.db);
  // Another connection to the file: the writer thread, the CLI.
  other = new Database(join(dir, 'porthole.db'));
  other.pragma('busy_timeout = 0');
});

afterEach(async () => {
  other.close();
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

const n = async () => (await readN(database.db, { id: 1 }))[0].n;
/** A checkpoint that must wait for every reader: busy while the connection holds a read transaction. */
const readerHolds = () => (other.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>)[0].busy === 1;

it("reads in one turn share a snapshot; the next turn sees what other connections committed, and the snapshot is gone before it", async () => {
  expect(await n()).toBe(0);
  expect(readerHolds()).toBe(true);
  other.prepare('update counters set n = 5 where id = 1').run();
  // Still the same turn: the same snapshot, as if the reads had run back to back before the commit.
  expect(await n()).toBe(0);
  await nextTurn();
  // The turn is over: no transaction is left open to hold back checkpoints, and the commit is seen.
  expect(readerHolds()).toBe(false);
  expect(await n()).toBe(5);
});

it('a write on the connection ends the snapshot first: it commits at once and the reads after it see it', async () => {
  expect(await n()).toBe(0);
  await sql`update counters set n = n + 1 where id = 1`.execute(database.db);
  // Committed, not held in the read transaction until the turn ends.
  expect(other.prepare('select n from counters where id = 1').pluck().get()).toBe(1);
  expect(await n()).toBe(1);
});

it('a transaction begun after a read in the same turn runs, and sees the latest commits', async () => {
  expect(await n()).toBe(0);
  other.prepare('update counters set n = 7 where id = 1').run();
  const seen = await database.db.transaction().execute(async (tx) => {
    const before = (await readN(tx, { id: 1 }))[0].n;
    await sql`update counters set n = n + 1 where id = 1`.execute(tx);
    return before;
  });
  expect(seen).toBe(7);
  expect(other.prepare('select n from counters where id = 1').pluck().get()).toBe(8);
  expect(await n()).toBe(8);
});

it('a database closed in the middle of a turn closes cleanly', async () => {
  expect(await n()).toBe(0);
  await database.close();
  database = openDatabase({ dataDir: dir });
  expect(await n()).toBe(0);
});
