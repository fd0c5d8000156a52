import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database, type Tx } from '../src/storage/database.js';
import { createGroupCommitter } from '../src/storage/group-commit.js';

// The group committer on a real (in-memory SQLite) database: what `settleFirst` settles
// skips the transaction; what it leaves, or everything when it throws, runs in it.

let database: Database;
beforeAll(async () => {
  database = openDatabase({ dataDir: '', sqliteFile: ':memory:' });
  await sql`create table done (k text primary key)`.execute(database.db);
});
afterAll(() => database.close());

const doneKeys = async () => (await sql<{ k: string }>`select k from done order by k`.execute(database.db)).rows.map((r) => r.k);
const insert = (k: string) => async (tx: Tx) => {
  await sql`insert into done (k) values (${k})`.execute(tx);
  return `tx:${k}`;
};

it('settles first what it can, in key order, and runs only the rest in the transaction', async () => {
  const seen: string[][] = [];
  const committer = createGroupCommitter<string>(database.db, {
    maxInFlight: 1,
    maxBatch: 100,
    settleFirst: async (items) => {
      seen.push(items);
      return items.map((k) => (k.endsWith('even') ? { value: `first:${k}` } : undefined));
    },
  });
  const keys = ['c-odd', 'a-even', 'd-even', 'b-odd'].map((k) => `s1-${k}`);
  const results = await Promise.all(keys.map((k) => committer.run(k, k, insert(k))));
  expect(results).toEqual(['tx:s1-c-odd', 'first:s1-a-even', 'first:s1-d-even', 'tx:s1-b-odd']);
  expect(seen).toEqual([[...keys].sort()]);
  expect((await doneKeys()).filter((k) => k.startsWith('s1-'))).toEqual(['s1-b-odd', 's1-c-odd']);
});

it('runs every job in the transaction when settleFirst throws', async () => {
  const committer = createGroupCommitter<string>(database.db, {
    maxInFlight: 1,
    maxBatch: 100,
    settleFirst: async () => {
      throw new Error('the statement failed and wrote nothing');
    },
  });
  const keys = ['x', 'y', 'z'].map((k) => `s2-${k}`);
  expect(await Promise.all(keys.map((k) => committer.run(k, k, insert(k))))).toEqual(keys.map((k) => `tx:${k}`));
  expect((await doneKeys()).filter((k) => k.startsWith('s2-'))).toEqual(keys);
});

it('runs no work when settleFirst settled the whole batch', async () => {
  let batches = 0;
  const committer = createGroupCommitter<string>(database.db, {
    maxInFlight: 1,
    maxBatch: 100,
    onBatch: () => batches++,
    settleFirst: async (items) => items.map((k) => ({ value: `first:${k}` })),
  });
  const work = async () => {
    throw new Error('must not run');
  };
  expect(await Promise.all(['p', 'q'].map((k) => committer.run(k, k, work)))).toEqual(['first:p', 'first:q']);
  expect(batches).toBe(1);
  await committer.drain();
});
