import { expect, it } from 'vitest';
import { buildLink, buildResource, buildWorkspace, send } from './helpers/factories.js';
import { describeEachDialect } from './helpers/harness.js';

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ step: `step ${String(i).padStart(3, '0')}`, n: i }));

describeEachDialect('tables of records opened from a collection', (h) => {
  it('page past 100 rows through the API and the pages, only inside the filter and only with open records', async () => {
    const ws = await buildWorkspace(h());
    const type = `run${Date.now().toString(36)}`;
    await buildResource(ws, { type, id: 'a', fields: { team: 'blue' }, tables: { steps: rows(230) } });
    await buildResource(ws, { type, id: 'b', fields: { team: 'red' }, tables: { steps: rows(3) } });
    const link = await buildLink(ws, { resource_type: type, resource_id: null, filter: { team: 'blue' }, settings: { allow_open_records: true } });

    const record = await send(h().app, 'GET', `/v1/shared/${link.token}/records/a`);
    expect(record.status).toBe(200);
    const first = record.body.resource.tables[0];
    expect(first.rows).toHaveLength(100);
    const grant = { 'x-porthole-grant': record.body.grant };
    const second = await send(h().app, 'GET', `/v1/shared/${link.token}/records/a/tables/steps?cursor=${first.next_cursor}`, undefined, grant);
    expect(second.status).toBe(200);
    expect(second.body.table.rows[0]).toEqual({ step: 'step 100', n: 100 });
    const third = await send(h().app, 'GET', `/v1/shared/${link.token}/records/a/tables/steps?cursor=${second.body.table.next_cursor}`, undefined, grant);
    expect(third.body.table.rows).toHaveLength(30);
    expect(third.body.table.next_cursor).toBeNull();

    // Outside the filter, an unknown table, a foreign cursor: refused, nothing counted.
    expect((await send(h().app, 'GET', `/v1/shared/${link.token}/records/b/tables/steps`, undefined, grant)).status).toBe(404);
    expect((await send(h().app, 'GET', `/v1/shared/${link.token}/records/a/tables/nope`, undefined, grant)).status).toBe(404);
    const other = await buildLink(ws, { resource_type: type, resource_id: null, settings: { allow_open_records: true } });
    const foreign = await send(h().app, 'GET', `/v1/shared/${other.token}/records/a/tables/steps?cursor=${first.next_cursor}`);
    expect(foreign.body.reason).toBe('invalid_cursor');
    const closed = await buildLink(ws, { resource_type: type, resource_id: null });
    expect((await send(h().app, 'GET', `/v1/shared/${closed.token}/records/a/tables/steps`)).body.reason).toBe('records_disabled');
    const after = await ws.api('GET', `/v1/links/${link.id}`);
    expect(after.body.view_count).toBe(1);

    // The page links to the next page of the record's table, and that page reads.
    const page = await h().app.inject({ method: 'GET', url: `/shared/${link.token}/records/a` });
    const next = /href="([^"]*\/records\/a\/tables\/steps\?cursor=[^"]+)"/.exec(page.body)?.[1];
    expect(next).toBeTruthy();
    const cookie = String(page.headers['set-cookie']).split(';')[0];
    const nextPage = await h().app.inject({ method: 'GET', url: next!.replace(/&amp;/g, '&'), headers: { cookie } });
    expect(nextPage.statusCode).toBe(200);
    expect(nextPage.body).toContain('step 100');
    expect(nextPage.body).toContain(`href="/shared/${link.token}/records/a"`);
  });
});
