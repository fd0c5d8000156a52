import { verifyAudit } from '../src/app/verify-audit.js';
import { beforeAll, expect, it } from 'vitest';
import { buildLink, buildResource, buildWorkspace, send, type TestWorkspace } from './helpers/factories.js';
import { parseCsv } from './helpers/csv.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';


const linkEvents = (h: Harness, linkId: string) =>
  h.ctx.database.db.selectFrom('events').selectAll().where('link_id', '=', linkId).orderBy('seq').execute();

describeEachDialect('exports', (h) => {
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await buildWorkspace(h());
    await ws.api('PUT', '/v1/resource-types/report', {
      label: 'Compliance report',
      fields: [
        { key: 'status', label: 'Status', format: 'status', public: true },
        { key: 'auditor', label: 'Auditor', format: 'email', public: false },
      ],
      tables: [{ key: 'gaps', label: 'Gaps', columns: [{ key: 'rule', label: 'Rule' }, { key: 'note', label: 'Note' }] }],
    });
  });

  it('neutralises formula cells in CSV and keeps them verbatim in JSON', async () => {
    const dangerous = ['=1+2', '+SUM(A1:A9)', '-3+4', '@cmd|calc', '\tTAB', '\rCR', '=HYPERLINK("http://evil.test","x")'];
    const safe = ['plain', 'a=b', 'x-y', ' =spaced', 'multi\nline'];
    const gaps = [...dangerous, ...safe].map((note, i) => ({ rule: `R${i}`, note }));
    const r = await buildResource(ws, { type: 'report', title: '=Title formula', fields: { status: 'open' }, tables: { gaps } });
    const link = await buildLink(ws, { resource_type: 'report', resource_id: r.id });
    const grant = (await send(h().app, 'GET', `/v1/shared/${link.token}`)).body.grant;

    const csv = await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`, undefined, { 'x-porthole-grant': grant });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parseCsv(csv.text);
    expect(rows[0]).toEqual(['Rule', 'Note']);
    const notes = rows.slice(1).map((row) => row[1]);
    expect(notes).toEqual([...dangerous.map((d) => `'${d}`), ...safe]);
    for (const cell of rows.flat()) expect(cell).not.toMatch(/^[=+\-@\t\r]/);

    const json = await send(h().app, 'GET', `/v1/shared/${link.token}/export.json`, undefined, { 'x-porthole-grant': grant });
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.body).toEqual(gaps);
  });

  it('honours the projection: a record without tables exports its visible fields as one row', async () => {
    const r = await buildResource(ws, { type: 'report', title: 'Q3 controls', fields: { status: '@risk', auditor: 'hidden-auditor@example.test' } });
    const link = await buildLink(ws, { resource_type: 'report', resource_id: r.id });
    const grant = (await send(h().app, 'GET', `/v1/shared/${link.token}`)).body.grant;
    const g = { 'x-porthole-grant': grant };
    const csv = await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`, undefined, g);
    expect(parseCsv(csv.text)).toEqual([['Title', 'Status'], ['Q3 controls', "'@risk"]]);
    const json = await send(h().app, 'GET', `/v1/shared/${link.token}/export.json`, undefined, g);
    expect(json.body).toEqual([{ title: 'Q3 controls', status: '@risk' }]);
    expect(csv.text + json.text).not.toContain('hidden-auditor');

    const all = await buildLink(ws, { resource_type: 'report', resource_id: r.id, settings: { fields: ['auditor'] } });
    const j2 = await send(h().app, 'GET', `/v1/shared/${all.token}/export.json`);
    expect(j2.body).toEqual([{ title: 'Q3 controls', auditor: 'hidden-auditor@example.test' }]);
  });

  it('sets a download filename, writes a downloaded event and counts download_count', async () => {
    const r = await buildResource(ws, { type: 'report', title: 'Année 2026: "final" / v2', tables: { gaps: [{ rule: 'A', note: 'n' }] } });
    const link = await buildLink(ws, { resource_type: 'report', resource_id: r.id });
    const csv = await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`);
    expect(csv.status).toBe(200);
    const day = new Date().toISOString().slice(0, 10);
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="annee-2026-final-v2-gaps-${day}.csv"`);
    const json = await send(h().app, 'GET', `/v1/shared/${link.token}/export.json?table=gaps`);
    expect(json.status).toBe(200);
    expect(json.headers['content-disposition']).toBe(`attachment; filename="annee-2026-final-v2-gaps-${day}.json"`);

    const l = (await ws.api('GET', `/v1/links/${link.id}`)).body;
    expect(l.download_count).toBe(2);
    const events = await linkEvents(h(), link.id);
    const downloads = events.filter((e) => e.type === 'downloaded');
    expect(downloads).toHaveLength(2);
    expect(JSON.parse(downloads[1].metadata)).toMatchObject({ action: 'export', table: 'gaps' });
    // An export without a grant is also a view of the link: both events, chained in order.
    expect(events.filter((e) => e.type === 'viewed').length).toBe(l.view_count);
    expect((await verifyAudit(h().ctx, { linkId: link.id })).breaks).toEqual([]);
  });

  it('a collection export is named after its type', async () => {
    await buildResource(ws, { type: 'report', id: 'rep-x', title: 'X', fields: { status: 'ok' } });
    const link = await buildLink(ws, { resource_type: 'report', resource_id: null });
    const csv = await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`);
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="compliance-report-\d{4}-\d\d-\d\d\.csv"$/);
    expect(parseCsv(csv.text)[0]).toEqual(['Status']);
  });

  it('allow_export false → 403 export_disabled, even with a grant, and nothing is counted', async () => {
    const r = await buildResource(ws, { type: 'report', tables: { gaps: [{ rule: 'A', note: 'secret-gap' }] } });
    const link = await buildLink(ws, { resource_type: 'report', resource_id: r.id, settings: { allow_export: false } });
    const view = await send(h().app, 'GET', `/v1/shared/${link.token}`);
    expect(view.body.link.permissions.export).toBe(false);
    for (const headers of [{}, { 'x-porthole-grant': view.body.grant as string }] as Array<Record<string, string>>) {
      for (const format of ['csv', 'json']) {
        const res = await send(h().app, 'GET', `/v1/shared/${link.token}/export.${format}`, undefined, headers);
        expect([res.status, res.body.reason]).toEqual([403, 'export_disabled']);
        expect(res.text).not.toContain('secret-gap');
        expect(res.headers['content-disposition']).toBeUndefined();
      }
    }
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body).toMatchObject({ download_count: 0, view_count: 1 });
  });

  it('an unknown table is 404 and counts no download', async () => {
    const r = await buildResource(ws, { type: 'report', tables: { gaps: [{ rule: 'A', note: 'n' }] } });
    const link = await buildLink(ws, { resource_type: 'report', resource_id: r.id });
    const grant = (await send(h().app, 'GET', `/v1/shared/${link.token}`)).body.grant;
    const res = await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv?table=nope`, undefined, { 'x-porthole-grant': grant });
    expect([res.status, res.body.reason]).toEqual([404, 'not_found']);
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body.download_count).toBe(0);
    expect((await linkEvents(h(), link.id)).map((e) => e.type)).toEqual(['created', 'viewed']);
  });

  it('streams a 20,000-row table: every row in CSV and in JSON', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ n: i, v: i % 7 === 0 ? `=x${i}` : `r${i}` }));
    const r = await buildResource(ws, { type: 'bulk', title: 'Big table', tables: { lines: rows } });
    const link = await buildLink(ws, { resource_type: 'bulk', resource_id: r.id });
    const csv = await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`);
    expect(csv.status).toBe(200);
    const lines = csv.text.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(20_002);
    expect(lines[0]).toBe('N,V');
    expect(lines[1]).toBe("0,'=x0");
    expect(lines[20_000]).toBe("19999,'=x19999");
    expect(lines[19_999]).toBe('19998,r19998');
    const json = await send(h().app, 'GET', `/v1/shared/${link.token}/export.json`);
    expect(json.status).toBe(200);
    const parsed = JSON.parse(json.text);
    expect(parsed).toHaveLength(20_000);
    expect(parsed[19_998]).toEqual({ n: 19_998, v: 'r19998' });
    expect(parsed[19_999]).toEqual({ n: 19_999, v: '=x19999' });
    expect(parsed.map((x: any) => x.n)).toEqual(rows.map((x) => x.n));
  });
});

describeEachDialect('export grants', (h) => {
  it('an export opened without a grant hands one back, so the next export spends no view', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws, { max_views: 1 });
    const first = await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`);
    expect(first.status).toBe(200);
    const grant = first.headers['x-porthole-grant'] as string;
    expect(grant).toMatch(/^g1\./);
    const second = await send(h().app, 'GET', `/v1/shared/${link.token}/export.json`, undefined, { 'x-porthole-grant': grant });
    expect(second.status).toBe(200);
    const page = await h().app.inject({ method: 'GET', url: `/shared/${link.token}/export.csv` });
    expect(page.statusCode).toBe(410);
    const after = await ws.api('GET', `/v1/links/${link.id}`);
    expect(after.body.view_count).toBe(1);
    expect(after.body.download_count).toBe(2);

    const other = await buildLink(ws, { max_views: 1 });
    const direct = await h().app.inject({ method: 'GET', url: `/shared/${other.token}/export.csv` });
    expect(direct.statusCode).toBe(200);
    expect(String(direct.headers['set-cookie'])).toMatch(/porthole_grant=g1\.[^;]+;.*Path=\/shared\//);
  });
});
