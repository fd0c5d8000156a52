import { expect, it } from 'vitest';
import { buildLink, buildResource, buildWorkspace, send } from './helpers/factories.js';
import { describeEachDialect, listening } from './helpers/harness.js';
import { verifyAudit } from '../src/app/verify-audit.js';
import { viewSchema } from '../src/http/public/shared-api.js';

describeEachDialect('public API', (h) => {
  it('opens a record link: projected fields, version, grant, a viewed event', async () => {
    const ws = await buildWorkspace(h());
    await ws.api('PUT', '/v1/resource-types/job', {
      label: 'Job',
      fields: [
        { key: 'status', label: 'Status', format: 'status', public: true },
        { key: 'secret_note', label: 'Note', format: 'text', public: false },
      ],
      tables: [{ key: 'tasks', label: 'Tasks', columns: [{ key: 'name', label: 'Name' }] }],
    });
    const r = await buildResource(ws, { type: 'job', fields: { status: 'running', secret_note: 'hidden' }, tables: { tasks: [{ name: 'a' }, { name: 'b' }] } });
    const link = await buildLink(ws, { resource_type: 'job', resource_id: r.id });
    const res = await send(h().app, 'GET', `/v1/shared/${link.token}`);
    expect(res.status).toBe(200);
    expect(res.body.kind).toBe('record');
    expect(res.body.resource.fields.map((f: any) => f.key)).toEqual(['status']);
    expect(res.text).not.toContain('hidden');
    expect(res.body.resource.tables[0].rows).toEqual([{ name: 'a' }, { name: 'b' }]);
    expect(res.body.grant).toMatch(/^g1\./);
    expect(res.headers['x-porthole-grant']).toBe(res.body.grant);
    expect(res.body.link.view_count).toBe(1);
    const events = await h().ctx.database.db.selectFrom('events').selectAll().where('link_id', '=', link.id).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toEqual(['created', 'viewed']);
  });

  it('record and collection views match the documented response schema exactly', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws, { type: 'job', fields: { status: 'done', n: 3 }, tables: { tasks: [{ name: 'a' }] } });
    await buildResource(ws, { type: 'job', id: 'job-2', fields: { status: 'queued' } });
    const record = await buildLink(ws, { resource_type: 'job', resource_id: r.id, label: 'For Ana', settings: { fields: 'all' } });
    const collection = await buildLink(ws, { resource_type: 'job', resource_id: null, settings: { allow_export: false } });
    for (const link of [record, collection]) {
      const res = await send(h().app, 'GET', `/v1/shared/${link.token}`);
      expect(res.status).toBe(200);
      // strict(): the body carries no key the schema does not document.
      const parsed = viewSchema.strict().safeParse(res.body);
      expect(parsed.error?.issues ?? []).toEqual([]);
      expect(JSON.parse(JSON.stringify(parsed.data))).toEqual(res.body);
    }
  });

  it('short code opens the same link', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    const res = await send(h().app, 'GET', `/v1/shared/${link.short_code}`);
    expect(res.status).toBe(200);
    expect(res.body.link.id).toBe(link.id);
  });

  it('malformed token is 400 invalid_token, unknown is 404', async () => {
    expect((await send(h().app, 'GET', '/v1/shared/abc')).body.reason).toBe('invalid_token');
    const unknown = await send(h().app, 'GET', `/v1/shared/${'A'.repeat(43)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: 'This share link does not exist', reason: 'not_found' });
  });

  it('counts exactly max_views under 200 concurrent requests', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws, { max_views: 25 });
    const address = await listening(h().app);
    const results = await Promise.all(
      Array.from({ length: 200 }, () => fetch(`${address}/v1/shared/${link.token}`).then(async (r) => ({ status: r.status, body: (await r.json()) as any }))),
    );
    const ok = results.filter((r) => r.status === 200);
    const gone = results.filter((r) => r.status === 410);
    expect(ok).toHaveLength(25);
    expect(gone).toHaveLength(175);
    expect(gone.every((r) => r.body.reason === 'max_views_reached')).toBe(true);
    const after = await ws.api('GET', `/v1/links/${link.id}`);
    expect(after.body.view_count).toBe(25);
    expect(after.body.status).toBe('exhausted');
    const viewed = await h().ctx.database.db.selectFrom('events').select('id').where('link_id', '=', link.id).where('type', '=', 'viewed').execute();
    expect(viewed).toHaveLength(25);
  });

  it('views and management writes at once: none fails, every view counted, every chain intact', async () => {
    // On SQLite the views are written by the writer thread while these edits write on the main
    // connection: two writers that must wait for each other, never fail with SQLITE_BUSY.
    const ws = await buildWorkspace(h());
    const links = await Promise.all(Array.from({ length: 4 }, () => buildLink(ws)));
    const address = await listening(h().app);
    const views = Array.from({ length: 160 }, (_, i) => fetch(`${address}/v1/shared/${links[i % 4].token}`).then((r) => r.status));
    const edits = Array.from({ length: 24 }, (_, i) => ws.api('PATCH', `/v1/links/${links[i % 4].id}`, { label: `edit ${i}` }).then((r) => r.status));
    const [viewStatuses, editStatuses] = await Promise.all([Promise.all(views), Promise.all(edits)]);
    expect(viewStatuses.filter((s) => s !== 200)).toEqual([]);
    expect(editStatuses.filter((s) => s !== 200)).toEqual([]);
    for (const link of links) {
      expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(40);
      const report = await verifyAudit(h().ctx, { linkId: link.id });
      expect(report.breaks).toEqual([]);
      expect(report.events).toBe(1 + 40 + 6);
    }
  });

  it('a grant lets the holder export without spending views, and revoke voids it', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws, { tables: { tasks: [{ name: '=cmd()', n: 1 }, { name: 'ok', n: 2 }] } });
    const link = await buildLink(ws, { resource_type: r.type, resource_id: r.id, max_views: 1 });
    const view = await send(h().app, 'GET', `/v1/shared/${link.token}`);
    const grant = view.body.grant;
    const csv = await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`, undefined, { 'x-porthole-grant': grant });
    expect(csv.status).toBe(200);
    expect(csv.text).toContain("'=cmd()");
    expect(csv.headers['content-disposition']).toMatch(/attachment; filename=".+\.csv"/);
    const without = await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`);
    expect(without.body.reason).toBe('max_views_reached');
    await ws.api('POST', `/v1/links/${link.id}/revoke`);
    const after = await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`, undefined, { 'x-porthole-grant': grant });
    expect(after.body.reason).toBe('revoked');
    const l = await ws.api('GET', `/v1/links/${link.id}`);
    expect(l.body.download_count).toBe(1);
    expect(l.body.view_count).toBe(1);
  });
});
