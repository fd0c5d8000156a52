import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTestsEnabled, launchBrowser, parseCsv, screenshotPath, VIEWPORTS, type TestBrowser } from '../helpers/browser.js';
import { buildLink, buildResource, buildWorkspace, type TestWorkspace } from '../helpers/factories.js';
import { startHarness, type Harness } from '../helpers/harness.js';

// Functions passed to evaluate() run in Chromium; this project compiles without the DOM library, so they are typed loosely here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type DomElement = any;
declare const document: DomElement;
declare const window: DomElement;
declare function getComputedStyle(e: DomElement): { color: string; position: string };

// One dialect is enough here: the HTTP-level page tests run on both.
describe.skipIf(!browserTestsEnabled())('share pages in Chromium', () => {
  let h: Harness & { close(): Promise<void> };
  let origin: string;
  let tb: TestBrowser;
  let ws: TestWorkspace;
  /** One context per width for screenshots; cookies are cleared before each shot, so each is a first visit. */
  const shooters: Array<{ name: string; width: number; context: BrowserContext; page: Page }> = [];

  beforeAll(async () => {
    h = await startHarness('sqlite');
    origin = await h.app.listen({ port: 0, host: '127.0.0.1' });
    tb = await launchBrowser();
    for (const vp of VIEWPORTS) {
      const context = await tb.context({ viewport: { width: vp.width, height: vp.height } });
      shooters.push({ name: vp.name, width: vp.width, context, page: await context.newPage() });
    }
    ws = await buildWorkspace(h);
    await ws.api('PUT', '/v1/resource-types/job', {
      label: 'Job',
      fields: [
        { key: 'status', label: 'Status', format: 'status', public: true },
        { key: 'owner', label: 'Owner', format: 'email', public: true },
        { key: 'started_at', label: 'Started', format: 'datetime', public: true },
        { key: 'due', label: 'Due', format: 'date', public: true },
        { key: 'dashboard', label: 'Dashboard', format: 'url', public: true },
        { key: 'retries', label: 'Retries', format: 'number', public: true },
        { key: 'notify', label: 'Notify on failure', format: 'boolean', public: true },
        { key: 'notes', label: 'Notes', format: 'text', public: true },
      ],
      tables: [
        {
          key: 'tasks',
          label: 'Tasks',
          columns: [
            { key: 'name', label: 'Task', format: 'text' },
            { key: 'state', label: 'State', format: 'status' },
            { key: 'started', label: 'Started', format: 'datetime' },
            { key: 'finished', label: 'Finished', format: 'datetime' },
            { key: 'rows', label: 'Rows', format: 'number' },
            { key: 'log', label: 'Log', format: 'url' },
            { key: 'owner', label: 'Owner', format: 'email' },
            { key: 'ok', label: 'Checked', format: 'boolean' },
          ],
        },
      ],
    });
    await ws.api('PUT', '/v1/resource-types/model', {
      label: 'Model inventory',
      fields: [
        { key: 'owner', label: 'Owner', format: 'email', public: true },
        { key: 'risk', label: 'Risk', format: 'status', public: true },
        { key: 'stage', label: 'Stage', format: 'status', public: true },
        { key: 'reviewed', label: 'Last review', format: 'date', public: true },
        { key: 'in_production', label: 'In production', format: 'boolean', public: true },
        { key: 'docs', label: 'Documentation', format: 'url', public: true },
        { key: 'purpose', label: 'Purpose', format: 'text', public: true },
      ],
      tables: [],
    });
    // A single record of its own type, so the model collection counts only its 130.
    const model = (await ws.api('GET', '/v1/resource-types/model')).body;
    await ws.api('PUT', '/v1/resource-types/model_card', { label: 'Model card', fields: model.fields, tables: [] });
  }, 180_000);

  afterAll(async () => {
    for (const s of shooters) await s.context.close();
    await tb?.close();
    await h?.close();
  });

  const states = ['completed', 'running', 'failed', 'queued', 'done', 'skipped'];
  const taskRows = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      name: `Task ${i + 1}: ${['extract orders', 'normalise currencies', 'load warehouse', 'rebuild search index', 'notify finance'][i % 5]}`,
      state: states[i % states.length],
      started: `2026-11-24T0${i % 10}:1${i % 6}:00Z`,
      finished: i % 4 === 3 ? null : `2026-11-24T0${i % 10}:4${i % 6}:00Z`,
      rows: 1000 * (i + 1) + 37,
      log: i % 5 === 4 ? null : `https://ci.example.com/jobs/42/tasks/${i + 1}/log`,
      owner: i % 3 === 0 ? 'data-team@example.com' : null,
      ok: i % 2 === 0,
    }));

  async function jobLink(opts: { tasks?: number; link?: Record<string, unknown> } = {}) {
    const r = await buildResource(ws, {
      type: 'job',
      title: 'Nightly warehouse import',
      fields: {
        status: 'failed',
        owner: 'ada@example.com',
        started_at: '2026-11-24T02:00:00Z',
        due: '2026-11-25',
        dashboard: 'https://grafana.example.com/d/imports',
        retries: 3,
        notify: true,
        notes: null,
      },
      tables: { tasks: taskRows(opts.tasks ?? 8) },
    });
    return buildLink(ws, { resource_type: 'job', resource_id: r.id, label: 'For the finance review', max_views: 25, ...opts.link });
  }

  let modelsSeeded = false;
  async function collectionLink(link: Record<string, unknown> = {}) {
    if (!modelsSeeded) {
      for (let i = 0; i < 130; i++) {
        await buildResource(ws, {
          type: 'model',
          id: `model-${String(i).padStart(3, '0')}`,
          title: `${['Credit scoring', 'Churn forecast', 'Fraud detector', 'Demand planner'][i % 4]} v${i}`,
          fields: {
            owner: `owner${i % 7}@example.com`,
            risk: ['ok', 'warning', 'critical', 'pending'][i % 4],
            stage: ['active', 'draft', 'blocked'][i % 3],
            reviewed: i % 5 === 0 ? null : '2026-10-15',
            in_production: i % 2 === 0,
            docs: `https://wiki.example.com/models/${i}`,
            purpose: 'Scores applications for the consumer lending desk.',
          },
        });
      }
      modelsSeeded = true;
    }
    return buildLink(ws, { resource_type: 'model', resource_id: null, label: 'Q4 model audit', settings: { fields: ['title', 'owner', 'risk', 'stage', 'reviewed', 'in_production'], allow_open_records: true }, ...link });
  }

  /** Opens a page as a first visit at each width, screenshots it, checks nothing overflows sideways; returns the page's heading. */
  async function shoot(path: string, name: string, expectStatus: number): Promise<string> {
    let title = '';
    for (const { name: width, width: px, context, page } of shooters) {
      await context.clearCookies();
      const res = await page.goto(origin + path);
      expect({ name, width, status: res?.status() }).toEqual({ name, width, status: expectStatus });
      await page.screenshot({ path: screenshotPath(`${name}-${width}`), fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect({ name, width: px, overflow }).toEqual({ name, width: px, overflow: 0 });
      title = await page.locator('h1').innerText();
    }
    return title;
  }

  const heading = (page: Page) => page.locator('h1').innerText();

  it('opens a record and a job with its tasks, readable on a phone and on a laptop', async () => {
    const link = await jobLink({ tasks: 8 });
    await shoot(`/shared/${link.token}`, 'job', 200);
    const record = await buildResource(ws, {
      type: 'model_card',
      id: 'solo-model',
      title: 'Credit scoring v7',
      fields: { owner: 'risk@example.com', risk: 'warning', stage: 'active', reviewed: null, in_production: true, docs: 'https://wiki.example.com/models/7', purpose: 'Scores applications for the consumer lending desk.\nReviewed quarterly.' },
    });
    const single = await buildLink(ws, { resource_type: 'model_card', resource_id: record.id, settings: { fields: 'all' } });
    await shoot(`/s/${single.short_code}`, 'record', 200);

    const context = await tb.context({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${origin}/shared/${link.token}`);
    expect(await heading(page)).toBe('Nightly warehouse import');
    await expect.poll(() => page.locator('.toolbar').innerText()).toContain('For the finance review');
    expect(await page.locator('.meta-views').innerText()).toBe('3 of 25 views'); // two screenshots, then this visit
    expect(await page.locator('.meta-expiry time').getAttribute('title')).toMatch(/UTC$/);
    // Badges carry their colour family.
    const bad = await page.locator('.badge-bad').first().evaluate((e: DomElement) => getComputedStyle(e).color);
    const good = await page.locator('.badge-good').first().evaluate((e: DomElement) => getComputedStyle(e).color);
    expect(bad).not.toBe(good);
    // On a phone the wide table scrolls inside its box, the page does not.
    const scroll = await page.locator('.table-scroll').first().evaluate((e: DomElement) => ({ scroll: e.scrollWidth as number, client: e.clientWidth as number }));
    expect(scroll.scroll).toBeGreaterThan(scroll.client);
    expect(await page.locator('thead th').first().evaluate((e: DomElement) => getComputedStyle(e).position)).toBe('sticky');
    expect(await page.locator('footer').innerText()).toContain('Shared securely with Porthole');
    await context.close();
  }, 120_000);

  it('opens a collection, pages it, and opens a record from it', async () => {
    const link = await collectionLink();
    await shoot(`/shared/${link.token}`, 'collection', 200);
    const context = await tb.context({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${origin}/shared/${link.token}`);
    expect(await heading(page)).toBe('Model inventory');
    expect(await page.locator('.count').innerText()).toBe('rows 1–100 of 130');
    expect(await page.locator('tbody tr').count()).toBe(100);

    await page.getByRole('link', { name: 'Next page →' }).click();
    await page.waitForURL(/cursor=/);
    expect(await page.locator('.count').innerText()).toBe('rows 101–130 of 130');
    expect(await page.locator('tbody tr').count()).toBe(30);
    await page.screenshot({ path: screenshotPath('collection-page2-wide'), fullPage: true });
    await page.getByRole('link', { name: '← Previous' }).click();
    await page.waitForURL((u) => !u.search.includes('cursor'));
    expect(await page.locator('.count').innerText()).toBe('rows 1–100 of 130');

    await page.getByRole('link', { name: 'Fraud detector v2', exact: true }).click();
    await page.waitForURL(/\/records\/model-002$/);
    expect(await heading(page)).toBe('Fraud detector v2');
    expect(await page.locator('dt').allInnerTexts()).toEqual(['Owner', 'Risk', 'Stage', 'Last review', 'In production']);
    await page.screenshot({ path: screenshotPath('collection-record-wide'), fullPage: true });
    await page.getByRole('link', { name: '← Back to Model inventory' }).click();
    await page.waitForURL(new RegExp(`/shared/${link.token}$`));
    await context.close();
    // Everything above was one view: the cookie carried it.
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(3); // two screenshot contexts + this one
    await shoot(`/shared/${link.token}/records/model-003`, 'collection-record', 200);
  }, 120_000);

  it('pages a record’s table past its first 100 rows', async () => {
    const link = await jobLink({ tasks: 150 });
    const context = await tb.context({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${origin}/shared/${link.token}`);
    await page.getByRole('link', { name: 'Next page →' }).click();
    await page.waitForURL(/\/tables\/tasks\?cursor=/);
    expect(await heading(page)).toBe('Tasks');
    expect(await page.locator('.count').innerText()).toBe('rows 101–150 of 150');
    await context.close();
    const url = new URL(page.url());
    await shoot(`${url.pathname}${url.search}`, 'job-tasks-page2', 200);
  }, 120_000);

  it('downloads the CSV with the view’s cookie, even when the view limit is spent', async () => {
    const link = await jobLink({ tasks: 12, link: { max_views: 1 } });
    const context = await tb.context();
    const page = await context.newPage();
    await page.goto(`${origin}/shared/${link.token}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^nightly-warehouse-import-tasks-\d{4}-\d{2}-\d{2}\.csv$/);
    const rows = parseCsv(readFileSync(await download.path(), 'utf8'));
    expect(rows[0]).toEqual(['Task', 'State', 'Started', 'Finished', 'Rows', 'Log', 'Owner', 'Checked']);
    expect(rows.filter((r) => r.length > 1)).toHaveLength(13);
    expect(rows[1][0]).toBe('Task 1: extract orders');
    await context.close();
    const row = (await ws.api('GET', `/v1/links/${link.id}`)).body;
    expect(row.view_count).toBe(1);
    expect(row.download_count).toBe(1);
  }, 120_000);

  it('shows a clear page for every refusal, and the password and email forms work', async () => {
    const check = async (path: string, status: number, title: string, name: string) => {
      expect({ name, title: await shoot(path, `refusal-${name}`, status) }).toEqual({ name, title });
    };
    await check(`/shared/${'A'.repeat(43)}`, 404, 'This link doesn’t exist', 'not-found');
    await check('/shared/this-is-not-a-link', 400, 'This link isn’t valid', 'invalid');
    const revoked = await buildLink(ws);
    await ws.api('POST', `/v1/links/${revoked.id}/revoke`);
    await check(`/shared/${revoked.token}`, 410, 'This link has been revoked', 'revoked');
    const disabled = await buildLink(ws);
    await ws.api('PATCH', `/v1/links/${disabled.id}`, { enabled: false });
    await check(`/s/${disabled.short_code}`, 403, 'This link is switched off', 'disabled');
    const spent = await buildLink(ws, { max_views: 1 });
    await ws.api('GET', `/v1/links/${spent.id}`);
    await fetch(`${origin}/v1/shared/${spent.token}`);
    await check(`/shared/${spent.token}`, 410, 'This link has reached its view limit', 'view-limit');
    const noExport = await buildLink(ws, { settings: { allow_export: false } });
    await check(`/shared/${noExport.token}/export.csv`, 403, 'Downloads are turned off', 'export-disabled');
    const closed = await collectionLink({ settings: { fields: 'default', allow_open_records: false } });
    await check(`/shared/${closed.token}/records/model-001`, 403, 'Single records can’t be opened', 'records-disabled');
    const expiring = await buildLink(ws, { expires_in_days: 1 });
    h.advance(2 * 86_400_000);
    try {
      await check(`/shared/${expiring.token}`, 410, 'This link has expired', 'expired');
    } finally {
      h.advance(-2 * 86_400_000);
    }

    // The password form, with JavaScript off: wrong, then right, then the page.
    const locked = await jobLink({ link: { password: 'open sesame' } });
    await check(`/shared/${locked.token}`, 401, 'This link is protected by a password', 'password');
    const context = await tb.context({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${origin}/shared/${locked.token}`);
    await page.getByLabel('Password').fill('guess');
    await Promise.all([page.waitForURL(/\/unlock$/), page.getByRole('button', { name: 'Open' }).click()]);
    expect(await heading(page)).toBe('That password isn’t right');
    await page.screenshot({ path: screenshotPath('refusal-password-wrong-wide'), fullPage: true });
    await page.getByLabel('Password').fill('open sesame');
    await Promise.all([page.waitForURL(new RegExp(`/shared/${locked.token}$`)), page.getByRole('button', { name: 'Open' }).click()]);
    expect(await heading(page)).toBe('Nightly warehouse import');
    await page.reload();
    expect(await heading(page)).toBe('Nightly warehouse import');
    await context.close();

    const guarded = await buildLink(ws, { requires_auth: true, allowed_domains: ['example.com'] });
    await check(`/shared/${guarded.token}`, 401, 'Confirm your email address', 'email');
    const c2 = await tb.context({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    const p2 = await c2.newPage();
    await p2.goto(`${origin}/shared/${guarded.token}`);
    await p2.getByLabel('Your email address').fill('ada@example.com');
    const [res] = await Promise.all([p2.waitForResponse(/verify\/start$/), p2.getByRole('button', { name: 'Email me a code' }).click()]);
    expect(res.status()).toBe(200);
    expect(await heading(p2)).toBe('Check your mail');
    await p2.screenshot({ path: screenshotPath('verify-code-phone'), fullPage: true });
    // Without SMTP_URL the code's mail is a file in the data directory.
    await h.ctx.mail.drain();
    const mailDir = join(h.ctx.config.dataDir, 'mail');
    const mail = readdirSync(mailDir)
      .map((f) => readFileSync(join(mailDir, f), 'utf8'))
      .find((m) => m.includes('To: ada@example.com'));
    const code = /one-time code is (\d{6})/.exec(mail ?? '')?.[1];
    expect(code).toMatch(/^\d{6}$/);
    await p2.getByLabel('6-digit code').fill(code === '000000' ? '111111' : '000000');
    const [wrong] = await Promise.all([p2.waitForResponse(/verify\/confirm$/), p2.getByRole('button', { name: 'Open' }).click()]);
    expect(wrong.status()).toBe(401);
    expect(await heading(p2)).toBe('That code didn’t work');
    await p2.getByLabel('6-digit code').fill(code as string);
    await Promise.all([p2.waitForURL(new RegExp(`/shared/${guarded.token}$`)), p2.getByRole('button', { name: 'Open' }).click()]);
    expect(await heading(p2)).toMatch(/^Resource res-/);
    await p2.reload();
    expect(await heading(p2)).toMatch(/^Resource res-/);
    await c2.close();
  }, 180_000);

  it('reads fully with JavaScript disabled', async () => {
    const link = await jobLink({ tasks: 150 });
    const context = await tb.context({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${origin}/shared/${link.token}`);
    expect(await heading(page)).toBe('Nightly warehouse import');
    expect(await page.locator('dt').allInnerTexts()).toEqual(['Status', 'Owner', 'Started', 'Due', 'Dashboard', 'Retries', 'Notify on failure', 'Notes']);
    expect(await page.locator('dd').nth(7).innerText()).toBe('— not provided');
    expect(await page.locator('tbody tr').count()).toBe(100);
    expect(await page.locator('tbody tr').nth(99).locator('td').first().innerText()).toBe('Task 100: notify finance');
    await page.getByRole('link', { name: 'Next page →' }).click();
    expect(await page.locator('tbody tr').count()).toBe(50);
    expect(await page.locator('tbody tr').last().locator('td').first().innerText()).toBe('Task 150: notify finance');

    const collection = await collectionLink();
    await page.goto(`${origin}/shared/${collection.token}`);
    expect(await page.locator('tbody tr').count()).toBe(100);
    await page.getByRole('link', { name: 'Next page →' }).click();
    expect(await page.locator('tbody tr').count()).toBe(30);
    await context.close();
  }, 120_000);

  it('never runs what the data holds', async () => {
    const payloads = ['<script>window.__xss=1</script>', '"><img src=x onerror="window.__xss=2">', 'javascript:window.__xss=3'];
    await ws.api('PUT', '/v1/resource-types/note', {
      label: 'Note',
      fields: [
        { key: 'a', label: 'Text A', format: 'text', public: true },
        { key: 'b', label: 'Text B', format: 'text', public: true },
        { key: 'c', label: 'Link C', format: 'url', public: true },
        { key: 'd', label: 'Link D', format: 'url', public: true },
        { key: 'e', label: 'Link E', format: 'url', public: true },
        { key: 'f', label: 'Mail F', format: 'email', public: true },
        { key: 'g', label: 'Status G', format: 'status', public: true },
      ],
      tables: [{ key: 'rows', label: 'Rows', columns: [{ key: 'text', label: 'Text', format: 'text' }, { key: 'url', label: 'URL', format: 'url' }, { key: 'mail', label: 'Mail', format: 'email' }] }],
    });
    const fields = { a: payloads[0], b: payloads[1], c: payloads[2], d: payloads[1], e: 'JaVaScRiPt:window.__xss=3', f: payloads[2], g: payloads[0] };
    const rows = payloads.flatMap((p) => [{ text: p, url: p, mail: p }]);
    for (let i = 0; i < 3; i++) await buildResource(ws, { type: 'note', id: `note-${i}`, title: payloads[i], fields, tables: { rows } });
    const record = await buildLink(ws, { resource_type: 'note', resource_id: 'note-0', label: payloads[1], settings: { fields: 'all' } });
    const collection = await buildLink(ws, { resource_type: 'note', resource_id: null, label: payloads[0], settings: { fields: 'all', allow_open_records: true } });
    const paths = [`/shared/${record.token}`, `/shared/${record.token}/tables/rows`, `/shared/${collection.token}`, `/shared/${collection.token}/records/note-1`];

    // Once with the page's CSP bypassed, so escaping alone is what is tested; once as served.
    for (const bypassCSP of [true, false]) {
      const context = await tb.context({ bypassCSP });
      const page = await context.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      for (const path of paths) {
        const res = await page.goto(origin + path);
        expect(res?.status()).toBe(200);
        await page.waitForLoadState('load');
        const found = await page.evaluate(() => ({
          xss: window.__xss,
          jsLinks: document.querySelectorAll('a[href^="javascript:" i]').length,
          scripts: document.querySelectorAll('script').length,
          images: document.querySelectorAll('img').length,
          handlers: [...document.querySelectorAll('*')].filter((e: DomElement) => [...e.attributes].some((a: { name: string }) => a.name.startsWith('on'))).length,
        }));
        expect({ path, bypassCSP, ...found }).toEqual({ path, bypassCSP, xss: undefined, jsLinks: 0, scripts: 0, images: 0, handlers: 0 });
        expect(await page.locator('body').innerText()).toContain('<script>window.__xss=1</script>');
        // Follow every link on the page that stays on the page's own origin or is data: nothing may run.
        for (const href of await page.locator('a[href]').evaluateAll((as: DomElement[]) => as.map((a) => String(a.getAttribute('href') ?? '')))) {
          expect(href.toLowerCase().trim().startsWith('javascript:')).toBe(false);
        }
      }
      expect(dialogs).toEqual([]);
      await context.close();
    }
    await shoot(`/shared/${record.token}`, 'escaping', 200);
  }, 120_000);

  it('makes no third-party requests and no script: one document and one stylesheet per page', async () => {
    const job = await jobLink({ tasks: 100 });
    const collection = await collectionLink();
    const context = await tb.context();
    const page = await context.newPage();
    const requests: Array<{ url: string; type: string }> = [];
    page.on('request', (r) => requests.push({ url: r.url(), type: r.resourceType() }));
    await page.goto(`${origin}/shared/${job.token}`, { waitUntil: 'networkidle' });
    expect(requests.map((r) => r.type).sort()).toEqual(['document', 'stylesheet']);
    await page.goto(`${origin}/shared/${collection.token}`, { waitUntil: 'networkidle' });
    await page.getByRole('link', { name: 'Next page →' }).click();
    await page.waitForLoadState('networkidle');
    await page.goto(`${origin}/shared/${'A'.repeat(43)}`, { waitUntil: 'networkidle' });
    expect(requests.length).toBeGreaterThanOrEqual(5);
    for (const r of requests) {
      expect(r.url.startsWith(`${origin}/`)).toBe(true);
      expect(['document', 'stylesheet']).toContain(r.type);
    }
    expect(await page.evaluate(() => document.scripts.length)).toBe(0);
    await context.close();
  }, 120_000);
});
