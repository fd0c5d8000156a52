// npm run bench: the resolve path (GET /v1/shared/{token}, every request a
// counted view with its event) against a bare node:http server, on the same
// machine in the same run. Prints requests/s, p50, p99 and their ratio.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../dist/config/config.js';
import { closeContext, openContext } from '../dist/app/open-context.js';
import { measure, rssOf, settleOnDisk, startServer, stopServer } from './measure.mjs';
import { seedCollection, seedLinks } from './seed.mjs';
import http from 'node:http';
import { sql } from 'kysely';

const BIG = Number(process.env.BENCH_BIG_LINKS ?? 1_000_000);

/** The mean size of the grouped commits so far, from the server's Prometheus histogram. */
async function meanBatch(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (name) => Number(new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? NaN);
  return (value('porthole_commit_batch_size_sum') / value('porthole_commit_batch_size_count')).toFixed(1);
}

async function resolveRun(label, count, databaseUrl, opts = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'porthole-bench-'));
  const env = { DATA_DIR: dataDir, PORTHOLE_SECRET: 'ab'.repeat(32), ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATABASE_URL: '' }) };
  const ctx = await openContext(loadConfig({ ...env, LOG_LEVEL: 'silent' }));
  // Emptied, not deleted from: a delete leaves a previous run's rows dead, and vacuuming them stalled this run (p99 150-170 ms).
  if (databaseUrl) await sql`truncate table workspaces cascade`.execute(ctx.database.db);
  console.log(`seeding ${count.toLocaleString('en')} links (${label})…`);
  const tokens = await seedLinks(ctx, count, console.log);
  await closeContext(ctx);
  settleOnDisk(dataDir);
  const server = await startServer('porthole', env);
  try {
    const row = await measure(`resolve, ${label}`, server, () => `/v1/shared/${tokens[(Math.random() * tokens.length) | 0]}`);
    row.rssMb = Math.round((await rssOf(server)) / 1e6);
    row.batch = await meanBatch(server.port);
    console.log(`${''.padEnd(34)} views per commit (mean, warm-up included): ${row.batch}`);
    return row;
  } finally {
    await stopServer(server);
    if (opts.plain) {
      opts.plain.row = await plainRun('plain', 'plain select+update+insert handler', env, tokens);
      opts.plain.batched = await plainRun('batched', 'the same, group commit + chain', env, tokens);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** For scale, on the same file: a plain handler, one transaction per view, or the same with group commit (see server.mjs). */
async function plainRun(mode, label, env, tokens) {
  const server = await startServer(mode, env);
  try {
    return await measure(label, server, () => `/v1/shared/${tokens[(Math.random() * tokens.length) | 0]}`);
  } finally {
    await stopServer(server);
  }
}

/** Streams one CSV export of `rows` rows and samples the server's RSS while it does. */
async function exportRun(rows) {
  const dataDir = mkdtempSync(join(tmpdir(), 'porthole-bench-'));
  const env = { DATA_DIR: dataDir, PORTHOLE_SECRET: 'ab'.repeat(32), DATABASE_URL: '' };
  const ctx = await openContext(loadConfig({ ...env, LOG_LEVEL: 'silent' }));
  const token = await seedCollection(ctx, rows);
  await closeContext(ctx);
  const server = await startServer('porthole', env);
  try {
    const ask = (m) => new Promise((resolve) => { server.child.once('message', (r) => resolve(r.peak)); server.child.send(m); });
    const before = await ask('reset-peak');
    const started = Date.now();
    const { lines, bytes } = await new Promise((resolve, reject) => {
      http.get(`http://127.0.0.1:${server.port}/v1/shared/${token}/export.csv`, (res) => {
        let lines = 0;
        let bytes = 0;
        res.on('data', (chunk) => {
          bytes += chunk.length;
          for (const b of chunk) if (b === 10) lines++;
        });
        res.on('end', () => resolve({ lines, bytes }));
        res.on('error', reject);
      }).on('error', reject);
    });
    const peak = await ask('peak');
    const row = { rows: lines - 1, mb: (bytes / 1e6).toFixed(1), seconds: ((Date.now() - started) / 1000).toFixed(1), growthMb: Math.round((peak - before) / 1e6) };
    console.log(`export.csv of ${String(row.rows).padStart(7)} rows: ${row.mb} MB in ${row.seconds} s, server RSS growth ${row.growthMb} MB`);
    return row;
  } finally {
    await stopServer(server);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function bareRun(label) {
  const bare = await startServer('bare', {});
  try {
    return await measure(label, bare, () => '/');
  } finally {
    await stopServer(bare);
  }
}

// This machine's speed drifts from minute to minute: the baseline is measured on both sides
// of the 10k resolve run, and the ratio uses their mean.
const bareBefore = await bareRun('bare node:http (baseline, before)');
const plain = {};
const small = await resolveRun('SQLite, 10,000 links', 10_000, undefined, { plain });
const bareAfter = await bareRun('bare node:http (baseline, after)');
const baseline = {
  rps: Math.round((bareBefore.rps + bareAfter.rps) / 2),
  cpuPerRequest: Math.round((bareBefore.cpuPerRequest + bareAfter.cpuPerRequest) / 2),
};
const big = await resolveRun(`SQLite, ${BIG.toLocaleString('en')} links`, BIG);
// The machine slows down over a long bench: the 1M run is also compared with a 10k run measured
// right after it, as the bare baseline is measured on both sides of the 10k run.
const smallBeside = await resolveRun('SQLite, 10,000 links (beside 1M)', 10_000);
const pg = process.env.DATABASE_URL ? await resolveRun('PostgreSQL, 10,000 links', 10_000, process.env.DATABASE_URL) : null;

const exportSmall = await exportRun(10_000);
const exportBig = await exportRun(100_000);
// Three times the rows again: memory that grew with the rows would show here; a plateau is the heap's own sizing.
const exportBigger = await exportRun(300_000);

const ratio = (a, b) => (a / b).toFixed(2);
console.log('\nsummary');
console.log(`  bare baseline (mean of before/after): ${baseline.rps} req/s`);
console.log(`  resolve / bare (SQLite, 10k):      ${ratio(small.rps, baseline.rps)}   target ≥ 0.40`);
console.log(`  p99 resolve (SQLite, 10k):         ${small.p99} ms   target < 20 ms`);
console.log(`  ${BIG.toLocaleString('en')} links vs 10k:           ${ratio(big.rps, small.rps)}   target ≥ 0.80`);
console.log(`  ${BIG.toLocaleString('en')} links vs 10k run beside it: ${ratio(big.rps, smallBeside.rps)} (that 10k run: ${smallBeside.rps} req/s, p99 ${smallBeside.p99} ms)`);
if (pg) console.log(`  resolve / bare (PostgreSQL, 10k):  ${ratio(pg.rps, baseline.rps)}`);
console.log(`  plain handler / bare (SQLite, 10k): ${ratio(plain.row.rps, baseline.rps)}   resolve / plain handler: ${ratio(small.rps, plain.row.rps)}`);
console.log(`  plain handler with group commit and chained events / bare: ${ratio(plain.batched.rps, baseline.rps)}   resolve / it: ${ratio(small.rps, plain.batched.rps)}`);
console.log(`  server CPU per request: ${baseline.cpuPerRequest} µs bare, ${small.cpuPerRequest} µs resolve (SQLite, 10k)`);
console.log(`  server RSS after run: ${small.rssMb} MB (10k), ${big.rssMb} MB (${BIG.toLocaleString('en')})`);
console.log(`  export RSS growth: ${exportSmall.growthMb} MB for 10,000 rows, ${exportBig.growthMb} MB for 100,000, ${exportBigger.growthMb} MB for 300,000 (constant memory: the last two about equal, not 3x)`);
const failed = [small, big, smallBeside, pg, plain.row, plain.batched].filter(Boolean).some((r) => r.non2xx > 0 || r.errors > 0);
if (failed) {
  console.log('some requests failed: see non-2xx/errors above');
  process.exitCode = 1;
}
