import { expect, it } from 'vitest';
import type { CountJob } from '../src/app/public-ledger.js';
import { verifyAudit } from '../src/app/verify-audit.js';
import { buildLink, buildWorkspace, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

// A count is first tried on the chain head its lookup read (one statement on
// PostgreSQL for the batch, the head moved in the counting update on SQLite).
// Whatever head it is given, right, behind, ahead or with the wrong hash,
// every view is counted once and the chain stays whole.
describeEachDialect('counting on the chain head the lookup read', (h) => {
  async function setUp(): Promise<{ ws: TestWorkspace; link: any; head: () => Promise<{ seq: number; hash: string | null }> }> {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    const head = async () => {
      const r = await h().ctx.database.db.selectFrom('links').select(['event_seq', 'last_event_hash']).where('id', '=', link.id).executeTakeFirstOrThrow();
      return { seq: Number(r.event_seq), hash: r.last_event_hash };
    };
    return { ws, link, head };
  }

  const job = (hh: Harness, ws: TestWorkspace, linkId: string, head?: { seq: number; hash: string | null }): CountJob => ({
    kind: 'count',
    link: { id: linkId, workspaceId: ws.workspaceId, grantEpoch: 0, ...(head ? { head } : {}) },
    view: true,
    download: false,
    action: 'view',
    grant: null,
    password: 'none',
    base: { ip: '127.0.0.0', userAgent: 'test', viewer: 'v' },
    metadata: { action: 'view' },
    now: hh.ctx.now(),
  });

  async function viewCount(linkId: string): Promise<number> {
    const r = await h().ctx.database.db.selectFrom('links').select('view_count').where('id', '=', linkId).executeTakeFirstOrThrow();
    return Number(r.view_count);
  }

  it('right, stale, ahead or wrong-hash heads each count once and keep the chain whole', async () => {
    const { ws, link, head } = await setUp();
    const right = await head();
    expect(await h().ctx.ledger.count(job(h(), ws, link.id, right))).toMatchObject({ ok: true, viewCount: 1 });
    // The same head again is now stale: the view still counts, chained on the real head.
    expect(await h().ctx.ledger.count(job(h(), ws, link.id, right))).toMatchObject({ ok: true, viewCount: 2 });
    const now = await head();
    expect(await h().ctx.ledger.count(job(h(), ws, link.id, { seq: now.seq + 5, hash: 'f'.repeat(64) }))).toMatchObject({ ok: true, viewCount: 3 });
    // The right sequence number with another hash must not be taken for the head.
    const before = await head();
    expect(await h().ctx.ledger.count(job(h(), ws, link.id, { seq: before.seq, hash: '0'.repeat(64) }))).toMatchObject({ ok: true, viewCount: 4 });
    expect(await h().ctx.ledger.count(job(h(), ws, link.id))).toMatchObject({ ok: true, viewCount: 5 });
    expect(await viewCount(link.id)).toBe(5);
    const events = await h().ctx.database.db.selectFrom('events').select(['type', 'seq', 'prev_hash', 'hash']).where('link_id', '=', link.id).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toEqual(['created', 'viewed', 'viewed', 'viewed', 'viewed', 'viewed']);
    events.slice(1).forEach((e, i) => expect(e.prev_hash).toBe(events[i].hash));
    expect((await verifyAudit(h().ctx, { linkId: link.id })).breaks).toEqual([]);
  });

  it('many views of one link at once, all on the head read before any of them, count exactly and chain in order', async () => {
    const { ws, link, head } = await setUp();
    const read = await head();
    const results = await Promise.all(Array.from({ length: 40 }, () => h().ctx.ledger.count(job(h(), ws, link.id, read))));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.map((r) => (r.ok ? r.viewCount : 0)).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await viewCount(link.id)).toBe(40);
    expect((await verifyAudit(h().ctx, { linkId: link.id })).breaks).toEqual([]);
  });

  it('a head moved by an event written elsewhere (a management change) is not counted on', async () => {
    const { ws, link, head } = await setUp();
    expect(await h().ctx.ledger.count(job(h(), ws, link.id, await head()))).toMatchObject({ ok: true });
    const read = await head();
    const patched = await ws.api('PATCH', `/v1/links/${link.id}`, { label: 'moved the head' });
    expect(patched.status).toBe(200);
    expect(await h().ctx.ledger.count(job(h(), ws, link.id, read))).toMatchObject({ ok: true, viewCount: 2 });
    expect((await verifyAudit(h().ctx, { linkId: link.id })).breaks).toEqual([]);
  });

  it('a revoked link is not counted on its old head: the denial names the reason', async () => {
    const { ws, link, head } = await setUp();
    const read = await head();
    expect((await ws.api('POST', `/v1/links/${link.id}/revoke`, {})).status).toBe(200);
    expect(await h().ctx.ledger.count(job(h(), ws, link.id, read))).toEqual({ ok: false, reason: 'revoked' });
    expect(await viewCount(link.id)).toBe(0);
    expect((await verifyAudit(h().ctx, { linkId: link.id })).breaks).toEqual([]);
  });
});
