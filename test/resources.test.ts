import { expect, it } from 'vitest';
import { buildLink, buildResource, buildWorkspace, collectPages, countRows, linkEvents } from './helpers/factories.js';
import { describeEachDialect } from './helpers/harness.js';

const jobType = {
  label: 'Build job',
  fields: [
    { key: 'status', label: 'State', format: 'status', public: true },
    { key: 'started_at', format: 'datetime', public: true },
    { key: 'cost', format: 'number' },
    { key: 'owner', format: 'email', public: false },
  ],
  tables: [
    {
      key: 'tasks',
      label: 'Tasks',
      columns: [
        { key: 'name', label: 'Task' },
        { key: 'done', format: 'boolean' },
      ],
    },
  ],
};

describeEachDialect('resources', (h) => {
  it('declares a type with labels, formats, public flags and tables, and reads it back', async () => {
    const ws = await buildWorkspace(h());
    const put = await ws.api('PUT', '/v1/resource-types/build-job', jobType);
    expect(put.status).toBe(200);
    const expected = {
      type: 'build-job',
      label: 'Build job',
      fields: [
        { key: 'status', label: 'State', format: 'status', public: true },
        { key: 'started_at', label: 'Started at', format: 'datetime', public: true },
        { key: 'cost', label: 'Cost', format: 'number', public: false },
        { key: 'owner', label: 'Owner', format: 'email', public: false },
      ],
      tables: [
        {
          key: 'tasks',
          label: 'Tasks',
          columns: [
            { key: 'name', label: 'Task', format: 'text' },
            { key: 'done', label: 'Done', format: 'boolean' },
          ],
        },
      ],
    };
    expect(put.body).toEqual(expected);
    expect((await ws.api('GET', '/v1/resource-types/build-job')).body).toEqual(expected);
    expect((await ws.api('GET', '/v1/resource-types')).body.items).toEqual([expected]);

    // Redeclaring replaces the declaration.
    const again = await ws.api('PUT', '/v1/resource-types/build-job', { fields: [{ key: 'status', format: 'status', public: true }] });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ label: 'Build job', fields: [{ key: 'status', label: 'Status' }], tables: [] });

    expect((await ws.api('GET', '/v1/resource-types/never-declared')).status).toBe(404);
  });

  it('refuses duplicate field, table and column keys (400) and keeps the old declaration', async () => {
    const ws = await buildWorkspace(h());
    expect((await ws.api('PUT', '/v1/resource-types/report', jobType)).status).toBe(200);
    const before = await countRows(h(), ws.workspaceId);
    const cases: Array<[unknown, string]> = [
      [{ fields: [{ key: 'a' }, { key: 'b' }, { key: 'a' }] }, 'fields'],
      [{ tables: [{ key: 't', columns: [] }, { key: 't', columns: [] }] }, 'tables'],
      [{ tables: [{ key: 't', columns: [{ key: 'c' }, { key: 'c' }] }] }, 'tables'],
      [{ fields: [{ key: 'a', format: 'colour' }] }, 'fields.0.format'],
      [{ fields: [{ key: 'a b' }] }, 'fields.0.key'],
    ];
    for (const [body, field] of cases) {
      const res = await ws.api('PUT', '/v1/resource-types/report', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body, JSON.stringify(body)).toMatchObject({ reason: 'invalid_request', error: expect.any(String) });
      expect(String(res.body.field).startsWith(field), `${JSON.stringify(body)} → ${res.body.field}`).toBe(true);
    }
    expect((await ws.api('GET', '/v1/resource-types/report')).body.label).toBe('Build job');
    expect(await countRows(h(), ws.workspaceId)).toEqual(before);
  });

  it('undeclared types work: any fields, tables, links', async () => {
    const ws = await buildWorkspace(h());
    const put = await ws.api('PUT', '/v1/resources/model/m-1', { title: 'Churn model', fields: { accuracy: 0.91, owner: 'ml' }, tables: { metrics: [{ name: 'auc', value: 0.88 }] } });
    expect(put.status).toBe(201);
    const got = await ws.api('GET', '/v1/resources/model/m-1');
    expect(got.body).toMatchObject({ type: 'model', id: 'm-1', title: 'Churn model', fields: { accuracy: 0.91, owner: 'ml' }, tables: { metrics: [{ name: 'auc', value: 0.88 }] } });
    const link = await ws.api('POST', '/v1/links', { resource_type: 'model', resource_id: 'm-1' });
    expect(link.status).toBe(201);
    const collection = await ws.api('POST', '/v1/links', { resource_type: 'model', resource_id: null, filter: { owner: 'ml' } });
    expect(collection.status).toBe(201);
  });

  it('versions: first PUT 201 v1, identical content 200 without a new version, each change a new version', async () => {
    const ws = await buildWorkspace(h());
    const db = h().ctx.database.db;
    const versionRows = async () =>
      Number((await db.selectFrom('resource_versions').select((eb) => eb.fn.countAll<number>().as('n')).where('workspace_id', '=', ws.workspaceId).executeTakeFirstOrThrow()).n);
    const url = '/v1/resources/job/j-42';
    const v1Body = {
      title: 'Nightly build',
      fields: { status: 'running', cost: 12, ok: true, note: null },
      tables: { tasks: [{ name: 'compile', done: true }, { name: 'test', done: false }], logs: [] },
    };

    const first = await ws.api('PUT', url, v1Body);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ type: 'job', id: 'j-42', title: 'Nightly build', version: 1, latest_version: 1, version_created: true });
    expect(await versionRows()).toBe(1);

    // Same content, keys in another order: no new version.
    const same = await ws.api('PUT', url, { tables: { logs: [], tasks: v1Body.tables.tasks }, fields: { note: null, ok: true, cost: 12, status: 'running' }, title: 'Nightly build' });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ version: 1, latest_version: 1, version_created: false });
    expect(await versionRows()).toBe(1);

    const changes = [
      { ...v1Body, title: 'Nightly build #2' },
      { ...v1Body, title: 'Nightly build #2', fields: { ...v1Body.fields, status: 'done' } },
      { ...v1Body, title: 'Nightly build #2', fields: { ...v1Body.fields, status: 'done' }, tables: { ...v1Body.tables, tasks: [{ name: 'compile', done: true }, { name: 'test', done: true }] } },
    ];
    for (const [i, body] of changes.entries()) {
      const res = await ws.api('PUT', url, body);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ version: i + 2, latest_version: i + 2, version_created: true });
    }
    expect(await versionRows()).toBe(4);

    const latest = await ws.api('GET', url);
    expect(latest.status).toBe(200);
    expect(latest.body).toMatchObject({
      version: 4,
      latest_version: 4,
      title: 'Nightly build #2',
      fields: { status: 'done', cost: 12, ok: true, note: null },
      tables: { tasks: [{ name: 'compile', done: true }, { name: 'test', done: true }], logs: [] },
    });

    const old = await ws.api('GET', `${url}?version=1`);
    expect(old.status).toBe(200);
    expect(old.body).toMatchObject({ version: 1, latest_version: 4, title: 'Nightly build', fields: v1Body.fields, tables: v1Body.tables });
    expect((await ws.api('GET', `${url}?version=3`)).body.tables.tasks[1]).toEqual({ name: 'test', done: false });
    expect((await ws.api('GET', `${url}?version=5`)).status).toBe(404);

    const versions = await ws.api('GET', `${url}/versions`);
    expect(versions.status).toBe(200);
    expect(versions.body.items.map((v: any) => v.version)).toEqual([4, 3, 2, 1]);
    expect(versions.body.items[3]).toMatchObject({ title: 'Nightly build', table_counts: { tasks: 2, logs: 0 }, created_by: expect.stringMatching(/^key:/) });
  });

  it('lists resources with a stable cursor: no duplicates, no gaps; a bad cursor is 400 invalid_cursor', async () => {
    const ws = await buildWorkspace(h());
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await buildResource(ws, { type: 'alpha', id: `a-${i}` })).id);
    for (let i = 0; i < 6; i++) ids.push((await buildResource(ws, { type: 'beta', id: `b-${i}` })).id);

    const pages = await collectPages(ws, '/v1/resources?limit=4', (r) => `${r.type}/${r.id}`);
    expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 1]);
    const all = pages.flat();
    expect(new Set(all).size).toBe(13);
    expect(all).toEqual([...ids.slice(0, 7).map((id) => `alpha/${id}`), ...ids.slice(7).map((id) => `beta/${id}`)]);

    const onlyBeta = (await collectPages(ws, '/v1/resources?type=beta&limit=4', (r) => r.id)).flat();
    expect(onlyBeta).toEqual(ids.slice(7));

    // A resource added behind the cursor does not shift the pages ahead of it.
    const firstPage = await ws.api('GET', '/v1/resources?limit=4');
    await buildResource(ws, { type: 'alpha', id: 'a-00' });
    const next = await ws.api('GET', `/v1/resources?limit=4&cursor=${firstPage.body.next_cursor}`);
    expect(next.body.items.map((r: any) => r.id)).toEqual(['a-4', 'a-5', 'a-6', 'b-0']);

    for (const cursor of ['garbage', 'WyJ4Il0', Buffer.from('[1,2]').toString('base64url')]) {
      const res = await ws.api('GET', `/v1/resources?cursor=${cursor}`);
      expect(res.status, cursor).toBe(400);
      expect(res.body.reason, cursor).toBe('invalid_cursor');
    }
  });

  it('DELETE revokes every link of the resource (event reason resource_deleted), then the resource is 404; the same id starts again at v1', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws, { type: 'job', id: 'doomed' });
    await buildResource(ws, { type: 'job', id: 'doomed', title: 'Second version' });
    const other = await buildResource(ws, { type: 'job', id: 'survivor' });
    const links = [
      await buildLink(ws, { resource_type: 'job', resource_id: 'doomed' }),
      await buildLink(ws, { resource_type: 'job', resource_id: 'doomed', snapshot: true }),
      await buildLink(ws, { resource_type: 'job', resource_id: 'doomed', max_views: 3 }),
    ];
    const otherLink = await buildLink(ws, { resource_type: 'job', resource_id: other.id });
    const collection = await buildLink(ws, { resource_type: 'job', resource_id: null });

    const del = await ws.api('DELETE', `/v1/resources/${r.type}/${r.id}`);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ deleted: true, revoked_links: 3 });

    for (const link of links) {
      const got = await ws.api('GET', `/v1/links/${link.id}`);
      expect(got.body).toMatchObject({ status: 'revoked', revoked_by: expect.stringMatching(/^key:/) });
      expect(got.body.revoked_at).not.toBeNull();
      const revoked = (await linkEvents(ws, link.id)).filter((e) => e.type === 'revoked');
      expect(revoked).toHaveLength(1);
      expect(revoked[0]).toMatchObject({ actor: expect.stringMatching(/^key:/), metadata: { reason: 'resource_deleted' } });
      const patch = await ws.api('PATCH', `/v1/links/${link.id}`, { label: 'back?' });
      expect(patch.status).toBe(409);
    }
    expect((await ws.api('GET', `/v1/links/${otherLink.id}`)).body.status).toBe('active');
    expect((await ws.api('GET', `/v1/links/${collection.id}`)).body.status).toBe('active');

    // The revoked links stay listable by their target.
    const listed = await ws.api('GET', `/v1/links?resource_type=job&resource_id=doomed&include_revoked=true`);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((l: any) => l.id).sort()).toEqual(links.map((l) => l.id).sort());

    expect((await ws.api('GET', `/v1/resources/job/doomed`)).status).toBe(404);
    expect((await ws.api('GET', `/v1/resources/job/doomed/versions`)).status).toBe(404);
    expect((await ws.api('GET', `/v1/resources/job/doomed?version=1`)).status).toBe(404);
    expect((await ws.api('DELETE', `/v1/resources/job/doomed`)).status).toBe(404);
    expect((await ws.api('POST', '/v1/links', { resource_type: 'job', resource_id: 'doomed' })).status).toBe(404);
    const versionRows = await h().ctx.database.db.selectFrom('resource_versions').select('version').where('workspace_id', '=', ws.workspaceId).where('resource_id', '=', 'doomed').execute();
    expect(versionRows).toEqual([]);

    const again = await ws.api('PUT', '/v1/resources/job/doomed', { title: 'Reborn', fields: {} });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ version: 1, latest_version: 1, title: 'Reborn' });
    expect((await ws.api('GET', '/v1/resources/job/doomed/versions')).body.items.map((v: any) => v.version)).toEqual([1]);
    // The old links stay revoked: revocation is final.
    expect((await ws.api('GET', `/v1/links/${links[0].id}`)).body.status).toBe('revoked');
  });

  it('a deleted resource of an undeclared type leaves its revoked links listable by type', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws, { type: 'one-off', id: 'only' });
    const link = await buildLink(ws, { resource_type: r.type, resource_id: r.id });
    expect((await ws.api('DELETE', `/v1/resources/${r.type}/${r.id}`)).status).toBe(200);
    const listed = await ws.api('GET', `/v1/links?resource_type=one-off&include_revoked=true`);
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.items.map((l: any) => l.id)).toEqual([link.id]);
  });
});
