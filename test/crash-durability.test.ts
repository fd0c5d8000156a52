import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runPorthole, databaseEnv } from './helpers/cli.js';
import { freePort } from './helpers/net.js';
import { scratchDatabase, testDialects, type ScratchDatabase } from './helpers/databases.js';

/**
 * The promise of the resolve path (DESIGN §4, issue #3): every view is
 * committed, with its event, before its answer goes out. Shown the hard way:
 * the real server process (`node dist/main.js`) takes views from many
 * connections at once and is killed with SIGKILL in the middle of them; the
 * database must then hold every view that was answered 200, each with its
 * `viewed` event on an unbroken chain, and at most the views whose answers the
 * kill cut off besides. A server that answered before its commit loses
 * answered views here.
 */

const mainJs = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const CONNECTIONS = 16;
const KILL_AFTER = 400;

type Running = { child: ChildProcess; url: string; output: () => string; exited: Promise<number | null> };

/** `npm start` in a child process on the scratch database; resolves once it serves. */
async function startPorthole(db: ScratchDatabase): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, [mainJs], {
    env: { ...process.env, ...databaseEnv(db), PORT: String(port), HOST: '127.0.0.1', PORTHOLE_SECRET: 'cd'.repeat(32), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c) => (out += String(c)));
  child.stderr?.on('data', (c) => (out += String(c)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('Porthole is serving')) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`porthole exited with ${code} before serving:\n${out}`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

async function api<T>(run: Running, key: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${run.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text) as T;
}

type Outcome = { answered: number[]; cutOff: number; otherStatuses: number[]; otherBodies: unknown[] };

/** Views from `CONNECTIONS` loops at once until `KILL_AFTER` are answered, then `signal` in their midst. */
async function viewsUntilSignal(run: Running, token: string, signal: NodeJS.Signals): Promise<Outcome> {
  const answered: number[] = [];
  const otherStatuses: number[] = [];
  const otherBodies: unknown[] = [];
  let cutOff = 0;
  let killed = false;
  const loop = async () => {
    for (;;) {
      try {
        const res = await fetch(`${run.url}/v1/shared/${token}`);
        const body = (await res.json()) as { link?: { view_count: number } };
        if (res.status === 200 && body.link) answered.push(body.link.view_count);
        else {
          otherStatuses.push(res.status);
          otherBodies.push(body);
        }
      } catch {
        // Sent before the signal and never answered, or refused after it: either way no answer, and the loop ends.
        cutOff++;
        return;
      }
      if (!killed && answered.length >= KILL_AFTER) {
        killed = true;
        run.child.kill(signal);
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  return { answered, cutOff, otherStatuses, otherBodies };
}

/** A workspace's API key (printed on the first start) and a fresh link to view. */
async function linkOn(run: Running): Promise<{ key: string; link: { id: string; token: string } }> {
  const key = /api key: (\S+)/.exec(run.output())?.[1] as string;
  expect(key).toBeTruthy();
  await api(run, key, 'PUT', '/v1/resources/job/crash-1', { title: 'Crash test', fields: { status: 'running' } });
  const link = await api<{ id: string; token: string }>(run, key, 'POST', '/v1/links', { resource_type: 'job', resource_id: 'crash-1' });
  return { key, link };
}

/** What the database holds for the link, read through a server started on it again. */
async function storedViews(run: Running, key: string, linkId: string): Promise<{ viewCount: number; viewedEvents: number }> {
  const stored = await api<{ view_count: number }>(run, key, 'GET', `/v1/links/${linkId}`);
  const csv = await api<string>(run, key, 'GET', `/v1/links/${linkId}/events.csv?type=viewed`);
  return { viewCount: stored.view_count, viewedEvents: csv.trim().split('\n').length - 1 };
}

const dialects = await testDialects();

describe.each(dialects)('a server killed in the middle of views [%s]', (dialect) => {
  let db: ScratchDatabase | undefined;
  const running: Running[] = [];
  afterAll(async () => {
    for (const r of running) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await Promise.all(running.map((r) => r.exited));
    await db?.drop();
  });

  it('kept every view it answered, each with its viewed event on an intact chain, and serves on after a restart', async () => {
    db = await scratchDatabase(dialect);
    const first = await startPorthole(db);
    running.push(first);
    const { key, link } = await linkOn(first);

    const { answered, cutOff, otherStatuses } = await viewsUntilSignal(first, link.token, 'SIGKILL');
    expect(await first.exited).toBeNull(); // killed, not exited
    expect(otherStatuses).toEqual([]);
    expect(answered.length).toBeGreaterThanOrEqual(KILL_AFTER);
    // Every answer named its own view: no number handed out twice.
    expect(new Set(answered).size).toBe(answered.length);

    // The chain survived the kill (SQLite recovers its WAL on open).
    const verified = await runPorthole(['audit', 'verify', '--link', link.id], databaseEnv(db));
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);

    const again = await startPorthole(db);
    running.push(again);
    const stored = await storedViews(again, key, link.id);

    // Every answered view is stored, and nothing was counted but what was answered or cut off by the kill.
    expect(stored.viewCount).toBeGreaterThanOrEqual(Math.max(...answered));
    expect(stored.viewCount).toBeGreaterThanOrEqual(answered.length);
    expect(stored.viewCount).toBeLessThanOrEqual(answered.length + cutOff);
    expect(stored.viewedEvents).toBe(stored.viewCount);

    // The restarted server counts on from there.
    const next = await fetch(`${again.url}/v1/shared/${link.token}`);
    expect(next.status).toBe(200);
    expect(((await next.json()) as { link: { view_count: number } }).link.view_count).toBe(stored.viewCount + 1);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  it('stopped with SIGTERM in the middle of views, answers what it took in (200, or 503 not_ready once closing), counts exactly those, and exits 0', async () => {
    const scratch = await scratchDatabase(dialect);
    try {
      const first = await startPorthole(scratch);
      running.push(first);
      const { key, link } = await linkOn(first);
      const { answered, otherStatuses, otherBodies } = await viewsUntilSignal(first, link.token, 'SIGTERM');
      expect(await first.exited).toBe(0);
      expect(otherStatuses.filter((s) => s !== 503)).toEqual([]);
      for (const body of otherBodies) expect(body).toMatchObject({ reason: 'not_ready' });

      const again = await startPorthole(scratch);
      running.push(again);
      // A graceful stop loses nothing and counts nothing it did not answer.
      expect(await storedViews(again, key, link.id)).toEqual({ viewCount: answered.length, viewedEvents: answered.length });
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    } finally {
      await scratch.drop();
    }
  });
});
