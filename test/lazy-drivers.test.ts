import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

// In a process of its own (the test runner's has loaded everything): a server on SQLite,
// without REDIS_URL, then the CommonJS modules it loaded. Runs the build.
const SCRIPT = `
const { loadConfig } = await import(process.env.DIST + '/config/config.js');
const { openContext, closeContext } = await import(process.env.DIST + '/app/open-context.js');
const { buildApp } = await import(process.env.DIST + '/http/build-app.js');
const ctx = await openContext(loadConfig({ DATA_DIR: process.env.DIR, PORTHOLE_SECRET: 'ab'.repeat(32), LOG_LEVEL: 'silent' }));
const app = await buildApp(ctx);
await app.ready();
const { createRequire } = await import('node:module');
const loaded = Object.keys(createRequire(import.meta.url)('node:module')._cache);
await app.close();
await closeContext(ctx);
console.log(JSON.stringify(loaded.filter((f) => /node_modules\\/(pg|ioredis)\\//.test(f))));
`;

it('a server on SQLite without Redis never loads the PostgreSQL or Redis client (about 25 MB of idle memory)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-lazy-'));
  try {
    const script = join(dir, 'serve.mjs');
    writeFileSync(script, SCRIPT);
    const { stdout } = await promisify(execFile)(process.execPath, [script], {
      env: { ...process.env, DIST: new URL('../dist', import.meta.url).pathname, DIR: dir, DATABASE_URL: '', REDIS_URL: '' },
    });
    expect(JSON.parse(stdout.trim().split('\n').pop() ?? 'null')).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
