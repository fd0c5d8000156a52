import { expect, it } from 'vitest';
import { buildApiKey, buildMember, buildResource, buildWorkspace } from './helpers/factories.js';
import { describeEachDialect } from './helpers/harness.js';

const DAY = 86_400_000;
const daysFromCreation = (link: any) => (Date.parse(link.expires_at) - Date.parse(link.created_at)) / DAY;
const inDays = (h: () => { ctx: { now(): number } }, days: number) => new Date(h().ctx.now() + days * DAY).toISOString();

describeEachDialect('workspace', (h) => {
  it('GET /v1/workspace shows the name and the full policy, defaults filled in', async () => {
    const ws = await buildWorkspace(h());
    const res = await ws.api('GET', '/v1/workspace');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: ws.workspaceId,
      name: 'Test workspace',
      policy: {
        default_expiry_days: 7,
        max_expiry_days: 365,
        allow_never_expiring: false,
        allow_all_fields: true,
        ip_storage: 'truncated',
        default_settings: { fields: 'default', allow_export: true, allow_open_records: false, display_toolbar: true, notify_on_view: false },
        link_retention_days: 30,
        event_retention_days: 365,
      },
    });
  });

  it('any member may read the policy; only owners and admins may change it', async () => {
    const ws = await buildWorkspace(h());
    const m = await buildMember(h(), ws, { role: 'member' });
    const key = await buildApiKey(h(), ws, { role: 'member' });
    expect((await m.session.send('GET', '/v1/workspace')).status).toBe(200);
    expect((await key.api('GET', '/v1/workspace')).status).toBe(200);
    for (const res of [
      await m.session.send('PATCH', '/v1/workspace', { policy: { allow_never_expiring: true } }),
      await key.api('PATCH', '/v1/workspace', { name: 'Mine now' }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.reason).toBe('forbidden');
    }
    const admin = await buildMember(h(), ws, { role: 'admin' });
    expect((await admin.session.send('PATCH', '/v1/workspace', { name: 'By admin' })).status).toBe(200);
    const after = await ws.api('GET', '/v1/workspace');
    expect(after.body.name).toBe('By admin');
    expect(after.body.policy.allow_never_expiring).toBe(false);
  });

  it('a partial PATCH changes only what it names, default settings included', async () => {
    const ws = await buildWorkspace(h());
    const res = await ws.api('PATCH', '/v1/workspace', {
      name: '  Ops  ',
      policy: { ip_storage: 'none', max_expiry_days: null, default_settings: { allow_export: false } },
    });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Ops');
    expect(res.body.policy).toEqual({
      default_expiry_days: 7,
      max_expiry_days: null,
      allow_never_expiring: false,
      allow_all_fields: true,
      ip_storage: 'none',
      default_settings: { fields: 'default', allow_export: false, allow_open_records: false, display_toolbar: true, notify_on_view: false },
      link_retention_days: 30,
      event_retention_days: 365,
    });
    const second = await ws.api('PATCH', '/v1/workspace', { policy: { default_settings: { notify_on_view: true } } });
    expect(second.body.policy.default_settings).toMatchObject({ allow_export: false, notify_on_view: true });
    expect(second.body.policy.ip_storage).toBe('none');
    expect((await ws.api('GET', '/v1/workspace')).body).toEqual(second.body);
    const event = await h().ctx.database.db.selectFrom('events').selectAll().where('workspace_id', '=', ws.workspaceId).where('type', '=', 'updated').orderBy('created_at').executeTakeFirstOrThrow();
    expect(JSON.parse(event.metadata)).toEqual({ object: 'workspace', fields: ['name', 'policy.default_settings', 'policy.ip_storage', 'policy.max_expiry_days'] });
  });

  it('allow_never_expiring decides whether expires_at: null is allowed (422 policy_violation otherwise)', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    expect((await ws.api('PATCH', '/v1/workspace', { policy: { allow_never_expiring: true } })).status).toBe(200);
    const forever = await ws.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id, expires_at: null });
    expect(forever.status).toBe(201);
    expect(forever.body.expires_at).toBeNull();

    expect((await ws.api('PATCH', '/v1/workspace', { policy: { allow_never_expiring: false } })).status).toBe(200);
    const refused = await ws.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id, expires_at: null });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ reason: 'policy_violation', rule: 'allow_never_expiring' });
    const patched = await ws.api('PATCH', `/v1/links/${forever.body.id}`, { expires_at: null });
    expect(patched.status).toBe(422);
    expect(patched.body.rule).toBe('allow_never_expiring');
  });

  it('max_expiry_days caps a link\'s lifetime (422 rule max_expiry_days)', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    expect((await ws.api('PATCH', '/v1/workspace', { policy: { max_expiry_days: 30 } })).status).toBe(200);
    for (const body of [{ expires_in_days: 60 }, { expires_at: inDays(h, 45) }]) {
      const res = await ws.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id, ...body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body).toMatchObject({ reason: 'policy_violation', rule: 'max_expiry_days' });
    }
    const ok = await ws.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id, expires_in_days: 30 });
    expect(ok.status).toBe(201);
    const longer = await ws.api('PATCH', `/v1/links/${ok.body.id}`, { expires_in_days: 31 });
    expect(longer.status).toBe(422);
    expect(longer.body.rule).toBe('max_expiry_days');
  });

  it('allow_all_fields: false refuses settings.fields "all" (422 rule allow_all_fields)', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    expect((await ws.api('PATCH', '/v1/workspace', { policy: { allow_all_fields: false } })).status).toBe(200);
    const res = await ws.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id, settings: { fields: 'all' } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ reason: 'policy_violation', rule: 'allow_all_fields' });
    const picked = await ws.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id, settings: { fields: ['status'] } });
    expect(picked.status).toBe(201);
  });

  it('new links take default_expiry_days and default_settings from the policy', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const res = await ws.api('PATCH', '/v1/workspace', { policy: { default_expiry_days: 3, default_settings: { allow_export: false, display_toolbar: false } } });
    expect(res.status).toBe(200);
    const link = await ws.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id });
    expect(link.status).toBe(201);
    expect(daysFromCreation(link.body)).toBeCloseTo(3, 3);
    expect(link.body.settings).toMatchObject({ allow_export: false, display_toolbar: false, fields: 'default' });
  });

  it('refuses a policy that contradicts itself (400, naming the field)', async () => {
    const ws = await buildWorkspace(h());
    const beyond = await ws.api('PATCH', '/v1/workspace', { policy: { default_expiry_days: 30, max_expiry_days: 10 } });
    expect(beyond.status).toBe(400);
    expect(beyond.body).toMatchObject({ reason: 'invalid_request', field: 'policy.default_expiry_days' });
    const lowered = await ws.api('PATCH', '/v1/workspace', { policy: { max_expiry_days: 5 } });
    expect(lowered.status).toBe(400);
    const allFields = await ws.api('PATCH', '/v1/workspace', { policy: { allow_all_fields: false, default_settings: { fields: 'all' } } });
    expect(allFields.status).toBe(400);
    expect(allFields.body).toMatchObject({ reason: 'invalid_request', field: 'policy.default_settings.fields' });
    // Nothing was half-applied.
    const after = await ws.api('GET', '/v1/workspace');
    expect(after.body.policy).toMatchObject({ default_expiry_days: 7, max_expiry_days: 365, allow_all_fields: true });
    expect(after.body.policy.default_settings.fields).toBe('default');
  });

  it('concurrent PATCHes of different rules keep both', async () => {
    const ws = await buildWorkspace(h());
    const results = await Promise.all([
      ws.api('PATCH', '/v1/workspace', { policy: { ip_storage: 'full' } }),
      ws.api('PATCH', '/v1/workspace', { policy: { allow_never_expiring: true } }),
      ws.api('PATCH', '/v1/workspace', { policy: { default_settings: { notify_on_view: true } } }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    const after = await ws.api('GET', '/v1/workspace');
    expect(after.body.policy).toMatchObject({ ip_storage: 'full', allow_never_expiring: true });
    expect(after.body.policy.default_settings.notify_on_view).toBe(true);
  });

  const badInputs: Array<[unknown, string, string]> = [
    ['{"policy": {', 'invalid_json', ''],
    [{ name: 'x', plan: 'pro' }, 'invalid_request', 'plan'],
    [{ policy: { allow_everything: true } }, 'invalid_request', 'policy.allow_everything'],
    [{ policy: { default_settings: { fields: 'all', colour: 'red' } } }, 'invalid_request', 'policy.default_settings.colour'],
    [{ policy: { default_expiry_days: '7' } }, 'invalid_request', 'policy.default_expiry_days'],
    [{ policy: { default_expiry_days: 0 } }, 'invalid_request', 'policy.default_expiry_days'],
    [{ policy: { default_expiry_days: 1.5 } }, 'invalid_request', 'policy.default_expiry_days'],
    [{ policy: { max_expiry_days: -1 } }, 'invalid_request', 'policy.max_expiry_days'],
    [{ policy: { allow_never_expiring: 'yes' } }, 'invalid_request', 'policy.allow_never_expiring'],
    [{ policy: { ip_storage: 'hashed' } }, 'invalid_request', 'policy.ip_storage'],
    [{ policy: { default_settings: { fields: 'some' } } }, 'invalid_request', 'policy.default_settings.fields'],
    [{ policy: null }, 'invalid_request', 'policy'],
    [{ name: '' }, 'invalid_request', 'name'],
    [{ name: 12 }, 'invalid_request', 'name'],
    [[], 'invalid_request', ''],
    [{}, 'invalid_request', ''],
  ];

  it('rejects malformed JSON, unknown fields and wrong types with 400, never a 500, and changes nothing', async () => {
    const ws = await buildWorkspace(h());
    const before = await ws.api('GET', '/v1/workspace');
    for (const [body, reason] of badInputs) {
      const res = await ws.api('PATCH', '/v1/workspace', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ error: expect.any(String), reason });
      if (reason === 'invalid_request') expect(res.body.field).toEqual(expect.any(String));
    }
    expect((await ws.api('GET', '/v1/workspace')).body).toEqual(before.body);
  });

  // See test/auth.test.ts: error-handler.ts always answers field "body" until it reads `instancePath`.
  it('names the offending field of a bad workspace PATCH', async () => {
    const ws = await buildWorkspace(h());
    for (const [body, reason, field] of badInputs) {
      if (reason !== 'invalid_request' || field === '') continue;
      const res = await ws.api('PATCH', '/v1/workspace', body);
      expect(res.body.field, JSON.stringify(body)).toBe(field);
    }
  });
});
