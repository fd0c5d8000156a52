import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { ConfigError } from '../src/config/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { scratchDatabase, testDialects } from './helpers/databases.js';
import { freePort } from './helpers/net.js';

const dirs: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'porthole-start-'));
  dirs.push(d);
  return d;
}

for (const dialect of await testDialects()) {
  it(`first start prints the owner's secrets once, later starts print nothing secret [${dialect}]`, async () => {
    const scratch = await scratchDatabase(dialect);
    try {
      const env = { DATA_DIR: scratch.dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...(scratch.databaseUrl ? { DATABASE_URL: scratch.databaseUrl } : {}) };
      const first: string[] = [];
      const s1 = await startServer(env, (l) => first.push(l));
      const email = first.find((l) => l.startsWith('email: '))?.slice(7);
      const password = first.find((l) => l.startsWith('password: '))?.slice(10);
      const key = first.find((l) => l.startsWith('api key: '))?.slice(9);
      expect(email).toMatch(/@/);
      expect(password?.length).toBeGreaterThanOrEqual(16);
      expect(key).toMatch(/^phk_[A-Za-z0-9_-]{43}$/);

      // The printed key and password work against the running server.
      const me = await fetch(`${s1.url}/v1/workspace`, { headers: { authorization: `Bearer ${key}` } });
      expect(me.status).toBe(200);
      const login = await fetch(`${s1.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
      expect(login.status).toBe(200);
      expect((await fetch(`${s1.url}/readyz`)).status).toBe(200);
      await s1.close();

      const second: string[] = [];
      const s2 = await startServer(env, (l) => second.push(l));
      servers.push(s2);
      const joined = second.join('\n');
      expect(joined).not.toContain(password as string);
      expect(joined).not.toContain(key as string);
      expect(joined).not.toMatch(/password:|api key:/);
    } finally {
      for (const s of servers.splice(0)) await s.close();
      await scratch.drop();
    }
  });
}

it('the SQLite default creates and migrates the database in DATA_DIR', async () => {
  const dir = dataDir();
  const out: string[] = [];
  const s = await startServer({ DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' }, (l) => out.push(l));
  servers.push(s);
  expect(s.ctx.database.dialect).toBe('sqlite');
  expect(out.at(-1)).toContain('sqlite');
  const tables = await s.ctx.database.db.introspection.getTables();
  expect(tables.map((t) => t.name)).toContain('links');
});

it.each([
  ['PORT', 'abc'],
  ['DATABASE_URL', 'mysql://localhost/x'],
  ['PORTHOLE_SECRET', 'too-short'],
  ['LOG_LEVEL', 'loud'],
  ['PUBLIC_URL', 'not a url'],
])('a bad %s stops the start with a message naming it', async (name, value) => {
  const start = startServer({ DATA_DIR: dataDir(), PORT: '0', [name]: value }, () => {});
  await expect(start).rejects.toBeInstanceOf(ConfigError);
  await expect(start).rejects.toThrow(name);
});

it('serves the OpenAPI document and its browser, health and readiness', async () => {
  const s = await startServer({ DATA_DIR: dataDir(), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' }, () => {});
  servers.push(s);
  const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  expect(doc.openapi).toMatch(/^3\./);
  for (const [path, method] of [
    ['/v1/links', 'post'],
    ['/v1/links', 'get'],
    ['/v1/links/{id}', 'patch'],
    ['/v1/links/{id}/rotate', 'post'],
    ['/v1/resources/{type}/{id}', 'put'],
    ['/v1/resource-types/{type}', 'put'],
    ['/v1/workspace', 'patch'],
    ['/v1/api-keys', 'post'],
    ['/v1/members', 'get'],
    ['/v1/shared/{id}', 'get'],
    ['/v1/links/{id}/events', 'get'],
  ]) {
    expect(doc.paths[path]?.[method], `${method} ${path}`).toBeTruthy();
  }
  const createLink = doc.paths['/v1/links'].post as { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } };
  expect(Object.keys(createLink.requestBody.content['application/json'].schema.properties)).toContain('max_views');
  const docs = await fetch(`${s.url}/docs/`);
  expect(docs.status).toBe(200);
  expect(await docs.text()).toContain('<html');
  expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  expect(await (await fetch(`${s.url}/readyz`)).json()).toEqual({ status: 'ready', database: 'sqlite' });
});

it('npm start with the database out of reach says so in one line and exits 1', async () => {
  const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
  const env = { ...process.env, DATA_DIR: dataDir(), PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/porthole` };
  const failed = await promisify(execFile)(process.execPath, [main], { env, timeout: 20_000 }).then(
    () => null,
    (e: { code?: number; stderr?: string }) => e,
  );
  expect(failed?.code).toBe(1);
  expect(failed?.stderr).toMatch(/^porthole: could not start: cannot reach the database: .*Is PostgreSQL running, and does DATABASE_URL point at it\?\n$/);
});

it('started under another PORTHOLE_SECRET than its links were made under: it warns, links still open, their URLs are null (not a 500), and rotating or making a new link gives working ones', async () => {
  const dir = dataDir();
  const base = { DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' };
  const first: string[] = [];
  const s1 = await startServer({ ...base, PORTHOLE_SECRET: 'a1'.repeat(32) }, (l) => first.push(l));
  const key = first.find((l) => l.startsWith('api key: '))?.slice(9) as string;
  const api = (s: RunningServer, method: string, path: string, body?: unknown) =>
    fetch(`${s.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  expect((await api(s1, 'PUT', '/v1/resources/job/j1', { title: 'Job', fields: {} })).status).toBe(201);
  type LinkBody = { id: string; token: string; url: string | null };
  const made = (await (await api(s1, 'POST', '/v1/links', { resource_type: 'job', resource_id: 'j1' })).json()) as LinkBody;
  expect(first.join('\n')).not.toContain('warning');
  await s1.close();

  const second: string[] = [];
  const s2 = await startServer({ ...base, PORTHOLE_SECRET: 'b2'.repeat(32) }, (l) => second.push(l));
  servers.push(s2);
  expect(second.join('\n')).toMatch(/^warning: PORTHOLE_SECRET is not the secret the stored links were made under/m);
  const one = await api(s2, 'GET', `/v1/links/${made.id}`);
  expect(one.status).toBe(200);
  expect(await one.json()).toMatchObject({ id: made.id, url: null, short_url: null, token: null, short_code: null, status: 'active' });
  const list = await api(s2, 'GET', '/v1/links');
  expect(list.status).toBe(200);
  expect(((await list.json()) as { items: LinkBody[] }).items.map((l) => l.id)).toContain(made.id);
  const qr = await api(s2, 'GET', `/v1/links/${made.id}/qr.svg`);
  expect(qr.status).toBe(409);
  expect(((await qr.json()) as { reason: string }).reason).toBe('conflict');
  // Its holders still open it: it is found by its token's hash.
  expect((await fetch(`${s2.url}/v1/shared/${made.token}`)).status).toBe(200);
  // reuse_active does not hand back a link whose URL cannot be given; rotating gives the old one a new URL.
  const reused = (await (await api(s2, 'POST', '/v1/links', { resource_type: 'job', resource_id: 'j1', reuse_active: true })).json()) as LinkBody;
  expect(reused.id).not.toBe(made.id);
  expect(reused.url).toMatch(/\/shared\//);
  const rotated = await api(s2, 'POST', `/v1/links/${made.id}/rotate`);
  expect(rotated.status).toBe(200);
  expect(((await rotated.json()) as LinkBody).url).toMatch(/\/shared\//);
});

for (const dialect of await testDialects()) {
  it(`two instances starting at once on an empty database both serve, and one of them prints the first workspace's secrets [${dialect}]`, async () => {
    const scratch = await scratchDatabase(dialect);
    try {
      const env = { DATA_DIR: scratch.dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', PORTHOLE_SECRET: 'c3'.repeat(32), ...(scratch.databaseUrl ? { DATABASE_URL: scratch.databaseUrl } : {}) };
      const outputs: string[][] = [[], []];
      const started = await Promise.allSettled(outputs.map((out) => startServer(env, (l) => out.push(l))));
      for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
      expect(started.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(outputs.filter((o) => o.some((l) => l.startsWith('api key: ')))).toHaveLength(1);
    } finally {
      for (const s of servers.splice(0)) await s.close();
      await scratch.drop();
    }
  });
}
