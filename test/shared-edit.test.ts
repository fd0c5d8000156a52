import { expect, it } from 'vitest';
import { verifyAudit } from '../src/app/verify-audit.js';
import { issueGrant } from '../src/domain/grants.js';
import { editedRecordSchema } from '../src/http/public/edit-api.js';
import { buildLink, buildResource, buildWorkspace, linkEvents, send, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, listening, type Harness } from './helpers/harness.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130 Safari/537.36';

async function declareJob(ws: TestWorkspace): Promise<void> {
  const res = await ws.api('PUT', '/v1/resource-types/job', {
    label: 'Job',
    fields: [
      { key: 'status', label: 'Status', format: 'status', public: true },
      { key: 'due', label: 'Due date', format: 'date', public: true },
      { key: 'started_at', label: 'Started', format: 'datetime', public: true },
      { key: 'site', label: 'Website', format: 'url', public: true },
      { key: 'owner', label: 'Owner', format: 'email', public: true },
      { key: 'billable', label: 'Billable', format: 'boolean', public: true },
      { key: 'note', label: 'Note', format: 'text', public: true },
      { key: 'hours', label: 'Hours', format: 'number', public: true },
      { key: 'zone', label: 'Zone', format: 'text', public: true },
      { key: 'secret', label: 'Secret', format: 'text', public: false },
    ],
    tables: [{ key: 'tasks', label: 'Tasks', columns: [{ key: 'name', label: 'Task', format: 'text' }] }],
  });
  if (res.status !== 200 && res.status !== 201) throw new Error(`declareJob: ${res.status} ${res.text}`);
}

const jobFields = { status: 'queued', due: '2026-12-01', started_at: '2026-11-20T14:30:00Z', site: 'https://example.com/a', owner: 'ada@example.test', billable: true, note: 'first', hours: 3, zone: 'a', secret: 'do-not-show' };

async function editorLink(ws: TestWorkspace, opts: { link?: Record<string, unknown>; tasks?: number; fields?: Record<string, unknown> } = {}) {
  await declareJob(ws);
  const tasks = Array.from({ length: opts.tasks ?? 3 }, (_, i) => ({ name: `Task ${i + 1}`, n: i }));
  const r = await buildResource(ws, { type: 'job', fields: { ...jobFields, ...opts.fields }, tables: { tasks, notes: [] } });
  const link = await buildLink(ws, { resource_type: 'job', resource_id: r.id, access_role: 'editor', ...opts.link });
  return { r, link };
}

const patch = (h: Harness, token: string, recordId: string, body: unknown, headers: Record<string, string> = {}) =>
  send(h.app, 'PATCH', `/v1/shared/${token}/records/${encodeURIComponent(recordId)}`, body, { 'user-agent': UA, ...headers });

const versionsOf = async (ws: TestWorkspace, type: string, id: string) => (await ws.api('GET', `/v1/resources/${type}/${id}/versions`)).body.items as any[];
const fieldValue = (resource: any, key: string) => resource.fields.find((f: any) => f.key === key)?.value;

describeEachDialect('editing through an editor link', (h) => {
  it('edits a visible field: a new version by the link, shown at once, with an edited event in the chain', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws);
    // A view first, so the content caches hold version 1.
    const before = await send(h().app, 'GET', `/v1/shared/${link.token}`);
    expect(fieldValue(before.body.resource, 'status')).toBe('queued');
    const grant = before.body.grant;

    const res = await patch(h(), link.token, r.id, { fields: { status: 'done', hours: 4.5, note: null }, base_version: 1 }, { 'x-porthole-grant': grant });
    expect(res.status).toBe(200);
    expect(editedRecordSchema.strict().safeParse(res.body).error?.issues ?? []).toEqual([]);
    expect(res.body.changed_fields).toEqual(['status', 'hours', 'note']);
    expect(res.body.resource).toMatchObject({ id: r.id, version: 2, latest_version: 2 });
    expect(fieldValue(res.body.resource, 'status')).toBe('done');
    expect(fieldValue(res.body.resource, 'hours')).toBe(4.5);
    expect(fieldValue(res.body.resource, 'note')).toBeNull();
    expect(res.text).not.toContain('do-not-show');
    expect(res.body.grant).toBe(grant);

    const versions = await versionsOf(ws, 'job', r.id);
    expect(versions.map((v) => [v.version, v.created_by])).toEqual([
      [2, `link:${link.id}`],
      [1, expect.stringMatching(/^key:/)],
    ]);
    const stored = await ws.api('GET', `/v1/resources/job/${r.id}`);
    expect(stored.body.fields).toEqual({ ...jobFields, status: 'done', hours: 4.5, note: null });
    expect(stored.body.title).toBe(r.body.title);

    // The link follows the latest version: the next view shows the edit, whatever the caches held.
    const after = await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, { 'x-porthole-grant': grant });
    expect(after.body.resource.version).toBe(2);
    expect(fieldValue(after.body.resource, 'status')).toBe('done');
    const fresh = await send(h().app, 'GET', `/v1/shared/${link.short_code}`);
    expect(fieldValue(fresh.body.resource, 'hours')).toBe(4.5);

    const events = await linkEvents(ws, link.id);
    expect(events.map((e) => e.type)).toEqual(['created', 'viewed', 'edited', 'viewed']);
    const edited = events[2];
    expect(edited).toMatchObject({ actor: `link:${link.id}`, ip: '127.0.0.0', user_agent: UA, email: null, metadata: { record_id: r.id, version: 2, fields: ['status', 'hours', 'note'] } });
    // Keys only: never a value, a token or a grant. (Its id and time are left out: a time like 16:29:04.513 holds "4.5".)
    const raw = JSON.stringify({ ...edited, id: undefined, created_at: undefined });
    for (const secret of ['done', '4.5', link.token, link.short_code, grant]) expect(raw).not.toContain(secret);
    expect((await verifyAudit(h().ctx, { linkId: link.id })).breaks).toEqual([]);
  });

  it('an editor who proved their email is the version’s author and the event’s', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws);
    const found = await h().ctx.database.db.selectFrom('links').select(['grant_epoch']).where('id', '=', link.id).executeTakeFirstOrThrow();
    const grant = issueGrant(h().ctx.box, { linkId: link.id, epoch: found.grant_epoch, expiresAt: h().ctx.now() + 60_000, passwordUnlocked: false, email: 'ana@example.test' });
    const res = await patch(h(), link.token, r.id, { fields: { status: 'done' } }, { 'x-porthole-grant': grant });
    expect(res.status).toBe(200);
    expect((await versionsOf(ws, 'job', r.id))[0].created_by).toBe('email:ana@example.test');
    const events = await linkEvents(ws, link.id);
    expect(events.at(-1)).toMatchObject({ type: 'edited', actor: 'email:ana@example.test', email: 'ana@example.test' });
  });

  it('viewer and commenter links are refused with 403 forbidden and an access_denied event; nothing is written', async () => {
    const ws = await buildWorkspace(h());
    const { r } = await editorLink(ws);
    for (const role of ['viewer', 'commenter']) {
      const link = await buildLink(ws, { resource_type: 'job', resource_id: r.id, access_role: role });
      const res = await patch(h(), link.token, r.id, { fields: { status: 'done' } });
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: 'This share link does not allow that', reason: 'forbidden' });
      const events = await linkEvents(ws, link.id);
      expect(events.at(-1)).toMatchObject({ type: 'access_denied', reason: 'forbidden', metadata: { action: 'edit' } });
      expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(0);
      const view = await send(h().app, 'GET', `/v1/shared/${link.token}`);
      expect(view.body.link.permissions.edit).toBe(false);
    }
    expect(await versionsOf(ws, 'job', r.id)).toHaveLength(1);
  });

  it('a field the link does not show (hidden, unknown, or a meta field) is refused with 403 naming it, before any view is counted', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws, { link: { settings: { fields: ['status', 'hours'] } } });
    for (const key of ['secret', 'note', 'nonexistent', 'id', 'title', 'updated_at', 'constructor']) {
      const res = await patch(h(), link.token, r.id, { fields: { status: 'done', [key]: 'x' } });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ reason: 'forbidden', field: `fields.${key}` });
    }
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(0);
    expect(await versionsOf(ws, 'job', r.id)).toHaveLength(1);
    expect((await linkEvents(ws, link.id)).map((e) => e.type)).toEqual(['created']);
    // What the list names can be edited.
    expect((await patch(h(), link.token, r.id, { fields: { hours: 8 } })).status).toBe(200);
  });

  it('checks each value against its field’s format (400 naming the field); null clears', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws);
    const bad: Array<[string, unknown]> = [
      ['hours', 'three'],
      ['hours', true],
      ['billable', 'yes'],
      ['due', '2026-02-30'],
      ['due', '01/12/2026'],
      ['started_at', '2026-11-20 14:30'],
      ['started_at', '2026-11-20T14:30:00'],
      ['site', 'javascript:alert(1)'],
      ['site', 'example.com'],
      ['owner', 'not an email'],
      ['status', ''],
      ['status', 'two\nlines'],
      ['note', 42],
      ['note', 'nul\u0000byte'],
    ];
    for (const [key, value] of bad) {
      const res = await patch(h(), link.token, r.id, { fields: { [key]: value } });
      expect(res.status, `${key}=${JSON.stringify(value)}`).toBe(400);
      expect(res.body).toMatchObject({ reason: 'invalid_request', field: `fields.${key}` });
      expect(res.body.error).toContain(`fields.${key}`);
    }
    expect(await versionsOf(ws, 'job', r.id)).toHaveLength(1);
    const good = await patch(h(), link.token, r.id, {
      fields: { hours: -2.5, billable: false, due: '2027-01-31', started_at: '2027-01-31T08:00:00+02:00', site: 'https://porthole.test/x?y=1', owner: 'bo@example.test', status: 'in review', note: 'two\nlines', zone: null },
    });
    expect(good.status).toBe(200);
    expect(fieldValue(good.body.resource, 'billable')).toBe(false);
    expect(fieldValue(good.body.resource, 'zone')).toBeNull();
  });

  it('identical values make no version and no event; a later PUT of the same content makes none either', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws, { tasks: 5, fields: { note: undefined } });
    const same = await patch(h(), link.token, r.id, { fields: { status: 'queued', hours: 3 } });
    expect(same.status).toBe(200);
    expect(same.body.changed_fields).toEqual([]);
    expect(same.body.resource.version).toBe(1);
    // Clearing a field the record does not hold changes nothing either.
    const clear = await patch(h(), link.token, r.id, { fields: { note: null } }, { 'x-porthole-grant': same.body.grant });
    expect(clear.body.changed_fields).toEqual([]);
    expect(await versionsOf(ws, 'job', r.id)).toHaveLength(1);
    expect((await linkEvents(ws, link.id)).map((e) => e.type)).toEqual(['created', 'viewed']);

    // The edited version hashes as a PUT of its content would: putting that content again is a no-op.
    expect((await patch(h(), link.token, r.id, { fields: { status: 'done' } }, { 'x-porthole-grant': same.body.grant })).status).toBe(200);
    const current = await ws.api('GET', `/v1/resources/job/${r.id}`);
    const put = await ws.api('PUT', `/v1/resources/job/${r.id}`, { title: current.body.title, fields: current.body.fields, tables: current.body.tables });
    expect(put.status).toBe(200);
    expect(put.body.version).toBe(2);
    expect(await versionsOf(ws, 'job', r.id)).toHaveLength(2);
  });

  it('carries every table row over to the new version, in order', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws, { tasks: 1234 });
    const res = await patch(h(), link.token, r.id, { fields: { note: 'second' } });
    expect(res.status).toBe(200);
    const tasks = res.body.resource.tables.find((t: any) => t.key === 'tasks');
    expect(tasks.total).toBe(1234);
    expect(tasks.rows[0]).toEqual({ name: 'Task 1', n: 0 });
    const [v1, v2] = await Promise.all([1, 2].map((v) => ws.api('GET', `/v1/resources/job/${r.id}?version=${v}`)));
    expect(v2.body.version).toBe(2);
    expect(v2.body.tables).toEqual(v1.body.tables);
    expect(v2.body.tables.tasks).toHaveLength(1234);
    expect(v2.body.tables.notes).toEqual([]);
    const versions = await versionsOf(ws, 'job', r.id);
    expect(versions[0].table_counts).toEqual({ tasks: 1234, notes: 0 });
  });

  it('a stale base_version is a 409 conflict and writes nothing', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws);
    const first = await patch(h(), link.token, r.id, { fields: { status: 'running' }, base_version: 1 });
    expect(first.status).toBe(200);
    const grant = { 'x-porthole-grant': first.body.grant };
    const stale = await patch(h(), link.token, r.id, { fields: { status: 'done' }, base_version: 1 }, grant);
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe('conflict');
    expect(stale.body.error).toMatch(/version 2/);
    expect(await versionsOf(ws, 'job', r.id)).toHaveLength(2);
    expect((await linkEvents(ws, link.id)).filter((e) => e.type === 'edited')).toHaveLength(1);
    expect((await patch(h(), link.token, r.id, { fields: { status: 'done' }, base_version: 2 }, grant)).status).toBe(200);
  });

  it('concurrent edits: each applies on the latest version or is refused as a conflict, never both on one; every chain intact', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws, { tasks: 50 });
    const address = await listening(h().app);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        fetch(`${address}/v1/shared/${link.token}/records/${r.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fields: { hours: 100 + i } }) }).then((res) => res.status),
      ),
    );
    // Without base_version each edit applies on the latest it read: none may fail otherwise than by conflict.
    expect(results.filter((s) => s !== 200 && s !== 409)).toEqual([]);
    const versions = await versionsOf(ws, 'job', r.id);
    expect(versions).toHaveLength(1 + results.filter((s) => s === 200).length);
    expect((await linkEvents(ws, link.id)).filter((e) => e.type === 'edited')).toHaveLength(versions.length - 1);
    expect((await verifyAudit(h().ctx, { linkId: link.id })).breaks).toEqual([]);
    for (const v of versions) expect(v.table_counts.tasks).toBe(50);
  });

  it('a link pinned to a snapshot cannot edit (409)', async () => {
    const ws = await buildWorkspace(h());
    const { r } = await editorLink(ws);
    const pinned = await buildLink(ws, { resource_type: 'job', resource_id: r.id, access_role: 'editor', snapshot: true });
    const res = await patch(h(), pinned.token, r.id, { fields: { status: 'done' } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ reason: 'conflict' });
    expect(res.body.error).toMatch(/snapshot/);
    expect(await versionsOf(ws, 'job', r.id)).toHaveLength(1);
    expect((await send(h().app, 'GET', `/v1/shared/${pinned.token}`)).body.link.permissions.edit).toBe(false);
  });

  it('a single-resource link edits only its own record; a deleted resource is gone', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws);
    const other = await buildResource(ws, { type: 'job', fields: { status: 'queued' } });
    const res = await patch(h(), link.token, other.id, { fields: { status: 'done' } });
    expect(res.status).toBe(404);
    expect(res.body.reason).toBe('not_found');
    expect(await versionsOf(ws, 'job', other.id)).toHaveLength(1);
    await ws.api('DELETE', `/v1/resources/job/${r.id}`);
    // Deleting a resource revokes its links.
    expect((await patch(h(), link.token, r.id, { fields: { status: 'done' } })).body.reason).toBe('revoked');
  });

  it('a collection link edits rows inside its filter only; rows it cannot open come back without tables', async () => {
    const ws = await buildWorkspace(h());
    await declareJob(ws);
    const inside = await buildResource(ws, { type: 'job', fields: { ...jobFields, zone: 'a' }, tables: { tasks: [{ name: 'x' }] } });
    const outside = await buildResource(ws, { type: 'job', fields: { ...jobFields, zone: 'b' } });
    const list = await buildLink(ws, { resource_type: 'job', resource_id: null, filter: { zone: 'a' }, access_role: 'editor', settings: { allow_open_records: true } });
    const out = await patch(h(), list.token, outside.id, { fields: { status: 'done' } });
    expect(out.status).toBe(404);
    expect(out.body.reason).toBe('not_found');
    expect((await ws.api('GET', `/v1/links/${list.id}`)).body.view_count).toBe(0);
    for (const id of ['nobody', 'a%00b']) expect((await send(h().app, 'PATCH', `/v1/shared/${list.token}/records/${id}`, { fields: { status: 'done' } })).status).toBe(404);

    const ok = await patch(h(), list.token, inside.id, { fields: { status: 'done' } });
    expect(ok.status).toBe(200);
    expect(ok.body.resource.tables.map((t: any) => t.key)).toEqual(['tasks']);
    const row = await send(h().app, 'GET', `/v1/shared/${list.token}/records/${inside.id}`, undefined, { 'x-porthole-grant': ok.body.grant });
    expect(fieldValue(row.body.resource, 'status')).toBe('done');
    // Editing the filtered field moves the row out of the link: it cannot be edited through it any more.
    expect((await patch(h(), list.token, inside.id, { fields: { zone: 'b' } }, { 'x-porthole-grant': ok.body.grant })).status).toBe(200);
    expect((await patch(h(), list.token, inside.id, { fields: { zone: 'a' } }, { 'x-porthole-grant': ok.body.grant })).status).toBe(404);

    const closed = await buildLink(ws, { resource_type: 'job', resource_id: null, access_role: 'editor' });
    const edit = await patch(h(), closed.token, inside.id, { fields: { status: 'queued' } });
    expect(edit.status).toBe(200);
    expect(edit.body.resource.tables).toEqual([]);
  });

  it('without a grant the edit counts one view and hands one out; with it, none', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws, { link: { max_views: 2 } });
    const first = await patch(h(), link.token, r.id, { fields: { hours: 5 } });
    expect(first.status).toBe(200);
    expect(first.body.grant).toMatch(/^g1\./);
    expect(first.headers['x-porthole-grant']).toBe(first.body.grant);
    expect(first.body.link.view_count).toBe(1);
    for (const hours of [6, 7, 8]) {
      const again = await patch(h(), link.token, r.id, { fields: { hours } }, { 'x-porthole-grant': first.body.grant });
      expect(again.status).toBe(200);
    }
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(1);
    const types = (await linkEvents(ws, link.id)).map((e) => e.type);
    expect(types).toEqual(['created', 'viewed', 'edited', 'edited', 'edited', 'edited']);
  });

  it('a revoked link or a voided grant edits nothing', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws);
    const first = await patch(h(), link.token, r.id, { fields: { hours: 5 } });
    await ws.api('PATCH', `/v1/links/${link.id}`, { enabled: false });
    const disabled = await patch(h(), link.token, r.id, { fields: { hours: 6 } }, { 'x-porthole-grant': first.body.grant });
    expect(disabled.status).toBe(403);
    expect(disabled.body.reason).toBe('disabled');
    await ws.api('POST', `/v1/links/${link.id}/revoke`);
    expect((await patch(h(), link.token, r.id, { fields: { hours: 6 } })).body.reason).toBe('revoked');
    expect(await versionsOf(ws, 'job', r.id)).toHaveLength(2);
  });

  it('limits saved edits per link and client: 60 in 10 minutes, then 429 with Retry-After and nothing written', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws);
    const grant = (await send(h().app, 'GET', `/v1/shared/${link.token}`)).body.grant;
    const g = { 'x-porthole-grant': grant };
    for (let i = 0; i < 60; i++) expect((await patch(h(), link.token, r.id, { fields: { hours: i } }, g)).status).toBe(200);
    const refused = await patch(h(), link.token, r.id, { fields: { hours: 1000 } }, g);
    expect(refused.status).toBe(429);
    expect(refused.body.reason).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await versionsOf(ws, 'job', r.id))[0].version).toBe(61);
    h().advance(10 * 60_000);
    expect((await patch(h(), link.token, r.id, { fields: { hours: 1000 } }, g)).status).toBe(200);
  });

  it('malformed requests are 4xx {error, reason}, never a 500', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws);
    const url = `/v1/shared/${link.token}/records/${r.id}`;
    const cases: Array<[string, unknown, number, string]> = [
      [url, {}, 400, 'invalid_request'],
      [url, { fields: {} }, 400, 'invalid_request'],
      [url, { fields: { status: 'done' }, extra: 1 }, 400, 'invalid_request'],
      [url, { fields: ['status'] }, 400, 'invalid_request'],
      [url, { fields: { status: { nested: true } } }, 400, 'invalid_request'],
      [url, { fields: { status: ['a'] } }, 400, 'invalid_request'],
      [url, { fields: { 'bad key!': 1 } }, 400, 'invalid_request'],
      [url, '{"fields":{"__proto__":{"x":1}}}', 400, 'invalid_json'],
      [url, { fields: { note: 'x'.repeat(100_001) } }, 400, 'invalid_request'],
      [url, { fields: { status: 'done' }, base_version: 0 }, 400, 'invalid_request'],
      [url, { fields: { status: 'done' }, base_version: 1.5 }, 400, 'invalid_request'],
      [url, { fields: { status: 'done' }, base_version: '1' }, 400, 'invalid_request'],
      [url, '{"fields":{"hours":1e400}}', 400, 'invalid_request'],
      [url, 'not json', 400, 'invalid_json'],
      [url, { fields: Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`k${i}`, 1])) }, 400, 'invalid_request'],
      [url, { fields: { note: 'x'.repeat(2_000_000) } }, 413, 'payload_too_large'],
      [`${url}?x=1`, { fields: { status: 'done' } }, 400, 'invalid_request'],
      [`/v1/shared/abc/records/${r.id}`, { fields: { status: 'done' } }, 400, 'invalid_token'],
      [`/v1/shared/${'A'.repeat(43)}/records/${r.id}`, { fields: { status: 'done' } }, 404, 'not_found'],
      [`/v1/shared/${link.token}/records/${'x'.repeat(201)}`, { fields: { status: 'done' } }, 400, 'invalid_request'],
      [`/v1/shared/${link.token}/records/a%20b`, { fields: { status: 'done' } }, 400, 'invalid_request'],
      [`/v1/shared/${link.token}/records/%zz`, { fields: { status: 'done' } }, 400, 'invalid_request'],
    ];
    for (const [u, body, status, reason] of cases) {
      const res = await send(h().app, 'PATCH', u, body);
      expect(res.status, `${u} ${JSON.stringify(body).slice(0, 80)}`).toBe(status);
      expect(res.body, u).toMatchObject({ reason, error: expect.any(String) });
    }
    const form = await h().app.inject({ method: 'PATCH', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'fields=1' });
    expect(form.statusCode).toBe(415);
    const text = await h().app.inject({ method: 'PATCH', url, headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(text.statusCode).toBe(400);
    expect(await versionsOf(ws, 'job', r.id)).toHaveLength(1);
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(0);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = await send(h().app, 'GET', '/openapi.json');
    const op = doc.body.paths['/v1/shared/{id}/records/{recordId}'].patch;
    expect(op.summary).toMatch(/Edit fields/);
    expect(Object.keys(op.requestBody.content['application/json'].schema.properties)).toEqual(['fields', 'base_version']);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '403', '404', '409']));
  });
});

type Page = { status: number; text: string; location: string | null; cookie: string | undefined };

/** A browser with JavaScript off: plain GETs and form POSTs over real HTTP, the grant cookie sent back, redirects not followed. */
async function browse(address: string, path: string, opts: { cookie?: string; form?: Record<string, string> | URLSearchParams } = {}): Promise<Page> {
  const res = await fetch(`${address}${path}`, {
    method: opts.form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: {
      'user-agent': UA,
      ...(opts.cookie ? { cookie: opts.cookie } : {}),
      ...(opts.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: opts.form ? new URLSearchParams(opts.form).toString() : undefined,
  });
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('porthole_grant='));
  return { status: res.status, text: await res.text(), location: res.headers.get('location'), cookie: setCookie?.split(';')[0] };
}

const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/** The form's fields as a browser would post them untouched: every named input with its value (a checkbox only when checked). */
function formOf(html: string): URLSearchParams {
  const form = /<form class="form edit-form"[^>]*>([\s\S]*?)<\/form>/.exec(html)?.[1] ?? '';
  const out = new URLSearchParams();
  for (const m of form.matchAll(/<textarea([^>]*)>([\s\S]*?)<\/textarea>|<input([^>]*)>/g)) {
    const attrs = m[1] ?? m[3];
    const name = /name="([^"]*)"/.exec(attrs)?.[1];
    if (!name) continue;
    if (/type="checkbox"/.test(attrs) && !/checked=""/.test(attrs)) continue;
    const value = m[1] !== undefined ? m[2].replace(/^\n/, '') : (/value="([^"]*)"/.exec(attrs)?.[1] ?? '');
    out.append(unescape(name), unescape(value));
  }
  return out;
}

describeEachDialect('editing on the share pages (no JavaScript)', (h) => {
  it('record page → Edit → form → POST → 303 → the new value, escaped', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws);
    const address = await listening(h().app);
    const page = await browse(address, `/shared/${link.token}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`href="/shared/${link.token}/edit"`);
    const cookie = page.cookie;
    expect(cookie).toBeDefined();

    const form = await browse(address, `/shared/${link.token}/edit`, { cookie });
    expect(form.status).toBe(200);
    expect(form.text).toContain(`action="/shared/${link.token}/edit"`);
    expect(form.text).toContain('name="base_version" value="1"');
    expect(form.text).toMatch(/<input[^>]*type="number"[^>]*name="field.hours"|<input[^>]*name="field.hours"[^>]*type="number"/);
    expect(form.text).toMatch(/id="field-due"[^>]*type="date"[^>]*value="2026-12-01"|type="date"[^>]*id="field-due"/);
    expect(form.text).toMatch(/id="field-billable"[^>]*type="checkbox"/);
    expect(form.text).toMatch(/id="field-started_at"[^>]*type="datetime-local"[^>]*value="2026-11-20T14:30"/);
    expect(form.text).not.toContain('do-not-show');
    expect(form.text).not.toContain('field.secret');
    // The form's own page opened no second view: the cookie covered it.
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(1);

    // Posted untouched: nothing changes, no version.
    const untouched = await browse(address, `/shared/${link.token}/edit`, { cookie, form: formOf(form.text) });
    expect(untouched.status).toBe(303);
    expect(await versionsOf(ws, 'job', r.id)).toHaveLength(1);

    const body = formOf(form.text);
    body.set('field.note', '<script>alert("x")</script> & co\r\nline two');
    body.set('field.hours', '7.25');
    body.delete('field.billable');
    const saved = await browse(address, `/shared/${link.token}/edit`, { cookie, form: body });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`/shared/${link.token}`);
    const versions = await versionsOf(ws, 'job', r.id);
    expect(versions).toHaveLength(2);
    const stored = await ws.api('GET', `/v1/resources/job/${r.id}`);
    expect(stored.body.fields).toMatchObject({ note: '<script>alert("x")</script> & co\nline two', hours: 7.25, billable: false, started_at: '2026-11-20T14:30:00Z', due: '2026-12-01' });

    const after = await browse(address, saved.location as string, { cookie });
    expect(after.status).toBe(200);
    expect(after.text).not.toContain('<script>alert');
    expect(after.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(after.text).toContain('Version 2');
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(1);
    expect((await linkEvents(ws, link.id)).map((e) => e.type)).toEqual(['created', 'viewed', 'edited']);
  });

  it('a refused value brings the form back (400) with what was typed and why; a stale form says someone else changed it (409)', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws);
    const address = await listening(h().app);
    const first = await browse(address, `/s/${link.short_code}/edit`);
    expect(first.status).toBe(200);
    const cookie = first.cookie;
    const body = formOf(first.text);
    body.set('field.hours', 'lots');
    body.set('field.note', 'kept <b>typed</b>');
    const refused = await browse(address, `/s/${link.short_code}/edit`, { cookie, form: body });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('Hours must be a number.');
    expect(refused.text).toMatch(/id="field-hours"[^>]*aria-invalid="true"/);
    expect(refused.text).toContain('kept &lt;b&gt;typed&lt;/b&gt;');
    expect(await versionsOf(ws, 'job', r.id)).toHaveLength(1);

    // Someone else saves meanwhile.
    expect((await patch(h(), link.token, r.id, { fields: { status: 'done' } })).status).toBe(200);
    body.set('field.hours', '9');
    const stale = await browse(address, `/s/${link.short_code}/edit`, { cookie, form: body });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain('Someone else changed this record');
    expect(stale.text).toContain('name="base_version" value="2"');
    expect(await versionsOf(ws, 'job', r.id)).toHaveLength(2);
    const saved = await browse(address, `/s/${link.short_code}/edit`, { cookie, form: (() => { const b = formOf(stale.text); b.set('field.hours', '9'); return b; })() });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`/s/${link.short_code}`);
    expect((await ws.api('GET', `/v1/resources/job/${r.id}`)).body.fields).toMatchObject({ hours: 9, status: 'done' });
  });

  it('a collection row is edited from its record page and leads back to it', async () => {
    const ws = await buildWorkspace(h());
    await declareJob(ws);
    const row = await buildResource(ws, { type: 'job', fields: { ...jobFields } });
    const list = await buildLink(ws, { resource_type: 'job', resource_id: null, access_role: 'editor', settings: { allow_open_records: true } });
    const address = await listening(h().app);
    const recordPath = `/shared/${list.token}/records/${row.id}`;
    const rec = await browse(address, recordPath);
    expect(rec.text).toContain(`href="${recordPath}/edit"`);
    const form = await browse(address, `${recordPath}/edit`, { cookie: rec.cookie });
    expect(form.status).toBe(200);
    const body = formOf(form.text);
    body.set('field.status', 'blocked');
    const saved = await browse(address, `${recordPath}/edit`, { cookie: rec.cookie, form: body });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(recordPath);
    expect((await browse(address, recordPath, { cookie: rec.cookie })).text).toContain('blocked');
    // The list page itself has no single record to edit.
    expect((await browse(address, `/shared/${list.token}`, { cookie: rec.cookie })).text).not.toContain('/edit"');
    expect((await browse(address, `/shared/${list.token}/edit`, { cookie: rec.cookie })).status).toBe(404);
  });

  it('viewer links show no Edit, and their edit addresses give the refusal page (403); snapshots refuse with 409', async () => {
    const ws = await buildWorkspace(h());
    const { r } = await editorLink(ws);
    const address = await listening(h().app);
    const viewer = await buildLink(ws, { resource_type: 'job', resource_id: r.id });
    const page = await browse(address, `/shared/${viewer.token}`);
    expect(page.text).not.toContain('/edit"');
    const form = await browse(address, `/shared/${viewer.token}/edit`, { cookie: page.cookie });
    expect(form.status).toBe(403);
    expect(form.text).toContain('That isn’t allowed');
    expect(form.text).not.toContain('<form');
    const post = await browse(address, `/shared/${viewer.token}/edit`, { cookie: page.cookie, form: { 'shown.status': 'status:queued', 'field.status': 'done', base_version: '1' } });
    expect(post.status).toBe(403);
    expect((await linkEvents(ws, viewer.id)).filter((e) => e.type === 'access_denied').map((e) => e.reason)).toEqual(['forbidden', 'forbidden']);

    const pinned = await buildLink(ws, { resource_type: 'job', resource_id: r.id, access_role: 'editor', snapshot: true });
    const pinnedPage = await browse(address, `/shared/${pinned.token}`);
    expect(pinnedPage.text).not.toContain('/edit"');
    const pinnedForm = await browse(address, `/shared/${pinned.token}/edit`, { cookie: pinnedPage.cookie });
    expect(pinnedForm.status).toBe(409);
    expect(pinnedForm.text).toContain('snapshot');
    expect(await versionsOf(ws, 'job', r.id)).toHaveLength(1);
  });

  it('malformed edit posts get the refusal page, never a 500', async () => {
    const ws = await buildWorkspace(h());
    const { r, link } = await editorLink(ws);
    const address = await listening(h().app);
    const base = `/shared/${link.token}/edit`;
    const cases: Array<[string, Record<string, string>, number]> = [
      [base, { 'shown.bad key': 'text:x', 'field.bad key': 'y' }, 400],
      [base, { 'shown.status': 'nonsense', 'field.status': 'y' }, 400],
      [base, { 'shown.status': 'status:queued', 'field.status': 'done', base_version: 'x' }, 400],
      [base, { 'shown.secret': 'text:', 'field.secret': 'leak' }, 403],
      [base, { 'shown.hours': 'number:3', 'field.hours': '1e999' }, 400],
      [`/shared/abc/edit`, { 'shown.status': 'status:queued', 'field.status': 'done' }, 400],
      [`/shared/${link.token}/records/${'x'.repeat(201)}/edit`, {}, 400],
    ];
    for (const [path, form, status] of cases) {
      const res = await browse(address, path, { form });
      expect(res.status, `${path} ${JSON.stringify(form)}`).toBe(status);
      expect(res.text).toContain('<!DOCTYPE html>');
    }
    const json = await fetch(`${address}${base}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(json.status).toBe(400);
    expect(await versionsOf(ws, 'job', r.id)).toHaveLength(1);
  });
});
