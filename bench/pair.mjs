// npm run bench:pair -- <other checkout> [pairs=5] [links=10000]
//
// This build's resolve path against another built checkout's (npm ci && npm run build
// there), run in turn: this, other, this, other… each on a fresh copy of one seeded
// database. On a machine whose speed drifts from minute to minute by more than most
// changes move it, alternated pairs and their medians say what one run of each cannot.
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../dist/config/config.js';
import { closeContext, openContext } from '../dist/app/open-context.js';
import { measure, settleOnDisk, startServer, stopServer } from './measure.mjs';
import { seedLinks } from './seed.mjs';

const [other, pairsArg = '5', linksArg = '10000'] = process.argv.slice(2);
const pairs = Number(pairsArg);
const links = Number(linksArg);
if (!other || !existsSync(join(other, 'bench', 'server.mjs')) || !existsSync(join(other, 'dist', 'main.js')) || !(pairs >= 1) || !(links >= 1)) {
  console.error('usage: npm run bench:pair -- <built checkout of Porthole> [pairs=5] [links=10000]');
  process.exit(2);
}

const secret = 'ab'.repeat(32);
const template = mkdtempSync(join(tmpdir(), 'porthole-pair-'));
const ctx = await openContext(loadConfig({ DATA_DIR: template, PORTHOLE_SECRET: secret, DATABASE_URL: '', LOG_LEVEL: 'silent' }));
console.log(`seeding ${links.toLocaleString('en')} links…`);
const tokens = await seedLinks(ctx, links);
await closeContext(ctx);

const servers = [
  ['this', join(fileURLToPath(new URL('.', import.meta.url)), 'server.mjs')],
  ['other', join(resolve(other), 'bench', 'server.mjs')],
];
const rows = { this: [], other: [] };
try {
  for (let i = 0; i < pairs; i++) {
    for (const [label, script] of servers) {
      const dataDir = mkdtempSync(join(tmpdir(), 'porthole-pair-run-'));
      cpSync(template, dataDir, { recursive: true });
      settleOnDisk(dataDir);
      const server = await startServer('porthole', { DATA_DIR: dataDir, PORTHOLE_SECRET: secret, DATABASE_URL: '' }, script);
      try {
        rows[label].push(await measure(`${label}, pair ${i + 1}`, server, () => `/v1/shared/${tokens[(Math.random() * tokens.length) | 0]}`));
      } finally {
        await stopServer(server);
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  }
} finally {
  rmSync(template, { recursive: true, force: true });
}

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log('\nmedians');
for (const [label] of servers) {
  const r = rows[label];
  console.log(`  ${label.padEnd(6)} ${Math.round(median(r.map((x) => x.rps)))} req/s   p99 ${median(r.map((x) => x.p99))} ms   p99.9 ${median(r.map((x) => x.p999))} ms   max ${median(r.map((x) => x.max))} ms   server CPU ${Math.round(median(r.map((x) => x.cpuPerRequest)))} µs/req`);
}
console.log(`  this / other: ${(median(rows.this.map((x) => x.rps)) / median(rows.other.map((x) => x.rps))).toFixed(2)}`);
if ([...rows.this, ...rows.other].some((r) => r.non2xx > 0 || r.errors > 0)) {
  console.log('some requests failed: see non-2xx/errors above');
  process.exitCode = 1;
}
