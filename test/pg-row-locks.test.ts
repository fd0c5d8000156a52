import pg from 'pg';
import { beforeAll, expect, it } from 'vitest';
import { verifyAudit } from '../src/app/verify-audit.js';
import { findLinkById } from '../src/storage/links.js';
import { buildLink, buildWorkspace, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, listening, type Harness } from './helpers/harness.js';

/**
 * Another session holds a link's row (an open transaction in psql, a long
 * script): its views and edits wait at most the lock wait (5 s) and are then
 * told to retry (503 not_ready), never left hanging; other links' views go on
 * meanwhile. SQLite's whole-file lock has the same bound (see internal-errors).
 */
describeEachDialect(
  'a link row held by another PostgreSQL session',
  (harness) => {
    let h: Harness;
    let ws: TestWorkspace;
    beforeAll(async () => {
      h = harness();
      ws = await buildWorkspace(h);
    });

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
