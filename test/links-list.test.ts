import { expect, it } from 'vitest';
import { buildLink, buildResource, buildWorkspace, collectPages, send } from './helpers/factories.js';
import { describeEachDialect } from './helpers/harness.js';

const HOUR = 3_600_000;
const ids = (res: { body: any }) => res.body.items.map((l: any) => l.id);

describeEachDialect('links list', (h) => {
  it('filters by status: one link of each of active, disabled, expired, revoked, exhausted', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const target = { resource_type: r.type, resource_id: r.id };
    const active = await buildLink(ws, target);
    const disabled = await buildLink(ws, target);
    expect((await ws.api('PATCH', `/v1/links/${disabled.id}`, { enabled: false })).status).toBe(200);
    const expired = await buildLink(ws, { ...target, expires_at: new Date(h().ctx.now() + HOUR).toISOString() });
    const revoked = await buildLink(ws, target);
    expect((await ws.api('POST', `/v1/links/${revoked.id}/revoke`)).status).toBe(200);
    const exhausted = await buildLink(ws, { ...target, max_views: 1 });
    expect((await send(h().app, 'GET', `/v1/shared/${exhausted.token}`)).status).toBe(200);

    h().advance(2 * HOUR);
    try {
      const expected: Record<string, string> = { active: active.id, disabled: disabled.id, expired: expired.id, revoked: revoked.id, exhausted: exhausted.id };
      for (const [status, id] of Object.entries(expected)) {
        const res = await ws.api('GET', `/v1/links?status=${status}`);
        expect(res.status, status).toBe(200);
        expect(ids(res), status).toEqual([id]);
        expect(res.body.items[0].status).toBe(status);
        expect((await ws.api('GET', `/v1/links/${id}`)).body.status).toBe(status);
      }
      expect((await ws.api('GET', `/v1/links/${exhausted.id}`)).body).toMatchObject({ view_count: 1, max_views: 1 });

      const all = await ws.api('GET', '/v1/links');
      expect(ids(all).sort()).toEqual([active.id, disabled.id, expired.id, exhausted.id].sort());
      const withRevoked = await ws.api('GET', '/v1/links?include_revoked=true');
      expect(ids(withRevoked).sort()).toEqual(Object.values(expected).sort());
      expect((await ws.api('GET', '/v1/links?include_revoked=false')).body).toEqual(all.body);
    } finally {
      h().advance(-2 * HOUR);
    }
  });

  it('filters by target, collection and creator; an unknown type is 422 unknown_resource_type', async () => {
    const ws = await buildWorkspace(h());
    const a = await buildResource(ws, { type: 'job' });
    const b = await buildResource(ws, { type: 'job' });
    const rep = await buildResource(ws, { type: 'report' });
    const toA = await buildLink(ws, { resource_type: 'job', resource_id: a.id });
    const toA2 = await buildLink(ws, { resource_type: "job", resource_id: a.id });
    const toB = await ws.api('POST', '/v1/links', { resource_type: 'job', resource_id: b.id }, { 'x-porthole-actor': 'alice' });
    expect(toB.body.created_by).toBe('app:alice');
    const jobs = await ws.api('POST', '/v1/links', { resource_type: 'job', resource_id: null }, { 'x-porthole-actor': 'alice' });
    const toReport = await buildLink(ws, { resource_type: 'report', resource_id: rep.id });

    expect(ids(await ws.api('GET', `/v1/links?resource_type=job&resource_id=${a.id}`))).toEqual([toA2.id, toA.id]);
    expect(ids(await ws.api('GET', `/v1/links?resource_type=job&resource_id=${b.id}`))).toEqual([toB.body.id]);
    expect(ids(await ws.api('GET', '/v1/links?resource_type=job'))).toEqual([jobs.body.id, toB.body.id, toA2.id, toA.id]);
    expect(ids(await ws.api('GET', '/v1/links?resource_type=job&collection=true'))).toEqual([jobs.body.id]);
    expect(ids(await ws.api('GET', '/v1/links?resource_type=report'))).toEqual([toReport.id]);
    expect(ids(await ws.api('GET', '/v1/links?created_by=app:alice'))).toEqual([jobs.body.id, toB.body.id]);
    expect(ids(await ws.api('GET', '/v1/links?created_by=app:alice&resource_type=job&collection=true'))).toEqual([jobs.body.id]);
    expect(ids(await ws.api('GET', '/v1/links?created_by=app:nobody'))).toEqual([]);
    expect(ids(await ws.api('GET', `/v1/links?created_by=${encodeURIComponent(toA.created_by)}`))).toEqual([toReport.id, toA2.id, toA.id]);
    expect(ids(await ws.api('GET', `/v1/links?resource_type=job&resource_id=no-such-job`))).toEqual([]);

    const unknown = await ws.api('GET', '/v1/links?resource_type=spaceship');
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ reason: 'unknown_resource_type', field: 'resource_type', error: expect.any(String) });
    const idWithoutType = await ws.api('GET', `/v1/links?resource_id=${a.id}`);
    expect(idWithoutType.status).toBe(400);
    expect(idWithoutType.body).toMatchObject({ reason: 'invalid_request', field: 'resource_type' });
  });

  it('pages 27 links newest first with a stable cursor: no duplicates, no gaps, new links do not shift later pages', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const created: string[] = [];
    for (let i = 0; i < 27; i++) {
      created.push((await buildLink(ws, { resource_type: r.type, resource_id: r.id, label: `#${i}` })).id);
      // Spread a few over distinct milliseconds, and leave others sharing one, to exercise the id tie-break.
      if (i % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const everything = await ws.api('GET', '/v1/links?limit=200');
    expect(everything.body.next_cursor).toBeNull();
    const order: string[] = ids(everything);
    expect([...order].sort()).toEqual([...created].sort());
    // Newest first, ties broken by id (descending).
    const keys = everything.body.items.map((l: any) => [Date.parse(l.created_at), l.id] as const);
    for (let i = 1; i < keys.length; i++) {
      const [t0, id0] = keys[i - 1];
      const [t1, id1] = keys[i];
      expect(t0 > t1 || (t0 === t1 && id0 > id1), `${i}`).toBe(true);
    }
    expect(order[0]).toBe(created[26]);
    expect(order[26]).toBe(created[0]);

    const pages = await collectPages(ws, '/v1/links?limit=10');
    expect(pages.map((p) => p.length)).toEqual([10, 10, 7]);
    expect(pages.flat()).toEqual(order);

    // A link made between fetches lands before page one and moves nothing after the cursor.
    const first = await ws.api('GET', '/v1/links?limit=10');
    const newcomer = await buildLink(ws, { resource_type: r.type, resource_id: r.id });
    const second = await ws.api('GET', `/v1/links?limit=10&cursor=${first.body.next_cursor}`);
    const third = await ws.api('GET', `/v1/links?limit=10&cursor=${second.body.next_cursor}`);
    expect([...ids(first), ...ids(second), ...ids(third)]).toEqual(order);
    expect(third.body.next_cursor).toBeNull();
    expect(ids(await ws.api('GET', '/v1/links?limit=1'))).toEqual([newcomer.id]);

    // Cursors combine with filters, and an exact-multiple last page ends cleanly.
    const bySeven = await collectPages(ws, `/v1/links?limit=7&resource_type=${r.type}&resource_id=${r.id}`);
    expect(bySeven.map((p) => p.length)).toEqual([7, 7, 7, 7]);
    expect(bySeven.flat()).toEqual([newcomer.id, ...order]);

    for (const cursor of ['not-a-cursor!', 'bm9wZQ', Buffer.from('["x","y"]').toString('base64url')]) {
      const res = await ws.api('GET', `/v1/links?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status, cursor).toBe(400);
      expect(res.body.reason, cursor).toMatch(/^invalid_(cursor|request)$/);
    }
    const bad = await ws.api('GET', `/v1/links?cursor=${Buffer.from('["x","y"]').toString('base64url')}`);
    expect(bad.body.reason).toBe('invalid_cursor');
  });
});
