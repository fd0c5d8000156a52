import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { buildLink, buildResource, buildWorkspace, countRows, linkEvents, send } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

const DAY = 86_400_000;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const inDays = (h: Harness, days: number) => new Date(h.ctx.now() + days * DAY).toISOString();
const defaultSettings = { fields: 'default', allow_export: true, allow_open_records: false, display_toolbar: true, notify_on_view: false };

describeEachDialect('links lifecycle', (h) => {
  it('creates with the policy defaults: 7 days, viewer, default settings, urls from PUBLIC_URL, zero counters', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const res = await ws.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id });
    expect(res.status).toBe(201);
    const link = res.body;
    expect(link).toMatchObject({
      status: 'active',
      resource_type: r.type,
      resource_id: r.id,
      filter: null,
      pinned_version: null,
      access_role: 'viewer',
      has_password: false,
      requires_auth: false,
      recipient_email: null,
      max_views: null,
      view_count: 0,
      download_count: 0,
      first_viewed_at: null,
      last_viewed_at: null,
      enabled: true,
      revoked_at: null,
      revoked_by: null,
      settings: defaultSettings,
      label: null,
      metadata: {},
      created_by: expect.stringMatching(/^key:/),
      permissions: { can_update: true, can_revoke: true },
    });
    expect(link.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(link.short_code).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(link.url).toBe(`http://porthole.test/shared/${link.token}`);
    expect(link.short_url).toBe(`http://porthole.test/s/${link.short_code}`);
    expect((Date.parse(link.expires_at) - Date.parse(link.created_at)) / DAY).toBeCloseTo(7, 5);
    expect(link.updated_at).toBe(link.created_at);

    // Creating answers the link as GET does, and whether its recipient was mailed (send_notification).
    const { notified, ...created } = link;
    expect(notified).toBe(false);
    const got = await ws.api('GET', `/v1/links/${link.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created);
    expect((await ws.api('GET', '/v1/links/lnk_doesnotexist')).status).toBe(404);
  });

  it('takes explicit expiry (days, ISO time, never where allowed), max_views and a lower-cased recipient', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const target = { resource_type: r.type, resource_id: r.id };

    const days = await ws.api('POST', '/v1/links', { ...target, expires_in_days: 30 });
    expect(days.status).toBe(201);
    expect((Date.parse(days.body.expires_at) - Date.parse(days.body.created_at)) / DAY).toBeCloseTo(30, 5);

    const at = inDays(h(), 2.5);
    const exact = await ws.api('POST', '/v1/links', { ...target, expires_at: at });
    expect(exact.status).toBe(201);
    expect(exact.body.expires_at).toBe(at);

    const past = await ws.api('POST', '/v1/links', { ...target, expires_at: inDays(h(), -1) });
    expect(past.status).toBe(400);
    expect(past.body).toMatchObject({ reason: 'invalid_request', field: 'expires_at' });

    const forbidden = await ws.api('POST', '/v1/links', { ...target, expires_at: null });
    expect(forbidden.status).toBe(422);
    expect(forbidden.body).toMatchObject({ reason: 'policy_violation', rule: 'allow_never_expiring' });
    expect((await ws.api('PATCH', '/v1/workspace', { policy: { allow_never_expiring: true } })).status).toBe(200);
    const never = await ws.api('POST', '/v1/links', { ...target, expires_at: null });
    expect(never.status).toBe(201);
    expect(never.body.expires_at).toBeNull();
    expect(never.body.status).toBe('active');

    const limited = await ws.api('POST', '/v1/links', { ...target, max_views: 3, recipient_email: 'Grace.Hopper@Example.TEST', label: 'For Grace', metadata: { ticket: 'OPS-1' }, access_role: 'commenter' });
    expect(limited.status).toBe(201);
    expect(limited.body).toMatchObject({ max_views: 3, view_count: 0, recipient_email: 'grace.hopper@example.test', label: 'For Grace', metadata: { ticket: 'OPS-1' }, access_role: 'commenter' });
  });

  it('snapshot: true pins the version current at creation, and it stays pinned after the resource changes', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws, { title: 'Snapshot-First' });
    await buildResource(ws, { id: r.id, title: 'Snapshot-Second' });
    const pinned = await ws.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id, snapshot: true });
    const live = await ws.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id });
    expect(pinned.body.pinned_version).toBe(2);
    expect(live.body.pinned_version).toBeNull();
    await buildResource(ws, { id: r.id, title: 'Snapshot-Third' });
    expect((await ws.api('GET', `/v1/links/${pinned.body.id}`)).body.pinned_version).toBe(2);
    const shared = await send(h().app, 'GET', `/v1/shared/${pinned.body.token}`);
    expect(shared.status).toBe(200);
    expect(shared.text).toContain('Snapshot-Second');
    expect(shared.text).not.toContain('Snapshot-Third');
    const followed = await send(h().app, 'GET', `/v1/shared/${live.body.token}`);
    expect(followed.text).toContain('Snapshot-Third');
  });

  it('collection links, with and without a filter; wrong targets are refused', async () => {
    const ws = await buildWorkspace(h());
    expect((await ws.api('PUT', '/v1/resource-types/ticket', { fields: [{ key: 'team', public: true }] })).status).toBe(200);
    const r = await buildResource(ws, { type: 'ticket', fields: { team: 'ops' } });
    const before = await countRows(h(), ws.workspaceId);

    const whole = await ws.api('POST', '/v1/links', { resource_type: 'ticket', resource_id: null });
    expect(whole.status).toBe(201);
    expect(whole.body).toMatchObject({ resource_id: null, filter: null });
    const narrowed = await ws.api('POST', '/v1/links', { resource_type: 'ticket', resource_id: null, filter: { team: ['ops', 'dev'] } });
    expect(narrowed.status).toBe(201);
    expect(narrowed.body.filter).toEqual({ team: ['ops', 'dev'] });
    // A declared type with no resources yet is a valid collection.
    expect((await ws.api('PUT', '/v1/resource-types/empty-kind', {})).status).toBe(200);
    expect((await ws.api('POST', '/v1/links', { resource_type: 'empty-kind', resource_id: null })).status).toBe(201);
    const afterGood = await countRows(h(), ws.workspaceId);
    expect(afterGood.links).toBe(before.links + 3);

    const refusals: Array<[Record<string, unknown>, number, string, string | undefined]> = [
      [{ resource_type: 'ticket', resource_id: r.id, filter: { team: 'ops' } }, 400, 'invalid_request', 'filter'],
      [{ resource_type: 'ticket', resource_id: null, filter: { colour: 'red' } }, 400, 'invalid_request', 'filter'],
      [{ resource_type: 'nothing-here', resource_id: null }, 422, 'unknown_resource_type', 'resource_type'],
      [{ resource_type: 'ticket', resource_id: 'missing' }, 404, 'not_found', undefined],
      [{ resource_type: 'ticket', resource_id: null, snapshot: true }, 400, 'invalid_request', 'snapshot'],
    ];
    for (const [body, status, reason, field] of refusals) {
      const res = await ws.api('POST', '/v1/links', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body, JSON.stringify(body)).toMatchObject({ reason, error: expect.any(String) });
      if (field) expect(res.body.field).toBe(field);
    }
    expect(await countRows(h(), ws.workspaceId)).toEqual(afterGood);
  });

  it('reuse_active: 201 the first time, 200 with the same link after, a new link when anything about access differs', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const target = { resource_type: r.type, resource_id: r.id, reuse_active: true };
    const first = await ws.api('POST', '/v1/links', target);
    expect(first.status).toBe(201);
    const second = await ws.api('POST', '/v1/links', target);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.token).toBe(first.body.token);
    const eventsAfterReuse = await linkEvents(ws, first.body.id);
    expect(eventsAfterReuse.map((e) => e.type)).toEqual(['created']);

    const variants: Array<Record<string, unknown>> = [
      { settings: { allow_export: false } },
      { settings: { fields: ['status'] } },
      { access_role: 'commenter' },
      { snapshot: true },
      { password: 'opensesame' },
      { max_views: 1 },
      { requires_auth: true },
      { recipient_email: 'someone@example.test' },
      { allowed_domains: ['example.test'] },
    ];
    const ids = new Set([first.body.id]);
    for (const variant of variants) {
      const res = await ws.api('POST', '/v1/links', { ...target, ...variant });
      expect(res.status, JSON.stringify(variant)).toBe(201);
      expect(ids.has(res.body.id), JSON.stringify(variant)).toBe(false);
      ids.add(res.body.id);
    }
    // The same variant again is reused (but a password link never is).
    const again = await ws.api('POST', '/v1/links', { ...target, settings: { allow_export: false } });
    expect(again.status).toBe(200);

    // Once the link is no longer active, reuse makes a new one.
    await ws.api('POST', `/v1/links/${first.body.id}/revoke`);
    const fresh = await ws.api('POST', '/v1/links', target);
    expect(fresh.status).toBe(201);
    expect(fresh.body.id).not.toBe(first.body.id);
    // An explicit end is part of the request: a link ending at another time is not reused.
    const at = inDays(h(), 2);
    const timed = await ws.api('POST', '/v1/links', { ...target, expires_at: at });
    expect(timed.status).toBe(201);
    expect(timed.body.id).not.toBe(fresh.body.id);
    expect((await ws.api('POST', '/v1/links', { ...target, expires_at: at })).body.id).toBe(timed.body.id);

    // Another creator's link is never handed out.
    const asBob = await ws.api('POST', '/v1/links', target, { 'x-porthole-actor': 'bob' });
    expect(asBob.status).toBe(201);
    expect(asBob.body.created_by).toBe('app:bob');
  });

  it('PATCH changes each field, writes `updated` with the changed field names, and never shows the password hash', async () => {
    const ws = await buildWorkspace(h());
    expect((await ws.api('PUT', '/v1/resource-types/job', { fields: [{ key: 'status', public: true }, { key: 'owner' }] })).status).toBe(200);
    expect((await ws.api('PATCH', '/v1/workspace', { policy: { allow_never_expiring: true } })).status).toBe(200);
    const link = await buildLink(ws);
    const patch = (body: unknown) => ws.api('PATCH', `/v1/links/${link.id}`, body);
    const responses: string[] = [];
    const ok = async (body: unknown) => {
      const res = await patch(body);
      expect(res.status, `${JSON.stringify(body)}: ${res.text}`).toBe(200);
      responses.push(res.text);
      return res.body;
    };

    expect((await ok({ settings: { fields: ['status', 'owner'] } })).settings).toEqual({ ...defaultSettings, fields: ['status', 'owner'] });
    expect((await ok({ settings: { fields: 'all' } })).settings.fields).toBe('all');
    expect((await ok({ settings: { fields: 'default', allow_export: false, allow_open_records: true } })).settings).toEqual({ ...defaultSettings, allow_export: false, allow_open_records: true });
    expect((await ok({ settings: { display_toolbar: false, notify_on_view: true } })).settings).toEqual({
      fields: 'default',
      allow_export: false,
      allow_open_records: true,
      display_toolbar: false,
      notify_on_view: true,
    });
    const unknownField = await patch({ settings: { fields: ['status', 'salary'] } });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.field).toBe('settings.fields');

    const days = await ok({ expires_in_days: 10 });
    expect((Date.parse(days.expires_at) - h().ctx.now()) / DAY).toBeCloseTo(10, 2);
    const at = inDays(h(), 3);
    expect((await ok({ expires_at: at })).expires_at).toBe(at);
    expect((await ok({ expires_at: null })).expires_at).toBeNull();

    expect((await ok({ max_views: 5 })).max_views).toBe(5);
    expect((await ok({ max_views: null })).max_views).toBeNull();
    expect((await ok({ access_role: 'editor' })).access_role).toBe('editor');
    expect((await ok({ label: 'Quarterly' })).label).toBe('Quarterly');
    expect((await ok({ label: null })).label).toBeNull();
    expect((await ok({ metadata: { crm: 'A-1', nested: { ok: true } } })).metadata).toEqual({ crm: 'A-1', nested: { ok: true } });

    const disabled = await ok({ enabled: false });
    expect(disabled).toMatchObject({ enabled: false, status: 'disabled' });
    const enabled = await ok({ enabled: true });
    expect(enabled).toMatchObject({ enabled: true, status: 'active' });

    const withPassword = await ok({ password: 'hunter22' });
    expect(withPassword.has_password).toBe(true);
    const row = await h().ctx.database.db.selectFrom('links').select('password_hash').where('id', '=', link.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toEqual(expect.any(String));
    expect(row.password_hash).not.toContain('hunter22');
    const cleared = await ok({ password: null });
    expect(cleared.has_password).toBe(false);

    const listed = await ws.api('GET', '/v1/links');
    const events = await linkEvents(ws, link.id);
    for (const text of [...responses, listed.text, JSON.stringify(events), (await ws.api('GET', `/v1/links/${link.id}`)).text]) {
      expect(text).not.toContain(row.password_hash as string);
      expect(text).not.toContain('hunter22');
      expect(text).not.toContain('password_hash');
    }

    const updated = events.filter((e) => e.type === 'updated').map((e) => e.metadata.fields);
    expect(updated).toEqual([
      ['settings'],
      ['settings'],
      ['settings'],
      ['settings'],
      ['expires_in_days'],
      ['expires_at'],
      ['expires_at'],
      ['max_views'],
      ['max_views'],
      ['access_role'],
      ['label'],
      ['label'],
      ['metadata'],
      ['password'],
      ['password'],
    ]);
    expect(events.map((e) => e.type).filter((t) => t !== 'updated')).toEqual(['created', 'disabled', 'enabled']);
    expect(new Set(events.map((e) => e.actor))).toEqual(new Set([link.created_by]));
    // The one refused change (unknown field) left no trace.
    expect(events).toHaveLength(1 + 15 + 2);
  });

  it('a PATCH of several fields writes one `updated` naming them, plus `disabled` for the switch', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    const own = await ws.api('PATCH', `/v1/links/${link.id}`, { label: 'x', max_views: 9, enabled: false });
    expect(own.status).toBe(200);
    const events = await linkEvents(ws, link.id);
    expect(events.map((e) => [e.type, e.metadata])).toEqual([
      ['created', { resource_type: link.resource_type, resource_id: link.resource_id }],
      ['updated', { fields: ['label', 'max_views'] }],
      ['disabled', {}],
    ]);
    // Switching to the state it is already in is no change.
    const same = await ws.api('PATCH', `/v1/links/${link.id}`, { enabled: false });
    expect(same.status).toBe(200);
    expect(await linkEvents(ws, link.id)).toHaveLength(3);
  });

  it('a PATCH names only the fields whose value changed: resending current values writes no event and keeps grants', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws, { label: 'Q3', max_views: 5, allowed_emails: ['ana@example.test'] });
    const view = await send(h().app, 'GET', `/v1/shared/${link.token}`);
    expect(view.status).toBe(200);
    const same = await ws.api('PATCH', `/v1/links/${link.id}`, {
      label: 'Q3',
      max_views: 5,
      access_role: 'viewer',
      allowed_emails: ['ANA@example.test'],
      settings: { allow_export: true },
      password: null,
    });
    expect(same.status).toBe(200);
    expect((await linkEvents(ws, link.id)).filter((e) => e.type === 'updated')).toEqual([]);
    // Nothing changed, so the grant from the view still opens the export.
    const exported = await send(h().app, 'GET', `/v1/shared/${link.token}/export.json`, undefined, { 'x-porthole-grant': view.body.grant });
    expect(exported.status).toBe(200);
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(1);

    expect((await ws.api('PATCH', `/v1/links/${link.id}`, { label: 'Q3', max_views: 6 })).status).toBe(200);
    expect((await linkEvents(ws, link.id)).filter((e) => e.type === 'updated').map((e) => e.metadata)).toEqual([{ fields: ['max_views'] }]);
  });

  it('revoke (POST /revoke or DELETE) is final: PATCH and rotate answer 409 and write nothing; revoking twice is harmless', async () => {
    const ws = await buildWorkspace(h());
    for (const how of ['POST', 'DELETE'] as const) {
      const link = await buildLink(ws, { label: 'keep' });
      const url = how === 'POST' ? `/v1/links/${link.id}/revoke` : `/v1/links/${link.id}`;
      const revoked = await ws.api(how, url);
      expect(revoked.status).toBe(200);
      expect(revoked.body).toMatchObject({ status: 'revoked', revoked_by: link.created_by, enabled: true });
      expect(revoked.body.revoked_at).not.toBeNull();
      const snapshot = (await ws.api('GET', `/v1/links/${link.id}`)).body;
      const before = await countRows(h(), ws.workspaceId);

      for (const body of [{ label: 'changed' }, { enabled: true }, { expires_in_days: 3 }, { password: 'abcd1234' }]) {
        const res = await ws.api('PATCH', `/v1/links/${link.id}`, body);
        expect(res.status, JSON.stringify(body)).toBe(409);
        expect(res.body.reason).toBe('conflict');
      }
      const rotate = await ws.api('POST', `/v1/links/${link.id}/rotate`);
      expect(rotate.status).toBe(409);
      expect(rotate.body.reason).toBe('conflict');

      const twice = await ws.api('POST', `/v1/links/${link.id}/revoke`);
      expect(twice.status).toBe(200);
      expect(twice.body).toEqual(snapshot);
      expect((await ws.api('DELETE', `/v1/links/${link.id}`)).status).toBe(200);

      expect(await countRows(h(), ws.workspaceId)).toEqual(before);
      expect((await ws.api('GET', `/v1/links/${link.id}`)).body).toEqual(snapshot);
      expect((await linkEvents(ws, link.id)).map((e) => e.type)).toEqual(['created', 'revoked']);
      const shared = await send(h().app, 'GET', `/v1/shared/${link.token}`);
      expect(shared.status).toBe(410);
      expect(shared.body.reason).toBe('revoked');
    }
  });

  it('a change racing a revoke never lands after it: the revoke is the last event, the loser answers 409', async () => {
    const ws = await buildWorkspace(h());
    for (let round = 0; round < 12; round++) {
      const link = await buildLink(ws);
      const [patched, rotated, revoked] = await Promise.all([
        ws.api('PATCH', `/v1/links/${link.id}`, { label: `round ${round}`, password: null }),
        ws.api('POST', `/v1/links/${link.id}/rotate`),
        ws.api('POST', `/v1/links/${link.id}/revoke`),
      ]);
      expect(revoked.status).toBe(200);
      expect([200, 409]).toContain(patched.status);
      expect([200, 409]).toContain(rotated.status);
      const types = (await linkEvents(ws, link.id)).map((e) => e.type);
      expect(types.at(-1), `round ${round}: ${types.join(',')}`).toBe('revoked');
      expect(types.filter((t) => t === 'updated')).toHaveLength(patched.status === 200 ? 1 : 0);
      expect(types.filter((t) => t === 'rotated')).toHaveLength(rotated.status === 200 ? 1 : 0);
      const after = (await ws.api('GET', `/v1/links/${link.id}`)).body;
      expect(after.status).toBe('revoked');
      if (patched.status === 409) expect(after.label).toBeNull();
      if (rotated.status === 409) expect(after.token).toBe(link.token);
    }
  });

  it('rotate gives a new token and code; the old ones are 404 at once, the new ones work', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    expect((await send(h().app, 'GET', `/v1/shared/${link.token}/meta`)).status).toBe(200);
    const rotated = await ws.api('POST', `/v1/links/${link.id}/rotate`);
    expect(rotated.status).toBe(200);
    const fresh = rotated.body;
    expect(fresh.id).toBe(link.id);
    expect(fresh.token).not.toBe(link.token);
    expect(fresh.short_code).not.toBe(link.short_code);
    expect(fresh.url).toBe(`http://porthole.test/shared/${fresh.token}`);
    expect(fresh.short_url).toBe(`http://porthole.test/s/${fresh.short_code}`);
    expect(fresh.status).toBe('active');

    for (const old of [link.token, link.short_code]) {
      const res = await send(h().app, 'GET', `/v1/shared/${old}`);
      expect(res.status, old).toBe(404);
      expect(res.body.reason).toBe('not_found');
    }
    for (const secret of [fresh.token, fresh.short_code]) {
      const res = await send(h().app, 'GET', `/v1/shared/${secret}`);
      expect(res.status, `${secret}: ${res.text}`).toBe(200);
    }
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(2);
    const events = await linkEvents(ws, link.id);
    expect(events.filter((e) => e.type === 'rotated')).toEqual([expect.objectContaining({ actor: link.created_by })]);
  });

  it('stores tokens and codes only as SHA-256 hashes plus ciphertext, never in the clear', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    const rotated = (await ws.api('POST', `/v1/links/${link.id}/rotate`)).body;
    for (const l of [rotated]) {
      const row = await h().ctx.database.db.selectFrom('links').selectAll().where('id', '=', l.id).executeTakeFirstOrThrow();
      expect(row.token_hash).toBe(sha256(l.token));
      expect(row.short_code_hash).toBe(sha256(l.short_code));
      const everything = JSON.stringify(row);
      for (const secret of [l.token, l.short_code, link.token, link.short_code]) expect(everything).not.toContain(secret);
      expect(h().ctx.box.open(row.token_sealed)).toBe(l.token);
      expect(h().ctx.box.open(row.short_code_sealed)).toBe(l.short_code);
    }
    const events = await h().ctx.database.db.selectFrom('events').selectAll().where('link_id', '=', link.id).execute();
    for (const secret of [link.token, link.short_code, rotated.token, rotated.short_code]) expect(JSON.stringify(events)).not.toContain(secret);
  });

  it('a refused change writes no event and changes nothing', async () => {
    const ws = await buildWorkspace(h());
    expect((await ws.api('PATCH', '/v1/workspace', { policy: { max_expiry_days: 30, allow_all_fields: false } })).status).toBe(200);
    const link = await buildLink(ws, { label: 'steady', max_views: 4 });
    const before = (await ws.api('GET', `/v1/links/${link.id}`)).body;
    const counts = await countRows(h(), ws.workspaceId);
    const refused: Array<[Record<string, unknown>, number]> = [
      [{ label: 'new', expires_in_days: 60 }, 422],
      [{ label: 'new', expires_at: null }, 422],
      [{ label: 'new', settings: { fields: 'all' } }, 422],
      [{ label: 'new', expires_in_days: 3, expires_at: inDays(h(), 3) }, 400],
      [{ label: 'new', expires_at: inDays(h(), -2) }, 400],
      [{ label: 'new', max_views: 0 }, 400],
      [{ label: 'new', enabled: 'no' }, 400],
    ];
    for (const [body, status] of refused) {
      const res = await ws.api('PATCH', `/v1/links/${link.id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
    }
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body).toEqual(before);
    expect(await countRows(h(), ws.workspaceId)).toEqual(counts);
  });
});
