import QRCode from 'qrcode';
import { gzipSync } from 'node:zlib';
import type { InjectOptions } from 'fastify';
import { expect, it } from 'vitest';
import { buildLink, buildResource, buildWorkspace, send, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, startHarness, type Harness } from './helpers/harness.js';

type Page = { status: number; text: string; headers: Record<string, unknown>; cookie: string | undefined; setCookie: string | undefined };

/** A browser-like request to a share page; `cookie` is the grant cookie a browser would send back. */
async function page(h: Harness, url: string, opts: { method?: InjectOptions['method']; cookie?: string; headers?: Record<string, string>; form?: Record<string, string>; ip?: string } = {}): Promise<Page> {
  const res = await h.app.inject({
    method: opts.method ?? (opts.form ? 'POST' : 'GET'),
    url,
    remoteAddress: opts.ip,
    headers: {
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130 Safari/537.36',
      ...(opts.cookie ? { cookie: opts.cookie } : {}),
      ...(opts.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...opts.headers,
    },
    ...(opts.form ? { payload: new URLSearchParams(opts.form).toString() } : {}),
  });
  const setCookie = ([] as unknown[]).concat(res.headers['set-cookie'] ?? []).map(String).find((c) => c.startsWith('porthole_grant='));
  return { status: res.statusCode, text: res.body, headers: res.headers as Record<string, unknown>, setCookie, cookie: setCookie?.split(';')[0] };
}

const h1 = (html: string) => /<h1>(.*?)<\/h1>/s.exec(html)?.[1];
const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
const hrefs = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((m) => unescape(m[1]));

async function declareJob(ws: TestWorkspace): Promise<void> {
  const res = await ws.api('PUT', '/v1/resource-types/job', {
    label: 'Job',
    fields: [
      { key: 'status', label: 'Status', format: 'status', public: true },
      { key: 'due', label: 'Due date', format: 'date', public: true },
      { key: 'started_at', label: 'Started', format: 'datetime', public: true },
      { key: 'site', label: 'Website', format: 'url', public: true },
      { key: 'bad_site', label: 'Other site', format: 'url', public: true },
      { key: 'owner', label: 'Owner', format: 'email', public: true },
      { key: 'billable', label: 'Billable', format: 'boolean', public: true },
      { key: 'archived', label: 'Archived', format: 'boolean', public: true },
      { key: 'note', label: 'Note', format: 'text', public: true },
      { key: 'hours', label: 'Hours', format: 'number', public: true },
      { key: 'secret', label: 'Secret', format: 'text', public: false },
    ],
    tables: [
      {
        key: 'tasks',
        label: 'Tasks',
        columns: [
          { key: 'name', label: 'Task', format: 'text' },
          { key: 'state', label: 'State', format: 'status' },
          { key: 'done_on', label: 'Done on', format: 'date' },
          { key: 'ok', label: 'OK', format: 'boolean' },
        ],
      },
    ],
  });
  if (res.status !== 200 && res.status !== 201) throw new Error(`declareJob: ${res.status} ${res.text}`);
}

const jobFields = {
  status: 'failed',
  due: '2026-12-01',
  started_at: '2026-11-20T14:30:00Z',
  site: 'https://example.com/report?a=1',
  bad_site: 'javascript:alert(1)',
  owner: 'ada@example.test',
  billable: true,
  archived: false,
  note: null,
  hours: 1234.5,
  secret: 'do-not-show',
};

const tasks = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `Task ${i + 1}`, state: i % 3 === 0 ? 'done' : i % 3 === 1 ? 'queued' : 'failed', done_on: i % 2 ? '2026-11-02' : null, ok: i % 2 === 0 }));

async function jobLink(ws: TestWorkspace, opts: { tasks?: number; link?: Record<string, unknown>; fields?: Record<string, unknown> } = {}) {
  await declareJob(ws);
  const r = await buildResource(ws, { type: 'job', title: 'Nightly import', fields: opts.fields ?? jobFields, tables: { tasks: tasks(opts.tasks ?? 3) } });
  return buildLink(ws, { resource_type: 'job', resource_id: r.id, ...opts.link });
}

async function collectionLink(ws: TestWorkspace, n: number, link: Record<string, unknown> = {}) {
  const type = `model${Math.random().toString(36).slice(2, 8)}`;
  await ws.api('PUT', `/v1/resource-types/${type}`, {
    label: 'Model inventory',
    fields: [
      { key: 'stage', label: 'Stage', format: 'status', public: true },
      { key: 'reviewed', label: 'Reviewed', format: 'date', public: true },
    ],
    tables: [],
  });
  for (let i = 0; i < n; i++) {
    await buildResource(ws, { type, id: `m${String(i).padStart(3, '0')}`, title: `Model ${i}`, fields: { stage: i % 2 ? 'active' : 'draft', reviewed: i % 4 ? '2026-10-01' : null } });
  }
  return buildLink(ws, { resource_type: type, resource_id: null, ...link, settings: { fields: ['title', 'stage', 'reviewed'], ...(link.settings as object) } });
}

async function linkRow(ws: TestWorkspace, id: string) {
  return (await ws.api('GET', `/v1/links/${id}`)).body;
}

describeEachDialect('share pages', (h) => {
  it('renders a record: title, labelled fields, formatted values, gaps, and hides non-public fields', async () => {
    const ws = await buildWorkspace(h());
    const link = await jobLink(ws);
    const p = await page(h(), `/shared/${link.token}`, { headers: { 'accept-language': 'de-DE,de;q=0.9,en;q=0.5' } });
    expect(p.status).toBe(200);
    expect(p.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(p.text.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(h1(p.text)).toBe('Nightly import');
    for (const label of ['Status', 'Due date', 'Started', 'Website', 'Owner', 'Billable', 'Note', 'Hours']) expect(p.text).toContain(`<dt>${label}</dt>`);
    expect(p.text).not.toContain('do-not-show');
    // Dates in the viewer's language.
    expect(p.text).toContain('<time dateTime="2026-12-01">01.12.2026</time>');
    expect(p.text).toMatch(/<time dateTime="2026-11-20T14:30:00.000Z">20\.11\.2026, 14:30 UTC<\/time>/);
    expect(p.text).toContain('1.234,5');
    // Status badge, links only for http(s), mailto, booleans, the highlighted gap.
    expect(p.text).toContain('<span class="badge badge-bad">failed</span>');
    expect(p.text).toContain('href="https://example.com/report?a=1"');
    expect(p.text).toContain('<dd>javascript:alert(1)</dd>');
    expect(hrefs(p.text).some((href) => href.toLowerCase().startsWith('javascript:'))).toBe(false);
    expect(p.text).toContain('<a href="mailto:ada@example.test">ada@example.test</a>');
    expect(p.text).toMatch(/class="bool yes"[^>]*>✓/);
    expect(p.text).toMatch(/class="bool no"[^>]*>✗/);
    expect(p.text).toContain('<span class="gap">— not provided</span>');

    const en = await page(h(), `/shared/${link.token}`, { cookie: p.cookie, headers: { 'accept-language': 'en-US' } });
    expect(en.text).toContain('<time dateTime="2026-12-01">Dec 1, 2026</time>');
    const fallback = await page(h(), `/shared/${link.token}`, { cookie: p.cookie, headers: { 'accept-language': '*;q=0.1, x-nonsense-!!' } });
    expect(fallback.text).toContain('<time dateTime="2026-12-01">Dec 1, 2026</time>');
  });

  it('serves the same page at /s/:code, without redirecting to the token', async () => {
    const ws = await buildWorkspace(h());
    const link = await jobLink(ws);
    const p = await page(h(), `/s/${link.short_code}`);
    expect(p.status).toBe(200);
    expect(p.headers.location).toBeUndefined();
    expect(h1(p.text)).toBe('Nightly import');
    expect(p.text).not.toContain(link.token);
    expect(p.setCookie).toContain(`Path=/s/${link.short_code};`);
    expect(hrefs(p.text)).toContain(`/s/${link.short_code}/export.csv`);
  });

  it('escapes what the data holds', async () => {
    const ws = await buildWorkspace(h());
    const link = await jobLink(ws, { fields: { ...jobFields, note: '<script>alert(1)</script>', site: '"><img src=x onerror=alert(2)>' } });
    const p = await page(h(), `/shared/${link.token}`);
    expect(p.text).not.toContain('<script');
    expect(p.text).not.toContain('<img');
    expect(p.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('shows a record’s table with formatted cells and highlighted gaps, and pages it beyond 100 rows', async () => {
    const ws = await buildWorkspace(h());
    const link = await jobLink(ws, { tasks: 150 });
    const p = await page(h(), `/shared/${link.token}`, { headers: { 'accept-language': 'en-GB' } });
    expect(p.text).toContain('<h2 id="table-tasks">Tasks</h2>');
    for (const label of ['Task', 'State', 'Done on', 'OK']) expect(p.text).toContain(`<th scope="col">${label}</th>`);
    expect(p.text).toContain('<span class="badge badge-warn">queued</span>');
    expect(p.text).toContain('<time dateTime="2026-11-02">2 Nov 2026</time>');
    expect(p.text).toMatch(/<td class="[^"]*\bgap-cell\b[^"]*"><span class="gap"/);
    expect(p.text).toContain('rows 1–100 of 150');
    expect(p.text).toContain('Task 100<');
    expect(p.text).not.toContain('Task 101<');
    const next = hrefs(p.text).find((u) => u.startsWith(`/shared/${link.token}/tables/tasks?cursor=`));
    expect(next).toBeDefined();

    const second = await page(h(), next as string, { cookie: p.cookie });
    expect(second.status).toBe(200);
    expect(second.text).toContain('rows 101–150 of 150');
    expect(second.text).toContain('Task 101<');
    expect(second.text).toContain('Task 150<');
    expect(second.text).not.toContain('Task 100<');
    expect(hrefs(second.text)).toContain(`/shared/${link.token}/tables/tasks`); // Previous
    expect(second.text).not.toContain('Next page');
    expect((await linkRow(ws, link.id)).view_count).toBe(1);
  });

  it('shows a collection as a paged table; rows open as records only when the link allows it', async () => {
    const ws = await buildWorkspace(h());
    const closed = await collectionLink(ws, 120);
    const p = await page(h(), `/shared/${closed.token}`);
    expect(p.status).toBe(200);
    expect(h1(p.text)).toBe('Model inventory');
    expect(p.text).toContain('rows 1–100 of 120');
    expect(p.text).toContain('<span class="badge badge-good">active</span>');
    expect(p.text).not.toContain('/records/');
    const next = hrefs(p.text).find((u) => u.startsWith(`/shared/${closed.token}?cursor=`));
    expect(next).toBeDefined();
    const second = await page(h(), next as string, { cookie: p.cookie });
    expect(second.status).toBe(200);
    expect(second.text).toContain('rows 101–120 of 120');
    expect(second.text).toContain('Model 119<');
    expect(second.text).not.toContain('Model 99<');
    expect(second.text).toContain('Previous');
    expect(hrefs(second.text)).toContain(`/shared/${closed.token}`);

    const open = await buildLink(ws, { resource_type: closed.resource_type, resource_id: null, settings: { fields: ['title', 'stage', 'reviewed'], allow_open_records: true } });
    const q = await page(h(), `/shared/${open.token}`);
    const recordHref = `/shared/${open.token}/records/m005`;
    expect(hrefs(q.text)).toContain(recordHref);
    const record = await page(h(), recordHref, { cookie: q.cookie });
    expect(record.status).toBe(200);
    expect(h1(record.text)).toBe('Model 5');
    expect(record.text).toContain('<dt>Stage</dt>');
    expect(hrefs(record.text)).toContain(`/shared/${open.token}`);
    // Its export buttons download the whole list the link shares, and say so.
    expect(hrefs(record.text)).toContain(`/shared/${open.token}/export.csv`);
    expect(record.text).toContain('Export list CSV');
    expect(record.text).not.toContain('>Export CSV<');
    expect(q.text).toContain('>Export CSV<');
    expect((await linkRow(ws, open.id)).view_count).toBe(1);
  });

  it('shows the toolbar (label, expiry, views, exports) only as the link allows', async () => {
    const ws = await buildWorkspace(h());
    const link = await jobLink(ws, { link: { label: 'For the ACME audit', max_views: 25, expires_in_days: 3 } });
    const p = await page(h(), `/shared/${link.token}`);
    expect(p.text).toContain('class="page-head toolbar"');
    expect(p.text).toContain('For the ACME audit');
    expect(p.text).toMatch(/<time dateTime="[^"]+" title="[^"]+ UTC">Expires in 3 days<\/time>/);
    expect(p.text).toContain('1 of 25 views');
    expect(hrefs(p.text)).toEqual(expect.arrayContaining([`/shared/${link.token}/export.csv`, `/shared/${link.token}/export.json`]));
    expect(p.text).toContain('Export CSV');

    const noExport = await jobLink(ws, { link: { settings: { allow_export: false } } });
    const q = await page(h(), `/shared/${noExport.token}`);
    expect(q.text).toContain('class="page-head toolbar"');
    expect(q.text).not.toContain('Export CSV');
    expect(q.text).not.toContain('export.csv');

    const bare = await jobLink(ws, { link: { label: 'hidden label', settings: { display_toolbar: false } } });
    const r = await page(h(), `/shared/${bare.token}`);
    expect(h1(r.text)).toBe('Nightly import');
    expect(r.text).not.toContain('toolbar');
    expect(r.text).not.toContain('hidden label');
    expect(r.text).not.toContain('Export CSV');
  });

  it('exports under the page path, streamed like the API, with the grant cookie', async () => {
    const ws = await buildWorkspace(h());
    const link = await jobLink(ws, { tasks: 3, fields: { ...jobFields, note: 'x' } });
    const p = await page(h(), `/shared/${link.token}`);
    const csv = await page(h(), `/shared/${link.token}/export.csv`, { cookie: p.cookie });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="nightly-import-tasks-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(csv.text.split('\n')[0]).toBe('Task,State,Done on,OK');
    expect(csv.text).toContain('Task 1,done,,true');
    const json = await page(h(), `/s/${link.short_code}/export.json`, { cookie: p.cookie });
    expect(json.status).toBe(200);
    expect(JSON.parse(json.text)).toHaveLength(3);
    const row = await linkRow(ws, link.id);
    expect(row.download_count).toBe(2);
  });

  it('a grant cookie carries one view through paging and export; a cookie-less second view hits the limit', async () => {
    const ws = await buildWorkspace(h());
    const link = await collectionLink(ws, 105, { max_views: 1 });
    const first = await page(h(), `/shared/${link.token}`);
    expect(first.status).toBe(200);
    expect(first.setCookie).toBeDefined();
    const attrs = (first.setCookie as string).split(';').map((s) => s.trim());
    expect(attrs).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Lax', `Path=/shared/${link.token}`]));
    const maxAge = Number(attrs.find((a) => a.startsWith('Max-Age='))?.slice(8));
    expect(maxAge).toBeGreaterThan(1790);
    expect(maxAge).toBeLessThanOrEqual(1800);
    expect(attrs).not.toContain('Secure');

    const next = hrefs(first.text).find((u) => u.startsWith(`/shared/${link.token}?cursor=`)) as string;
    const paged = await page(h(), next, { cookie: first.cookie });
    expect(paged.status).toBe(200);
    expect(paged.text).toContain('rows 101–105 of 105');
    expect(paged.setCookie).toBeUndefined();
    const again = await page(h(), `/shared/${link.token}`, { cookie: first.cookie });
    expect(again.status).toBe(200);
    const csv = await page(h(), `/shared/${link.token}/export.csv`, { cookie: first.cookie });
    expect(csv.status).toBe(200);
    expect(csv.text.trim().split('\n')).toHaveLength(106);

    const stranger = await page(h(), `/shared/${link.token}`);
    expect(stranger.status).toBe(410);
    expect(h1(stranger.text)).toBe('This link has reached its view limit');
    const pagedWithout = await page(h(), next);
    expect(pagedWithout.status).toBe(410);
    const row = await linkRow(ws, link.id);
    expect(row.view_count).toBe(1);
    expect(row.download_count).toBe(1);
  });

  it('marks the grant cookie Secure when PUBLIC_URL is https', async () => {
    const secure = await startHarness(h().dialect, { PUBLIC_URL: 'https://share.example.test' });
    try {
      const ws = await buildWorkspace(secure);
      const link = await buildLink(ws);
      const p = await page(secure, `/s/${link.short_code}`);
      expect(p.status).toBe(200);
      expect(p.setCookie?.split(';').map((s) => s.trim())).toEqual(expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Lax', `Path=/s/${link.short_code}`]));
    } finally {
      await secure.close();
    }
  });

  it('answers each refusal with its own page and the status of DESIGN §4', async () => {
    const ws = await buildWorkspace(h());
    const expectPage = (p: Page, status: number, heading: string) => {
      expect(p.status).toBe(status);
      expect(p.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(h1(p.text)).toBe(heading);
      expect(p.text).not.toMatch(/"reason"|at .+\.ts:\d+|lnk_|ws_/);
    };

    expectPage(await page(h(), `/shared/${'A'.repeat(43)}`), 404, 'This link doesn’t exist');
    expectPage(await page(h(), '/s/ZZZZZZZZ'), 404, 'This link doesn’t exist');
    expectPage(await page(h(), '/shared/not-a-token'), 400, 'This link isn’t valid');

    const revoked = await buildLink(ws);
    await ws.api('POST', `/v1/links/${revoked.id}/revoke`);
    expectPage(await page(h(), `/shared/${revoked.token}`), 410, 'This link has been revoked');

    const disabled = await buildLink(ws);
    await ws.api('PATCH', `/v1/links/${disabled.id}`, { enabled: false });
    expectPage(await page(h(), `/s/${disabled.short_code}`), 403, 'This link is switched off');

    const used = await buildLink(ws, { max_views: 1 });
    await page(h(), `/shared/${used.token}`);
    expectPage(await page(h(), `/shared/${used.token}`), 410, 'This link has reached its view limit');

    const noExport = await buildLink(ws, { settings: { allow_export: false } });
    const v = await page(h(), `/shared/${noExport.token}`);
    const refused = await page(h(), `/shared/${noExport.token}/export.csv`, { cookie: v.cookie });
    expectPage(refused, 403, 'Downloads are turned off');
    expect(hrefs(refused.text)).toContain(`/shared/${noExport.token}`);

    const closed = await collectionLink(ws, 1);
    expectPage(await page(h(), `/shared/${closed.token}/records/m000`), 403, 'Single records can’t be opened');

    const open = await collectionLink(ws, 1, { settings: { allow_open_records: true } });
    expectPage(await page(h(), `/shared/${open.token}/records/nope`), 404, 'We couldn’t find that here');
    expectPage(await page(h(), `/shared/${open.token}/whatever/else`), 404, 'We couldn’t find that here');
    expectPage(await page(h(), `/shared/${open.token}?cursor=bm9wZQ`), 400, 'This page is out of date');

    // Expiry: move the clock past the link's end, then back.
    const expiring = await buildLink(ws, { expires_in_days: 1 });
    h().advance(2 * 86_400_000);
    try {
      expectPage(await page(h(), `/shared/${expiring.token}`), 410, 'This link has expired');
    } finally {
      h().advance(-2 * 86_400_000);
    }

    // Too many misses from one address: 429 with Retry-After, even for a good link.
    const ip = `198.51.100.${Math.floor(Math.random() * 200) + 1}`;
    for (let i = 0; i < 30; i++) await page(h(), `/shared/${'B'.repeat(43)}`, { ip });
    const limited = await page(h(), `/shared/${used.token}`, { ip });
    expectPage(limited, 429, 'Too many attempts');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('asks for a password with a form, unlocks with it, and keeps the reader in with the cookie', async () => {
    const ws = await buildWorkspace(h());
    const link = await jobLink(ws, { link: { password: 'open sesame', max_views: 1 } });
    const locked = await page(h(), `/shared/${link.token}`);
    expect(locked.status).toBe(401);
    expect(h1(locked.text)).toBe('This link is protected by a password');
    expect(locked.text).toContain(`<form class="form" action="/shared/${link.token}/unlock" method="post">`);
    expect(locked.text).toContain('name="password"');
    expect(locked.text).not.toContain('Nightly import');

    const wrong = await page(h(), `/shared/${link.token}/unlock`, { form: { password: 'guess' } });
    expect(wrong.status).toBe(401);
    expect(h1(wrong.text)).toBe('That password isn’t right');
    expect(wrong.text).toContain('role="alert"');
    expect(wrong.setCookie).toBeUndefined();

    const right = await page(h(), `/shared/${link.token}/unlock`, { form: { password: 'open sesame' } });
    expect(right.status).toBe(303);
    expect(right.headers.location).toBe(`/shared/${link.token}`);
    expect(right.setCookie).toContain(`Path=/shared/${link.token}`);
    const inside = await page(h(), `/shared/${link.token}`, { cookie: right.cookie });
    expect(inside.status).toBe(200);
    expect(h1(inside.text)).toBe('Nightly import');
    expect((await linkRow(ws, link.id)).view_count).toBe(1);

    // Same through the short code, with its own path.
    const other = await jobLink(ws, { link: { password: 'open sesame' } });
    const viaCode = await page(h(), `/s/${other.short_code}/unlock`, { form: { password: 'open sesame' } });
    expect(viaCode.status).toBe(303);
    expect(viaCode.headers.location).toBe(`/s/${other.short_code}`);
    expect(viaCode.setCookie).toContain(`Path=/s/${other.short_code}`);
  });

  it('asks for an email address when identity is required, then for the mailed code; asking counts no view', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws, { requires_auth: true, allowed_domains: ['example.test'] });
    const p = await page(h(), `/shared/${link.token}`);
    expect(p.status).toBe(401);
    expect(h1(p.text)).toBe('Confirm your email address');
    expect(p.text).toContain(`action="/shared/${link.token}/verify/start"`);
    expect(p.text).toContain('type="email"');

    const started = await page(h(), `/shared/${link.token}/verify/start`, { form: { email: 'ada@example.test' } });
    expect(started.status).toBe(200);
    expect(h1(started.text)).toBe('Check your mail');
    expect(started.text).toContain(`action="/shared/${link.token}/verify/confirm"`);
    expect(started.text).toContain('name="code"');
    expect(started.text).toContain('value="ada@example.test"');
    // No password on this link: the code's form does not ask for one.
    expect(started.text).not.toContain('type="password"');
    expect((await linkRow(ws, link.id)).view_count).toBe(0);
  });

  it('never answers JSON or a 500 under /shared and /s, whatever is sent', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws, { password: 'open sesame' });
    const cases: Array<[string, Parameters<typeof page>[2], number]> = [
      [`/shared/${link.token}/unlock`, { form: { password: 'x'.repeat(5000) } }, 413],
      [`/shared/${link.token}?n=-4`, {}, 400],
      [`/shared/${link.token}/tables/${'k'.repeat(300)}`, {}, 400],
      [`/shared/${link.token}/export.csv?table=..%2F..`, {}, 400],
      ['/shared', {}, 404],
      ['/s/', {}, 404],
      [`/s/${link.short_code}/records`, {}, 404],
      [`/shared/${link.token}`, { method: 'DELETE' }, 404],
    ];
    for (const [url, opts, status] of cases) {
      const p = await page(h(), url, opts);
      expect({ url, status: p.status }).toEqual({ url, status });
      expect(p.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(p.text.startsWith('<!DOCTYPE html>')).toBe(true);
    }
    const json = await h().app.inject({ method: 'POST', url: `/shared/${link.token}/unlock`, headers: { 'content-type': 'application/json' }, payload: '{"password":' });
    expect(json.statusCode).toBe(400);
    expect(json.headers['content-type']).toBe('text/html; charset=utf-8');
    const plain = await h().app.inject({ method: 'POST', url: `/shared/${link.token}/unlock`, headers: { 'content-type': 'text/plain' }, payload: 'password=open sesame' });
    expect(plain.statusCode).toBe(400);
    expect(plain.headers['content-type']).toBe('text/html; charset=utf-8');
    // A form's address opened by GET leads back to the page, whatever the identifier holds (a control character in a Location is a 500).
    for (const [url, location] of [
      ['/shared/%00/unlock', '/shared/%00'],
      ['/s/a%0D%0ASet-Cookie:%20x=1/verify/start', '/s/a%0D%0ASet-Cookie%3A%20x%3D1'],
      [`/s/${link.short_code}/unlock`, `/s/${link.short_code}`],
    ]) {
      const back = await h().app.inject({ method: 'GET', url });
      expect({ url, status: back.statusCode, location: back.headers.location }).toEqual({ url, status: 303, location });
    }
    const refused = await page(h(), '/shared/%00', {});
    expect(refused.status).toBe(400);
  });

  it('gives HEAD requests and preview robots a neutral page and counts no view', async () => {
    const ws = await buildWorkspace(h());
    const link = await jobLink(ws);
    const head = await page(h(), `/shared/${link.token}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.setCookie).toBeUndefined();
    for (const ua of ['Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', 'WhatsApp/2.23.20.0', 'facebookexternalhit/1.1 Facebot Twitterbot/1.0']) {
      for (const url of [`/shared/${link.token}`, `/s/${link.short_code}`, `/shared/${link.token}/export.csv`]) {
        const p = await page(h(), url, { headers: { 'user-agent': ua } });
        expect(p.status).toBe(200);
        expect(p.text).toContain('<meta property="og:title" content="Shared with Porthole"/>');
        expect(p.text).not.toContain('Nightly import');
        expect(p.text).not.toContain('failed');
        expect(p.setCookie).toBeUndefined();
      }
    }
    const row = await linkRow(ws, link.id);
    expect(row.view_count).toBe(0);
    expect(row.download_count).toBe(0);
  });

  it('carries the DESIGN §8 headers on every public response: pages, refusals, exports and the JSON API', async () => {
    const ws = await buildWorkspace(h());
    const link = await jobLink(ws, { link: { password: 'open sesame' } });
    const unlocked = await page(h(), `/shared/${link.token}/unlock`, { form: { password: 'open sesame' } });
    const cookie = unlocked.cookie;
    const plainLink = await buildLink(ws);
    const requests: Array<[string, Parameters<typeof page>[2]]> = [
      [`/shared/${link.token}`, { cookie }],
      [`/s/${link.short_code}`, {}],
      [`/shared/${link.token}/tables/tasks`, { cookie }],
      [`/shared/${link.token}/records/x`, { cookie }],
      [`/shared/${link.token}/export.csv`, { cookie }],
      [`/shared/${link.token}/export.json`, { cookie }],
      [`/shared/${link.token}/unlock`, { form: { password: 'nope' } }],
      [`/shared/${link.token}/unlock`, { form: { password: 'open sesame' } }],
      [`/shared/${link.token}`, { method: 'HEAD' }],
      [`/shared/${'A'.repeat(43)}`, {}],
      ['/shared/abc', {}],
      [`/shared/${link.token}/no/such/page`, {}],
      [`/v1/shared/${plainLink.token}`, {}],
      [`/v1/shared/${plainLink.token}/meta`, {}],
      [`/v1/shared/${plainLink.token}/export.csv`, {}],
      ['/v1/shared/abc', {}],
    ];
    for (const [url, opts] of requests) {
      const p = await page(h(), url, opts);
      const got = {
        url,
        referrer: p.headers['referrer-policy'],
        robots: p.headers['x-robots-tag'],
        cache: p.headers['cache-control'],
        nosniff: p.headers['x-content-type-options'],
        frames: p.headers['x-frame-options'],
      };
      expect(got).toEqual({ url, referrer: 'no-referrer', robots: 'noindex, nofollow', cache: 'no-store', nosniff: 'nosniff', frames: 'DENY' });
      const csp = String(p.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('script-src');
    }
  });

  it('serves the one stylesheet, cacheable, at the address the pages use', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    const p = await page(h(), `/shared/${link.token}`);
    const sheets = [...p.text.matchAll(/<link rel="stylesheet" href="([^"]+)"\/>/g)].map((m) => m[1]);
    expect(sheets).toHaveLength(1);
    expect(sheets[0]).toMatch(/^\/assets\/share\.css\?v=[0-9a-f]{12}$/);
    const css = await send(h().app, 'GET', sheets[0]);
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['cache-control']).toBe('public, max-age=86400, immutable');
    expect(css.text).toContain('.badge-good');
    const again = await send(h().app, 'GET', '/assets/share.css', undefined, { 'if-none-match': String(css.headers.etag) });
    expect(again.status).toBe(304);
  });

  it('keeps a page of a 100-row table light: one document under 60 KB gzipped, no script, nothing third-party', async () => {
    const ws = await buildWorkspace(h());
    const link = await jobLink(ws, { tasks: 100 });
    const p = await page(h(), `/shared/${link.token}`);
    expect(p.text).toContain('rows 1–100 of 100');
    const gzipped = gzipSync(Buffer.from(p.text)).length;
    expect(gzipped).toBeLessThan(60 * 1024);
    expect(p.text).not.toMatch(/<script|<img|<iframe|<object|\son[a-z]+=/i);
    expect(p.text).not.toMatch(/\s(src|srcset)=/);
    const external = hrefs(p.text).filter((u) => !u.startsWith('/') && !u.startsWith('mailto:') && u !== 'data:,');
    expect(external).toEqual(['https://example.com/report?a=1']); // the data's own link, nothing fetched
  });
});

describeEachDialect('link QR code', (h) => {
  it('draws the link’s URL as SVG for its workspace, and 404 for another', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    const res = await ws.api('GET', `/v1/links/${link.id}/qr.svg`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(res.text).toBe(await QRCode.toString(link.url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
    const short = await ws.api('GET', `/v1/links/${link.id}/qr.svg?short=true`);
    expect(short.text).toBe(await QRCode.toString(link.short_url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));

    const other = await buildWorkspace(h());
    const cross = await other.api('GET', `/v1/links/${link.id}/qr.svg`);
    expect(cross.status).toBe(404);
    expect(cross.body.reason).toBe('not_found');
    const anonymous = await send(h().app, 'GET', `/v1/links/${link.id}/qr.svg`);
    expect(anonymous.status).toBe(401);
  });
});

describeEachDialect('malformed URLs', (h) => {
  it('answers a page with the public headers under /shared and /s, and JSON with them under /v1/shared', async () => {
    for (const url of ['/shared/%E0%A4%A', '/s/%E0%A4%A/records/x']) {
      const res = await h().app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.body).toContain('<!DOCTYPE html>');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-robots-tag']).toBe('noindex, nofollow');
    }
    const api = await h().app.inject({ method: 'GET', url: '/v1/shared/%E0%A4%A' });
    expect(api.statusCode).toBe(400);
    expect(api.json()).toMatchObject({ reason: 'invalid_request' });
    expect(api.headers['cache-control']).toBe('no-store');
  });
});
