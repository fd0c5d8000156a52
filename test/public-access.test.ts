import { beforeAll, expect, it } from 'vitest';
import { verifyAudit } from '../src/app/verify-audit.js';
import { buildLink, buildResource, buildWorkspace, send, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

const linkEvents = (h: Harness, linkId: string) =>
  h.ctx.database.db.selectFrom('events').selectAll().where('link_id', '=', linkId).orderBy('seq').execute();

const grantHeader = (grant: string) => ({ 'x-porthole-grant': grant });

describeEachDialect('public access', (h) => {
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await buildWorkspace(h());
    await ws.api('PUT', '/v1/resource-types/machine', {
      label: 'Machine',
      fields: [
        { key: 'status', label: 'Status', format: 'status', public: true },
        { key: 'owner', label: 'Owner', format: 'email', public: false },
        { key: 'cost', label: 'Cost', format: 'number', public: false },
      ],
      tables: [],
    });
  });

  // ---- projection (issue point 2) ----

  it('projects fields: default (public flags), all, and an explicit list', async () => {
    const r = await buildResource(ws, {
      type: 'machine',
      title: 'Press 7',
      fields: { status: 'running', owner: 'owner-secret@example.test', cost: 4242, extra: 'extra-secret-value' },
    });
    const target = { resource_type: 'machine', resource_id: r.id };
    const keys = (res: any) => res.body.resource.fields.map((f: any) => f.key);

    const byDefault = await send(h().app, 'GET', `/v1/shared/${(await buildLink(ws, target)).token}`);
    expect(byDefault.status).toBe(200);
    expect(keys(byDefault)).toEqual(['status']);
    expect(byDefault.body.resource.title).toBe('Press 7');
    expect(byDefault.text).not.toContain('owner-secret');
    expect(byDefault.text).not.toContain('4242');
    expect(byDefault.text).not.toContain('extra-secret-value');

    const all = await send(h().app, 'GET', `/v1/shared/${(await buildLink(ws, { ...target, settings: { fields: 'all' } })).token}`);
    expect(keys(all).sort()).toEqual(['cost', 'extra', 'id', 'owner', 'status', 'updated_at']);
    const values = Object.fromEntries(all.body.resource.fields.map((f: any) => [f.key, f.value]));
    expect(values).toMatchObject({ status: 'running', owner: 'owner-secret@example.test', cost: 4242, extra: 'extra-secret-value', id: r.id });
    // Declared fields keep their labels and formats.
    expect(all.body.resource.fields.find((f: any) => f.key === 'cost')).toMatchObject({ label: 'Cost', format: 'number' });

    const list = await send(h().app, 'GET', `/v1/shared/${(await buildLink(ws, { ...target, settings: { fields: ['owner'] } })).token}`);
    expect(keys(list)).toEqual(['owner']);
    expect(list.body.resource.fields[0].value).toBe('owner-secret@example.test');
    expect(list.text).not.toContain('running');
    expect(list.text).not.toContain('4242');
  });

  it('an undeclared type shows only id, title and updated_at by default', async () => {
    const r = await buildResource(ws, { type: 'gizmo', title: 'Gizmo one', fields: { colour: 'vermilion', secret_code: 'zz-hidden-zz' } });
    const link = await buildLink(ws, { resource_type: 'gizmo', resource_id: r.id });
    const res = await send(h().app, 'GET', `/v1/shared/${link.token}`);
    expect(res.status).toBe(200);
    expect(res.body.resource.title).toBe('Gizmo one');
    expect(res.body.resource.fields.map((f: any) => f.key).sort()).toEqual(['id', 'updated_at']);
    expect(res.body.resource.updated_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(res.text).not.toContain('vermilion');
    expect(res.text).not.toContain('zz-hidden-zz');
  });

  it('serves the latest version, or the pinned one for snapshot: true', async () => {
    const r = await buildResource(ws, { type: 'machine', title: 'Lathe v1', fields: { status: 'idle' }, tables: { log: [{ line: 'first' }] } });
    const live = await buildLink(ws, { resource_type: 'machine', resource_id: r.id });
    const snap = await buildLink(ws, { resource_type: 'machine', resource_id: r.id, snapshot: true });
    expect(snap.pinned_version).toBe(1);
    const v2 = await buildResource(ws, { type: 'machine', id: r.id, title: 'Lathe v2', fields: { status: 'running' }, tables: { log: [{ line: 'second' }] } });
    expect(v2.version).toBe(2);

    const a = await send(h().app, 'GET', `/v1/shared/${live.token}`);
    expect(a.body.resource).toMatchObject({ title: 'Lathe v2', version: 2, latest_version: 2 });
    expect(a.body.resource.fields).toEqual([{ key: 'status', label: 'Status', format: 'status', value: 'running' }]);
    expect(a.body.resource.tables[0].rows).toEqual([{ line: 'second' }]);

    const b = await send(h().app, 'GET', `/v1/shared/${snap.token}`);
    expect(b.body.resource).toMatchObject({ title: 'Lathe v1', version: 1, latest_version: 2 });
    expect(b.body.resource.fields[0].value).toBe('idle');
    expect(b.body.resource.tables[0].rows).toEqual([{ line: 'first' }]);
    expect(b.text).not.toContain('Lathe v2');

    // The pinned version also governs the export and the meta title.
    const csv = await send(h().app, 'GET', `/v1/shared/${snap.token}/export.csv`, undefined, grantHeader(b.body.grant));
    expect(csv.text).toContain('first');
    expect(csv.text).not.toContain('second');
    expect((await send(h().app, 'GET', `/v1/shared/${snap.token}/meta`)).body.title).toBe('Lathe v1');
    expect((await send(h().app, 'GET', `/v1/shared/${live.token}/meta`)).body.title).toBe('Lathe v2');
  });

  it('/meta answers status and title without counting a view, and withholds the title behind a password', async () => {
    const r = await buildResource(ws, { title: 'Quarterly close' });
    const link = await buildLink(ws, { resource_type: r.type, resource_id: r.id, max_views: 1 });
    const meta = await send(h().app, 'GET', `/v1/shared/${link.token}/meta`);
    expect(meta.status).toBe(200);
    expect(meta.body).toMatchObject({ status: 'active', title: 'Quarterly close', requires_password: false, requires_auth: false });
    expect(meta.body.expires_at).toBe(link.expires_at);
    await send(h().app, 'GET', `/v1/shared/${link.short_code}/meta`);
    const after = await ws.api('GET', `/v1/links/${link.id}`);
    expect(after.body.view_count).toBe(0);
    expect(after.body.first_viewed_at).toBeNull();
    expect((await linkEvents(h(), link.id)).map((e) => e.type)).toEqual(['created']);

    // Meta burns no view, so the one view is still there; afterwards meta says exhausted.
    expect((await send(h().app, 'GET', `/v1/shared/${link.token}`)).status).toBe(200);
    expect((await send(h().app, 'GET', `/v1/shared/${link.token}/meta`)).body.status).toBe('exhausted');

    const locked = await buildLink(ws, { resource_type: r.type, resource_id: r.id, password: 'open sesame' });
    const m = await send(h().app, 'GET', `/v1/shared/${locked.token}/meta`);
    expect(m.status).toBe(200);
    expect(m.body).toMatchObject({ status: 'active', title: null, requires_password: true });
    expect(m.text).not.toContain('Quarterly close');
    expect((await ws.api('GET', `/v1/links/${locked.id}`)).body.view_count).toBe(0);
  });

  it('/meta titles a collection as its page does: by the declared type label, else the type humanized', async () => {
    expect((await ws.api('PUT', '/v1/resource-types/ai_model', { label: 'AI model', fields: [{ key: 'provider', format: 'text', public: true }] })).status).toBe(200);
    await buildResource(ws, { type: 'ai_model', id: 'm-1', title: 'Ranker' });
    const declared = await buildLink(ws, { resource_type: 'ai_model', resource_id: null });
    expect((await send(h().app, 'GET', `/v1/shared/${declared.token}/meta`)).body.title).toBe('AI model');
    expect((await send(h().app, 'GET', `/v1/shared/${declared.token}`)).body.collection.type_label).toBe('AI model');
    await buildResource(ws, { type: 'purchase_order', id: 'po-1', title: 'PO 1' });
    const undeclared = await buildLink(ws, { resource_type: 'purchase_order', resource_id: null });
    expect((await send(h().app, 'GET', `/v1/shared/${undeclared.token}/meta`)).body.title).toBe('Purchase order');
  });

  // ---- atomic views (issue point 3) ----

  it('counts exactly max_views per link under 200 concurrent requests, stamps first/last view, and keeps each chain intact', async () => {
    const links = [await buildLink(ws, { max_views: 25 }), await buildLink(ws, { max_views: 25 })];
    const before = Date.now();
    const address = await h().app.listen({ port: 0, host: '127.0.0.1' });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => fetch(`${address}/v1/shared/${links[i % 2].token}`).then(async (r) => ({ i, status: r.status, body: (await r.json()) as any }))),
    );
    for (const [n, link] of links.entries()) {
      const mine = results.filter((r) => r.i % 2 === n);
      expect(mine.filter((r) => r.status === 200)).toHaveLength(25);
      expect(mine.filter((r) => r.status === 410 && r.body.reason === 'max_views_reached')).toHaveLength(75);
      const l = (await ws.api('GET', `/v1/links/${link.id}`)).body;
      expect(l.view_count).toBe(25);
      expect(l.first_viewed_at).not.toBeNull();
      expect(l.last_viewed_at).not.toBeNull();
      expect(Date.parse(l.first_viewed_at)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(l.last_viewed_at)).toBeGreaterThanOrEqual(Date.parse(l.first_viewed_at));
      const events = await linkEvents(h(), link.id);
      expect(events.filter((e) => e.type === 'viewed')).toHaveLength(25);
      expect(events.filter((e) => e.type === 'access_denied' && e.reason === 'max_views_reached')).toHaveLength(75);
      expect(events.map((e) => Number(e.seq))).toEqual(events.map((_, k) => k + 1));
      const report = await verifyAudit(h().ctx, { linkId: link.id });
      expect(report.breaks).toEqual([]);
      expect(report.events).toBe(101);
    }
  });

  // ---- grants (issue point 4) ----

  it('with a grant, records, table pages and exports count no further view and pass the view limit', async () => {
    for (let i = 0; i < 3; i++) await buildResource(ws, { type: 'pump', id: `pump-${i}`, title: `Pump ${i}`, fields: { site: 'north' } });
    const collection = await buildLink(ws, { resource_type: 'pump', resource_id: null, max_views: 1, settings: { allow_open_records: true } });
    const view = await send(h().app, 'GET', `/v1/shared/${collection.token}`);
    expect(view.status).toBe(200);
    const g = grantHeader(view.body.grant);
    expect((await send(h().app, 'GET', `/v1/shared/${collection.token}/records/pump-1`, undefined, g)).status).toBe(200);
    expect((await send(h().app, 'GET', `/v1/shared/${collection.token}/tables/items`, undefined, g)).status).toBe(200);
    expect((await send(h().app, 'GET', `/v1/shared/${collection.token}/export.csv`, undefined, g)).status).toBe(200);
    expect((await send(h().app, 'GET', `/v1/shared/${collection.token}/export.json`, undefined, g)).status).toBe(200);
    // Reopening the main view inside the grant is the same view.
    expect((await send(h().app, 'GET', `/v1/shared/${collection.token}`, undefined, g)).status).toBe(200);

    // Without the grant the limit holds on every surface.
    for (const path of ['', '/records/pump-1', '/tables/items', '/export.csv']) {
      const res = await send(h().app, 'GET', `/v1/shared/${collection.token}${path}`);
      expect([path, res.status, res.body.reason]).toEqual([path, 410, 'max_views_reached']);
    }
    const l = (await ws.api('GET', `/v1/links/${collection.id}`)).body;
    expect(l.view_count).toBe(1);
    expect(l.download_count).toBe(2);
    const types = (await linkEvents(h(), collection.id)).map((e) => e.type);
    expect(types.filter((t) => t === 'viewed')).toHaveLength(1);
    expect(types.filter((t) => t === 'downloaded')).toHaveLength(2);
  });

  it('a record table page with a grant counts no view either', async () => {
    const r = await buildResource(ws, { tables: { tasks: Array.from({ length: 150 }, (_, i) => ({ n: i })) } });
    const link = await buildLink(ws, { resource_type: r.type, resource_id: r.id, max_views: 1 });
    const view = await send(h().app, 'GET', `/v1/shared/${link.token}`);
    const cursor = view.body.resource.tables[0].next_cursor;
    const page = await send(h().app, 'GET', `/v1/shared/${link.token}/tables/tasks?cursor=${cursor}`, undefined, grantHeader(view.body.grant));
    expect(page.status).toBe(200);
    expect(page.body.table.rows).toHaveLength(50);
    expect((await send(h().app, 'GET', `/v1/shared/${link.token}/tables/tasks?cursor=${cursor}`)).body.reason).toBe('max_views_reached');
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(1);
  });

  it('revoking voids every grant at once', async () => {
    const link = await buildLink(ws, { max_views: 1 });
    const grant = (await send(h().app, 'GET', `/v1/shared/${link.token}`)).body.grant;
    expect((await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`, undefined, grantHeader(grant))).status).toBe(200);
    await ws.api('POST', `/v1/links/${link.id}/revoke`);
    for (const path of ['', '/export.csv', '/tables/x']) {
      const res = await send(h().app, 'GET', `/v1/shared/${link.token}${path}`, undefined, grantHeader(grant));
      expect([path, res.status, res.body.reason]).toEqual([path, 410, 'revoked']);
    }
  });

  it('disabling voids every grant: they stay dead after the link is enabled again', async () => {
    const link = await buildLink(ws, { max_views: 1 });
    const grant = (await send(h().app, 'GET', `/v1/shared/${link.token}`)).body.grant;
    expect((await ws.api('PATCH', `/v1/links/${link.id}`, { enabled: false })).status).toBe(200);
    const off = await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`, undefined, grantHeader(grant));
    expect([off.status, off.body.reason]).toEqual([403, 'disabled']);
    expect((await ws.api('PATCH', `/v1/links/${link.id}`, { enabled: true })).status).toBe(200);
    // The grant is void: the request is judged as a new view, and the only view was spent.
    const again = await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`, undefined, grantHeader(grant));
    expect([again.status, again.body.reason]).toEqual([410, 'max_views_reached']);
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body.download_count).toBe(0);
  });

  it('rotating voids every grant: the old token is 404 and the grant does not carry over to the new token', async () => {
    const link = await buildLink(ws, { max_views: 1 });
    const grant = (await send(h().app, 'GET', `/v1/shared/${link.token}`)).body.grant;
    const rotated = await ws.api('POST', `/v1/links/${link.id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.token).not.toBe(link.token);
    const old = await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`, undefined, grantHeader(grant));
    expect([old.status, old.body.reason]).toEqual([404, 'not_found']);
    expect((await send(h().app, 'GET', `/v1/shared/${link.short_code}`, undefined, grantHeader(grant))).status).toBe(404);
    for (const path of ['', '/export.csv', '/tables/x']) {
      const res = await send(h().app, 'GET', `/v1/shared/${rotated.body.token}${path}`, undefined, grantHeader(grant));
      expect([path, res.status, res.body.reason]).toEqual([path, 410, 'max_views_reached']);
    }
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body).toMatchObject({ view_count: 1, download_count: 0 });
  });

  it('changing the password voids every grant: the next request needs the password again', async () => {
    const link = await buildLink(ws, { password: 'first secret' });
    const unlocked = await send(h().app, 'POST', `/v1/shared/${link.token}/unlock`, { password: 'first secret' });
    expect(unlocked.status).toBe(200);
    const g = grantHeader(unlocked.body.grant);
    expect((await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, g)).status).toBe(200);
    expect((await send(h().app, 'GET', `/v1/shared/${link.token}/export.json`, undefined, g)).status).toBe(200);
    expect((await ws.api('PATCH', `/v1/links/${link.id}`, { password: 'second secret' })).status).toBe(200);
    for (const path of ['', '/export.json', '/export.csv']) {
      const res = await send(h().app, 'GET', `/v1/shared/${link.token}${path}`, undefined, g);
      expect([path, res.status, res.body.reason]).toEqual([path, 401, 'password_required']);
    }
    expect((await send(h().app, 'POST', `/v1/shared/${link.token}/unlock`, { password: 'first secret' })).body.reason).toBe('password_invalid');
    expect((await send(h().app, 'POST', `/v1/shared/${link.token}/unlock`, { password: 'second secret' })).status).toBe(200);
  });

  // ---- robots and HEAD (issue point 8) ----

  it('HEAD and preview robots get a neutral answer with no data and burn no view', async () => {
    const r = await buildResource(ws, { type: 'machine', title: 'Top secret furnace', fields: { status: 'overheating-xyz' }, tables: { log: [{ line: 'log-line-secret' }] } });
    const link = await buildLink(ws, { resource_type: 'machine', resource_id: r.id, max_views: 1 });

    const head = await h().app.inject({ method: 'HEAD', url: `/v1/shared/${link.token}` });
    expect(head.statusCode).toBeLessThan(300);
    expect(head.body).toBe('');

    const robots = [
      'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
      'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
      'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)',
      'WhatsApp/2.23.20.0 A',
      'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    ];
    for (const ua of robots) {
      for (const path of ['', `/records/${r.id}`, '/tables/log', '/export.csv', '/export.json']) {
        const res = await send(h().app, 'GET', `/v1/shared/${link.token}${path}`, undefined, { 'user-agent': ua });
        expect(res.status).toBeLessThan(300);
        expect(res.text).not.toContain('Top secret furnace');
        expect(res.text).not.toContain('overheating-xyz');
        expect(res.text).not.toContain('log-line-secret');
        expect(res.headers['x-porthole-grant']).toBeUndefined();
      }
      const main = await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, { 'user-agent': ua });
      expect(main.body).toEqual({ preview: true, title: expect.any(String) });
    }
    for (const path of [`/records/${r.id}`, '/tables/log', '/export.csv', '/export.json']) {
      const res = await h().app.inject({ method: 'HEAD', url: `/v1/shared/${link.token}${path}` });
      expect(res.statusCode).toBeLessThan(300);
    }

    const l = (await ws.api('GET', `/v1/links/${link.id}`)).body;
    expect(l).toMatchObject({ view_count: 0, download_count: 0, first_viewed_at: null });
    expect((await linkEvents(h(), link.id)).map((e) => e.type)).toEqual(['created']);
    // The one real view is still there for the person.
    const person = await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0' });
    expect(person.status).toBe(200);
    expect(person.body.resource.title).toBe('Top secret furnace');
  });
});

describeEachDialect('password attempts', (h) => {
  it('after 10 wrong passwords from one client the link answers 429 with Retry-After, even to the right password', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws, { password: 'open sesame' });
    for (let i = 0; i < 10; i++) {
      const wrong = await send(h().app, 'POST', `/v1/shared/${link.token}/unlock`, { password: `guess ${i}` });
      expect(wrong.body.reason).toBe('password_invalid');
    }
    const locked = await send(h().app, 'POST', `/v1/shared/${link.token}/unlock`, { password: 'open sesame' });
    expect(locked.status).toBe(429);
    expect(locked.body.reason).toBe('rate_limited');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // Another link is not affected.
    const other = await buildLink(ws, { password: 'open sesame' });
    expect((await send(h().app, 'POST', `/v1/shared/${other.token}/unlock`, { password: 'open sesame' })).status).toBe(200);
  });
});

describeEachDialect(
  'password attempts behind a proxy',
  (h) => {
    it('an IPv6 client counts as its /64: a new address in it for every guess is still locked out after 10; another network is not', async () => {
      const ws = await buildWorkspace(h());
      const link = await buildLink(ws, { password: 'open sesame' });
      const from = (ip: string) => ({ 'x-forwarded-for': ip });
      for (let i = 0; i < 10; i++) {
        const wrong = await send(h().app, 'POST', `/v1/shared/${link.token}/unlock`, { password: `guess ${i}` }, from(`2001:db8:5:7:${(i + 1).toString(16)}::${i}`));
        expect(wrong.body.reason).toBe('password_invalid');
      }
      // The same /64, written out in full: locked.
      const locked = await send(h().app, 'POST', `/v1/shared/${link.token}/unlock`, { password: 'open sesame' }, from('2001:0db8:0005:0007:ffff:ffff:ffff:fffe'));
      expect(locked.status).toBe(429);
      expect(locked.body.reason).toBe('rate_limited');
      // Another /64, and an IPv4 client: not affected.
      expect((await send(h().app, 'POST', `/v1/shared/${link.token}/unlock`, { password: 'open sesame' }, from('2001:db8:5:8::1'))).status).toBe(200);
      expect((await send(h().app, 'POST', `/v1/shared/${link.token}/unlock`, { password: 'open sesame' }, from('198.51.100.20'))).status).toBe(200);
    });
  },
  { env: { TRUST_PROXY: 'true' } },
);
