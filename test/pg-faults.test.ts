import { sql } from 'kysely';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import pg from 'pg';
import { beforeAll, expect, it } from 'vitest';
import { verifyAudit } from '../src/app/verify-audit.js';
import { openDatabase, unavailable } from '../src/storage/database.js';
import { CONNECT_TIMEOUT_MS } from '../src/storage/dialects/postgres.js';
import { findLinkById } from '../src/storage/links.js';
import { PG_ADMIN_URL } from './helpers/databases.js';
import { freePort } from './helpers/net.js';
import { buildLink, buildWorkspace, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, listening, type Harness } from './helpers/harness.js';

/**
 * PostgreSQL failing under the server, as it does in production:
 * - it drops the connections (a failover, a restart, an administrator's
 *   pg_terminate_backend) while views arrive: those caught in it are told to
 *   retry (503 `not_ready` with Retry-After), never a 500 or a hang; the pool
 *   reconnects by itself; the audit trail holds exactly what was counted;
 * - it refuses connections, or takes them and never answers;
 * - another session holds a link's row (an open transaction in psql, a long
 *   script): its views and edits wait at most the lock wait (5 s) and are
 *   then told to retry, while other links' views go on. SQLite's whole-file
 *   lock has the same bound (see internal-errors).
 */
describeEachDialect(
  'PostgreSQL failing under the server',
  (harness) => {
    let h: Harness;
    let ws: TestWorkspace;
    beforeAll(async () => {
      h = harness();
      ws = await buildWorkspace(h);
    });

    /** Ends every other session on the harness's database, as a failover would. */
    const dropConnections = async () => {
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      try {
        const name = new URL(h.ctx.config.databaseUrl as string).pathname.slice(1);
        const { rows } = await admin.query('select pg_terminate_backend(pid) as ended from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
        return rows.length;
      } finally {
        await admin.end();
      }
    };

    it('answers 200 or 503 not_ready with Retry-After, recovers, and keeps count and chain exact', async () => {
      const base = await listening(h.app);
      const link = await buildLink(ws);
      const statuses = new Map<number, number>();
      const refusals: Array<{ body: unknown; retryAfter: string | null }> = [];
      let answered = 0;
      let stop = false;
      const loop = async () => {
        while (!stop) {
          const res = await fetch(`${base}/v1/shared/${link.token}`);
          const body = await res.json();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 200) answered++;
          else refusals.push({ body, retryAfter: res.headers.get('retry-after') });
        }
      };
      const loops = Array.from({ length: 12 }, loop);
      const waitFor = async (n: number) => {
        while (answered < n) await new Promise((r) => setTimeout(r, 5));
      };
      // Twice, so the pool must have reconnected after the first time for the second to find connections to end.
      await waitFor(100);
      expect(await dropConnections()).toBeGreaterThan(0);
      await waitFor(answered + 100);
      expect(await dropConnections()).toBeGreaterThan(0);
      await waitFor(answered + 100);
      stop = true;
      await Promise.all(loops);

      expect([...statuses.keys()].filter((s) => s !== 200 && s !== 503)).toEqual([]);
      for (const r of refusals) {
        expect(r.body).toEqual({ error: expect.any(String), reason: 'not_ready' });
        expect(r.retryAfter).toBe('1');
      }

      const stored = await findLinkById(h.ctx.database.db, ws.workspaceId, link.id);
      // A commit cut off mid-flight may have landed without its answer: counted views lie between the 200s and all answers.
      expect(stored?.viewCount).toBeGreaterThanOrEqual(answered);
      expect(stored?.viewCount).toBeLessThanOrEqual(answered + refusals.length);
      const viewed = await h.ctx.database.db.selectFrom('events').select((e) => e.fn.countAll<number>().as('n')).where('link_id', '=', link.id).where('type', '=', 'viewed').executeTakeFirstOrThrow();
      expect(Number(viewed.n)).toBe(stored?.viewCount);
      expect((await verifyAudit(h.ctx, { linkId: link.id })).breaks).toEqual([]);

      // And the management API, on the same pool, works too.
      expect((await ws.api('GET', `/v1/links/${link.id}`)).status).toBe(200);
    });

    it('tells a lost, refused or unanswered connection from a statement that is wrong', async () => {
      const errorOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);
      // A server that is not there: a port that was just free.
      const nowhere = openDatabase({ dataDir: '', databaseUrl: `postgres://postgres@127.0.0.1:${await freePort()}/none` });
      try {
        expect(unavailable(await errorOf(sql`select 1`.execute(nowhere.db)))).toBe('lost');
      } finally {
        await nowhere.close();
      }
      // A server that takes the connection and never answers (hung, or a black-holed route): given up after the connect timeout.
      const sockets: Socket[] = [];
      const silent = createServer((socket) => void sockets.push(socket));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const hung = openDatabase({ dataDir: '', databaseUrl: `postgres://postgres@127.0.0.1:${(silent.address() as AddressInfo).port}/none` });
      try {
        const started = performance.now();
        expect(unavailable(await errorOf(sql`select 1`.execute(hung.db)))).toBe('lost');
        expect(performance.now() - started).toBeLessThan(CONNECT_TIMEOUT_MS + 2_000);
      } finally {
        await hung.close();
        for (const socket of sockets) socket.destroy();
        await new Promise((r) => silent.close(r));
      }
      // Errors of the statement itself are not unavailability: they stay 4xx or 500, never "try again".
      const db = h.ctx.database.db;
      expect(unavailable(await errorOf(sql`selec 1`.execute(db)))).toBeNull();
      expect(unavailable(await errorOf(sql`insert into workspaces (id) values (${ws.workspaceId})`.execute(db)))).toBeNull();
      expect(unavailable(new Error('Connection terminated unexpectedly'))).toBe('lost');
      expect(unavailable(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY_SNAPSHOT' }))).toBe('busy');
    }, 30_000);

    it('bounds the wait of that link\'s views and edits (503 not_ready), while other links are viewed as usual', async () => {
      const base = await listening(h.app);
      const [held, free] = [await buildLink(ws), await buildLink(ws)];
      const other = new pg.Client({ connectionString: h.ctx.config.databaseUrl });
      await other.connect();
      const timed = async (send: () => Promise<Response>) => {
        const started = performance.now();
        const res = await send();
        return { status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after'), ms: performance.now() - started };
      };
      const view = (token: string) => timed(() => fetch(`${base}/v1/shared/${token}`, { signal: AbortSignal.timeout(30_000) }));
      try {
        await other.query('begin');
        await other.query('select 1 from links where id = $1 for update', [held.id]);
        const edit = timed(() =>
          fetch(`${base}/v1/links/${held.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${ws.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ label: 'x' }), signal: AbortSignal.timeout(30_000) }),
        );
        const heldView = view(held.token);
        // Other links, in the same moments: counted while the held one waits.
        const freeViews = [];
        for (let i = 0; i < 5; i++) {
          freeViews.push(await view(free.token));
          await new Promise((r) => setTimeout(r, 200));
        }
        for (const r of [await heldView, await edit]) {
          expect(r.status).toBe(503);
          expect(r.body).toEqual({ error: 'The database is busy; try again in a moment', reason: 'not_ready' });
          expect(r.retryAfter).toBe('1');
          expect(r.ms).toBeLessThan(15_000);
        }
        expect(freeViews.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
        // At most one of them shared a batch with the held link's view, and waited its lock wait with it.
        expect(freeViews.filter((r) => r.ms > 1000).length).toBeLessThanOrEqual(1);
      } finally {
        await other.query('rollback').catch(() => {});
        await other.end();
      }
      // Released: the link is viewed again, and the refused view counted nothing.
      expect((await view(held.token)).status).toBe(200);
      expect((await findLinkById(h.ctx.database.db, ws.workspaceId, held.id))?.viewCount).toBe(1);
      expect((await verifyAudit(h.ctx, { linkId: held.id })).breaks).toEqual([]);
    }, 60_000);
  },
  { only: 'postgres' },
);
