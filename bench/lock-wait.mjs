// npm run bench:lock-wait
//
// What a management write costs the event loop while the ledger's writer thread is busy:
// a worker thread on the writer's side of the file (the `writer` role, given the main
// connection's turn flag) commits 1.5 ms transactions back to back, as under heavy view
// load, while the main connection makes 200 small write transactions, one every 10 ms.
// Prints the writes' latency and the longest gaps of a 1 ms timer on the event loop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { sql } from 'kysely';
import { openDatabase } from '../dist/storage/database.js';

const WRITES = 200;

if (isMainThread) {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-lock-wait-'));
  const database = openDatabase({ dataDir: dir, sqliteRole: 'main' });
  await sql`create table counters (id integer primary key, n integer not null, label text)`.execute(database.db);
  await sql`insert into counters (id, n) select value, 0 from json_each(${JSON.stringify(Array.from({ length: 1000 }, (_, i) => i + 1))})`.execute(database.db);
  const worker = new Worker(new URL(import.meta.url), { workerData: { dir, sharedFlags: database.sharedFlags } });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const gaps = [];
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  }, 1);
  const writes = [];
  try {
    for (let i = 0; i < WRITES; i++) {
      const started = performance.now();
      await database.db.transaction().execute((tx) => sql`update counters set label = ${`write ${i}`} where id = ${(i % 1000) + 1}`.execute(tx));
      writes.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    clearInterval(ticker);
    await worker.terminate();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const at = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))].toFixed(1);
  console.log(`management writes against a busy writer thread (${WRITES}):`);
  console.log(`  write latency    p50 ${at(writes, 0.5)} ms   p99 ${at(writes, 0.99)} ms   max ${at(writes, 1)} ms`);
  console.log(`  event-loop gaps  p99 ${at(gaps, 0.99)} ms   max ${at(gaps, 1)} ms   (a 1 ms timer; a blocked loop shows as a long gap)`);
} else {
  const database = openDatabase({ dataDir: workerData.dir, sqliteRole: 'writer', sharedFlags: workerData.sharedFlags });
  const loop = async () => {
    await database.db.transaction().execute(async (tx) => {
      const end = performance.now() + 1.5;
      while (performance.now() < end) await sql`update counters set n = n + 1 where id = ${1 + Math.floor(Math.random() * 1000)}`.execute(tx);
    });
    setImmediate(loop);
  };
  void loop();
}
