import { beforeAll, expect, it } from 'vitest';
import { verifyAudit } from '../src/app/verify-audit.js';
import type { Link } from '../src/domain/link.js';
import { chainedEvent, countAndAppend } from '../src/storage/events.js';
import { findLinkById } from '../src/storage/links.js';
import { buildLink, buildWorkspace, send, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

// On PostgreSQL every statement is a round trip: a view is counted and chained in one
// statement on the chain head the lookup read, and falls back to two when that head moved.

describeEachDialect(
  'PostgreSQL: a view counted and chained in one statement',
  (harness) => {
    let h: Harness;
    let ws: TestWorkspace;
    beforeAll(async () => {
      h = harness();
      ws = await buildWorkspace(h);
    });

    const read = async (id: string) => (await findLinkById(h.ctx.database.db, ws.workspaceId, id)) as Link;
    const viewedEvent = (link: Link, seq: number, prev: string | null) =>
      chainedEvent(link, seq + 1, prev, { type: 'viewed', ip: '203.0.113.0', userAgent: 'test', email: null, actor: null, metadata: { action: 'view' } }, h.ctx.now());
    const countOn = (link: Link, head: { seq: number; hash: string | null }) =>
      countAndAppend(h.ctx.database.db, link, { view: true, download: false }, head, [viewedEvent(link, head.seq, head.hash)], h.ctx.now());
    const events = (id: string) => h.ctx.database.db.selectFrom('events').select(['seq', 'type']).where('link_id', '=', id).orderBy('seq').execute();

    it('counts, moves the chain head and inserts the event when the head is the one read', async () => {
      const link = await read((await buildLink(ws)).id);
      expect(await countOn(link, { seq: link.eventSeq, hash: link.lastEventHash })).toEqual({ viewCount: 1, downloadCount: 0 });
      const after = await read(link.id);
      expect([after.viewCount, after.eventSeq]).toEqual([1, link.eventSeq + 1]);
      expect(after.firstViewedAt).not.toBeNull();
      expect(await events(link.id)).toEqual([
        { seq: 1, type: 'created' },
        { seq: 2, type: 'viewed' },
      ]);
      expect((await verifyAudit(h.ctx, { linkId: link.id })).breaks).toEqual([]);
    });

    it('writes nothing when the head moved since it was read, and the view path then counts in two', async () => {
      const stale = await read((await buildLink(ws)).id);
      expect((await ws.api('PATCH', `/v1/links/${stale.id}`, { label: 'moved the head' })).status).toBe(200);
      expect(await countOn(stale, { seq: stale.eventSeq, hash: stale.lastEventHash })).toBeNull();
      expect((await read(stale.id)).viewCount).toBe(0);
      expect((await events(stale.id)).map((e) => e.type)).toEqual(['created', 'updated']);
      // Through the API the same stale head is met by the fallback, in the same transaction.
      expect((await send(h.app, 'GET', `/v1/shared/${(await buildLinkToken(ws, stale.id))}`)).status).toBe(200);
    });

    it('writes nothing for a link that no longer passes (revoked, at its view limit)', async () => {
      const revoked = await buildLink(ws);
      await ws.api('POST', `/v1/links/${revoked.id}/revoke`);
      const r = await read(revoked.id);
      expect(await countOn(r, { seq: r.eventSeq, hash: r.lastEventHash })).toBeNull();
      const limited = await buildLink(ws, { max_views: 1 });
      expect((await send(h.app, 'GET', `/v1/shared/${limited.token}`)).status).toBe(200);
      const l = await read(limited.id);
      expect(await countOn(l, { seq: l.eventSeq, hash: l.lastEventHash })).toBeNull();
      expect((await read(limited.id)).viewCount).toBe(1);
      for (const id of [revoked.id, limited.id]) expect((await verifyAudit(h.ctx, { linkId: id })).breaks).toEqual([]);
    });

    it('many views of one link at once: each counted once, by one path or the other, the chain intact', async () => {
      const link = await buildLink(ws);
      const statuses = await Promise.all(Array.from({ length: 40 }, () => send(h.app, 'GET', `/v1/shared/${link.token}`).then((r) => r.status)));
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect((await read(link.id)).viewCount).toBe(40);
      const report = await verifyAudit(h.ctx, { linkId: link.id });
      expect(report).toMatchObject({ events: 41, breaks: [] });
    });
  },
  { only: 'postgres' },
);

/** The token of a link by id (the API shows it to its creator). */
async function buildLinkToken(ws: TestWorkspace, id: string): Promise<string> {
  return (await ws.api('GET', `/v1/links/${id}`)).body.token;
}
