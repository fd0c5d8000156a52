import { beforeAll, expect, it } from 'vitest';
import { buildLink, buildResource, buildWorkspace, send, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

const COUNT = 250;
const pad = (i: number) => String(i).padStart(3, '0');
/** Two in three assets are in the EU: 167 of 250, so a filtered collection spans two pages. */
const regionOf = (i: number) => (i % 3 === 1 ? 'us' : 'eu');
const allIds = Array.from({ length: COUNT }, (_, i) => `asset-${pad(i)}`);
const euIds = allIds.filter((_, i) => regionOf(i) === 'eu');
const usIds = allIds.filter((_, i) => regionOf(i) === 'us');

/** Follows next_cursor through `/tables/items` from the first page to the end. */
async function pageThrough(h: Harness, token: string, first: { rows: any[]; next_cursor: string | null; total: number }, headers: Record<string, string>) {
  const pages = [first];
  let cursor = first.next_cursor;
  while (cursor !== null) {
    const res = await send(h.app, 'GET', `/v1/shared/${token}/tables/items?cursor=${encodeURIComponent(cursor)}`, undefined, headers);
    expect(res.status).toBe(200);
    pages.push(res.body.table);
    cursor = res.body.table.next_cursor;
    expect(pages.length).toBeLessThan(10);
  }
  return pages;
}

describeEachDialect('collection links', (h) => {
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await buildWorkspace(h());
    // Written in a scrambled order: the served order must not depend on insertion.
    const order = allIds.map((_, i) => (i * 97) % COUNT);
    for (const i of order) {
      await buildResource(ws, {
        type: 'asset',
        id: allIds[i],
        title: `Asset ${pad(i)}`,
        fields: { region: regionOf(i), tier: i % 2, active: i % 5 === 0, internal_note: `note-for-${pad(i)}` },
      });
    }
  });

  it('pages through the filtered rows, 100 a page, in stable id order, with the right total', async () => {
    const link = await buildLink(ws, { resource_type: 'asset', resource_id: null, filter: { region: 'eu' }, settings: { fields: ['region', 'tier'] } });
    const view = await send(h().app, 'GET', `/v1/shared/${link.token}`);
    expect(view.status).toBe(200);
    expect(view.body.kind).toBe('collection');
    const g = { 'x-porthole-grant': view.body.grant };
    const first = view.body.collection;
    expect(first.total).toBe(euIds.length);
    expect(first.rows).toHaveLength(100);
    expect(first.next_cursor).toEqual(expect.any(String));
    expect(first.columns.map((c: any) => c.key)).toEqual(['region', 'tier']);

    const pages = await pageThrough(h(), link.token, first, g);
    expect(pages.map((p) => p.rows.length)).toEqual([100, euIds.length - 100]);
    expect(pages.every((p) => p.total === euIds.length)).toBe(true);
    expect(pages.at(-1)?.next_cursor).toBeNull();
    const ids = pages.flatMap((p) => p.rows.map((r: any) => r.id));
    expect(ids).toEqual(euIds);
    // Server-side filter: no row outside it on any page, and hidden fields stay hidden.
    for (const p of pages) for (const r of p.rows) expect(r.cells).toEqual({ region: 'eu', tier: expect.any(Number) });
    expect(JSON.stringify(pages)).not.toContain('note-for-');

    // The same walk again is the same sequence (stable order), and the first page via /tables equals the view's.
    const again = await send(h().app, 'GET', `/v1/shared/${link.token}/tables/items`, undefined, g);
    expect(again.body.table.rows.map((r: any) => r.id)).toEqual(first.rows.map((r: any) => r.id));
    const second = await pageThrough(h(), link.token, again.body.table, g);
    expect(second.flatMap((p) => p.rows.map((r: any) => r.id))).toEqual(ids);
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(1);
  });

  it('an unfiltered collection pages all 250 rows and ends with next_cursor null', async () => {
    const link = await buildLink(ws, { resource_type: 'asset', resource_id: null });
    const view = await send(h().app, 'GET', `/v1/shared/${link.token}`);
    const pages = await pageThrough(h(), link.token, view.body.collection, { 'x-porthole-grant': view.body.grant });
    expect(pages.map((p) => p.rows.length)).toEqual([100, 100, 50]);
    expect(pages.flatMap((p) => p.rows.map((r: any) => r.id))).toEqual(allIds);
    expect(pages.every((p) => p.total === COUNT)).toBe(true);
    // Undeclared type, default fields: id, title and updated_at only.
    expect(view.body.collection.columns.map((c: any) => c.key).sort()).toEqual(['id', 'title', 'updated_at']);
    expect(JSON.stringify(pages)).not.toContain('"region"');
  });

  it('applies filters on numbers, booleans, several keys and lists of values', async () => {
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ region: 'eu', tier: 1 }, allIds.filter((_, i) => regionOf(i) === 'eu' && i % 2 === 1)],
      [{ active: true }, allIds.filter((_, i) => i % 5 === 0)],
      [{ region: ['us'], active: false }, allIds.filter((_, i) => regionOf(i) === 'us' && i % 5 !== 0)],
      [{ id: ['asset-007', 'asset-100', 'asset-999'] }, ['asset-007', 'asset-100']],
    ];
    for (const [filter, expected] of cases) {
      const link = await buildLink(ws, { resource_type: 'asset', resource_id: null, filter });
      const view = await send(h().app, 'GET', `/v1/shared/${link.token}`);
      expect([filter, view.body.collection.total]).toEqual([filter, expected.length]);
      const pages = await pageThrough(h(), link.token, view.body.collection, { 'x-porthole-grant': view.body.grant });
      expect(pages.flatMap((p) => p.rows.map((r: any) => r.id))).toEqual(expected);
    }
  });

  it('filtered exports hold exactly the filtered rows, in CSV and JSON', async () => {
    const link = await buildLink(ws, { resource_type: 'asset', resource_id: null, filter: { region: 'eu' }, settings: { fields: ['region', 'tier'] } });
    const grant = (await send(h().app, 'GET', `/v1/shared/${link.token}`)).body.grant;
    const json = await send(h().app, 'GET', `/v1/shared/${link.token}/export.json`, undefined, { 'x-porthole-grant': grant });
    expect(json.status).toBe(200);
    expect(json.body).toHaveLength(euIds.length);
    expect(json.body.map((r: any) => Object.keys(r))).toEqual(euIds.map(() => ['region', 'tier']));
    expect(json.body.every((r: any) => r.region === 'eu')).toBe(true);
    const csv = await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`, undefined, { 'x-porthole-grant': grant });
    const lines = csv.text.trim().split('\n');
    expect(lines).toHaveLength(euIds.length + 1);
    expect(lines[0]).toBe('Region,Tier');
    expect(lines.slice(1).every((l) => /^eu,[01]$/.test(l))).toBe(true);
    for (const id of usIds) expect(csv.text + json.text).not.toContain(id);
  });

  it('opens a record only when allow_open_records, and only inside the filter', async () => {
    const closed = await buildLink(ws, { resource_type: 'asset', resource_id: null, filter: { region: 'eu' } });
    const denied = await send(h().app, 'GET', `/v1/shared/${closed.token}/records/${euIds[0]}`);
    expect([denied.status, denied.body.reason]).toEqual([403, 'records_disabled']);
    expect((await send(h().app, 'GET', `/v1/shared/${closed.token}`)).body.link.permissions.open_records).toBe(false);

    const open = await buildLink(ws, { resource_type: 'asset', resource_id: null, filter: { region: 'eu' }, settings: { allow_open_records: true, fields: ['region', 'tier'] } });
    const view = await send(h().app, 'GET', `/v1/shared/${open.token}`);
    expect(view.body.link.permissions.open_records).toBe(true);
    const g = { 'x-porthole-grant': view.body.grant };
    const inside = await send(h().app, 'GET', `/v1/shared/${open.token}/records/${euIds[5]}`, undefined, g);
    expect(inside.status).toBe(200);
    expect(inside.body.resource).toMatchObject({ id: euIds[5], type: 'asset', title: `Asset ${euIds[5].slice(-3)}` });
    expect(inside.body.resource.fields.map((f: any) => f.key)).toEqual(['region', 'tier']);
    expect(inside.text).not.toContain('note-for-');

    for (const id of [usIds[0], usIds[10], 'asset-999', 'no-such-thing']) {
      const res = await send(h().app, 'GET', `/v1/shared/${open.token}/records/${id}`, undefined, g);
      expect([id, res.status, res.body.reason]).toEqual([id, 404, 'not_found']);
      expect(res.text).not.toContain('Asset ');
    }
    // The records_disabled denial holds with a grant too.
    const closedGrant = (await send(h().app, 'GET', `/v1/shared/${closed.token}`)).body.grant;
    expect((await send(h().app, 'GET', `/v1/shared/${closed.token}/records/${euIds[0]}`, undefined, { 'x-porthole-grant': closedGrant })).body.reason).toBe('records_disabled');
  });

  it('a single-record link opens no other record', async () => {
    const link = await buildLink(ws, { resource_type: 'asset', resource_id: euIds[0], settings: { allow_open_records: true } });
    const view = await send(h().app, 'GET', `/v1/shared/${link.token}`);
    expect(view.body.link.permissions.open_records).toBe(false);
    const other = await send(h().app, 'GET', `/v1/shared/${link.token}/records/${euIds[1]}`, undefined, { 'x-porthole-grant': view.body.grant });
    expect(other.status).toBe(404);
  });

  it('a record table of more than 100 rows pages through /tables/{key}?cursor=', async () => {
    const rows = Array.from({ length: 230 }, (_, i) => ({ step: i, label: `step ${i}` }));
    const r = await buildResource(ws, { type: 'job', tables: { tasks: rows, notes: [{ text: 'only one' }] } });
    const link = await buildLink(ws, { resource_type: 'job', resource_id: r.id });
    const view = await send(h().app, 'GET', `/v1/shared/${link.token}`);
    const g = { 'x-porthole-grant': view.body.grant };
    const tasks = view.body.resource.tables.find((t: any) => t.key === 'tasks');
    expect(tasks).toMatchObject({ total: 230, next_cursor: expect.any(String) });
    expect(tasks.rows).toHaveLength(100);
    expect(view.body.resource.tables.find((t: any) => t.key === 'notes')).toMatchObject({ total: 1, next_cursor: null, rows: [{ text: 'only one' }] });

    const seen = [...tasks.rows];
    let cursor = tasks.next_cursor;
    const sizes = [tasks.rows.length];
    while (cursor) {
      const page = await send(h().app, 'GET', `/v1/shared/${link.token}/tables/tasks?cursor=${encodeURIComponent(cursor)}`, undefined, g);
      expect(page.status).toBe(200);
      expect(page.body.table).toMatchObject({ key: 'tasks', total: 230 });
      seen.push(...page.body.table.rows);
      sizes.push(page.body.table.rows.length);
      cursor = page.body.table.next_cursor;
    }
    expect(sizes).toEqual([100, 100, 30]);
    expect(seen).toEqual(rows);
    // The first page on its own, without a cursor, is the view's first page.
    const first = await send(h().app, 'GET', `/v1/shared/${link.token}/tables/tasks`, undefined, g);
    expect(first.body.table.rows).toEqual(tasks.rows);
  });
});
