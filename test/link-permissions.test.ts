import { expect, it } from 'vitest';
import { buildApiKey, buildMember, buildResource, buildWorkspace, countRows, linkEvents, signIn, type ApiResponse } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

const DAY = 86_400_000;
type Sender = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) => Promise<ApiResponse>;

/** Every way of changing a link, each expected to be refused with 403 forbidden. */
async function expectForbidden(h: Harness, workspaceId: string, owner: Sender, as: Sender, linkId: string): Promise<void> {
  const before = (await owner('GET', `/v1/links/${linkId}`)).body;
  const counts = await countRows(h, workspaceId);
  const attempts: Array<[string, Promise<ApiResponse>]> = [
    ['PATCH label', as('PATCH', `/v1/links/${linkId}`, { label: 'mine now' })],
    ['PATCH enabled', as('PATCH', `/v1/links/${linkId}`, { enabled: false })],
    ['PATCH password', as('PATCH', `/v1/links/${linkId}`, { password: 'takeover' })],
    ['rotate', as('POST', `/v1/links/${linkId}/rotate`)],
    ['revoke', as('POST', `/v1/links/${linkId}/revoke`)],
    ['DELETE', as('DELETE', `/v1/links/${linkId}`)],
  ];
  for (const [what, attempt] of attempts) {
    const res = await attempt;
    expect(res.status, `${what}: ${res.text}`).toBe(403);
    expect(res.body, what).toMatchObject({ reason: 'forbidden', error: expect.any(String) });
  }
  // Reading is fine: the link is in the same workspace.
  const read = await as('GET', `/v1/links/${linkId}`);
  expect(read.status).toBe(200);
  expect(read.body.permissions).toEqual({ can_update: false, can_revoke: false });
  expect((await owner('GET', `/v1/links/${linkId}`)).body).toEqual(before);
  expect(await countRows(h, workspaceId)).toEqual(counts);
}

describeEachDialect('link permissions', (h) => {
  it('a member creates and changes their own links but gets 403 on another member\'s; admin and owner may change anyone\'s', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const target = { resource_type: r.type, resource_id: r.id };
    const alice = await buildMember(h(), ws, { role: 'member' });
    const bob = await buildMember(h(), ws, { role: 'member' });
    const admin = await buildMember(h(), ws, { role: 'admin' });
    const owner = await signIn(h(), ws.email);
    const asAlice: Sender = (m, u, b) => alice.session.send(m, u, b);
    const asBob: Sender = (m, u, b) => bob.session.send(m, u, b);
    const asAdmin: Sender = (m, u, b) => admin.session.send(m, u, b);
    const asOwner: Sender = (m, u, b) => owner.send(m, u, b);
    const asKey: Sender = (m, u, b) => ws.api(m, u, b);

    const created = await asAlice('POST', '/v1/links', target);
    expect(created.status).toBe(201);
    const link = created.body;
    expect(link.created_by).toBe(`user:${alice.userId}`);
    expect(link.permissions).toEqual({ can_update: true, can_revoke: true });

    expect((await asAlice('PATCH', `/v1/links/${link.id}`, { label: 'by alice', enabled: false })).status).toBe(200);
    expect((await asAlice('PATCH', `/v1/links/${link.id}`, { enabled: true })).status).toBe(200);
    expect((await asAlice('POST', `/v1/links/${link.id}/rotate`)).status).toBe(200);

    await expectForbidden(h(), ws.workspaceId, asKey, asBob, link.id);

    const byAdmin = await asAdmin('PATCH', `/v1/links/${link.id}`, { label: 'by admin' });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.permissions).toEqual({ can_update: true, can_revoke: true });
    const byOwner = await asOwner('PATCH', `/v1/links/${link.id}`, { max_views: 10 });
    expect(byOwner.status).toBe(200);
    expect(byOwner.body).toMatchObject({ label: 'by admin', max_views: 10 });

    const events = await linkEvents(ws, link.id);
    expect(events.map((e) => [e.type, e.actor])).toEqual([
      ['created', `user:${alice.userId}`],
      ['updated', `user:${alice.userId}`],
      ['disabled', `user:${alice.userId}`],
      ['enabled', `user:${alice.userId}`],
      ['rotated', `user:${alice.userId}`],
      ['updated', `user:${admin.userId}`],
      ['updated', `user:${owner.body.user.id}`],
    ]);

    // Revocation: the owner or admin may revoke anyone's; alice her own.
    const other = (await asBob('POST', '/v1/links', target)).body;
    const third = (await asBob('POST', '/v1/links', target)).body;
    expect((await asAdmin('POST', `/v1/links/${other.id}/revoke`)).body).toMatchObject({ status: 'revoked', revoked_by: `user:${admin.userId}` });
    expect((await asOwner('DELETE', `/v1/links/${third.id}`)).body.status).toBe('revoked');
    const own = await asAlice('DELETE', `/v1/links/${link.id}`);
    expect(own.body).toMatchObject({ status: 'revoked', revoked_by: `user:${alice.userId}` });
    expect((await linkEvents(ws, other.id)).map((e) => [e.type, e.actor])).toEqual([
      ['created', `user:${bob.userId}`],
      ['revoked', `user:${admin.userId}`],
    ]);
  });

  it('a member-role API key acting for bob changes links created as app:bob, not app:carol\'s nor the bare key\'s', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const target = { resource_type: r.type, resource_id: r.id };
    const key = await buildApiKey(h(), ws, { role: 'member' });
    const as = (who?: string): Sender => (m, u, b) => key.api(m, u, b, who ? { 'x-porthole-actor': who } : {});
    const asBob = as('bob');

    const bobs = await asBob('POST', '/v1/links', target);
    expect(bobs.status).toBe(201);
    expect(bobs.body.created_by).toBe('app:bob');
    const carols = (await as('carol')('POST', '/v1/links', target)).body;
    expect(carols.created_by).toBe('app:carol');
    const bare = (await as()('POST', '/v1/links', target)).body;
    expect(bare.created_by).toBe(`key:${key.id}`);
    // Another key acting for bob is still bob.
    const adminAsBob = await ws.api('POST', '/v1/links', target, { 'x-porthole-actor': 'bob' });
    expect(adminAsBob.body.created_by).toBe('app:bob');

    expect((await asBob('PATCH', `/v1/links/${bobs.body.id}`, { label: 'bob says' })).status).toBe(200);
    expect((await asBob('PATCH', `/v1/links/${adminAsBob.body.id}`, { label: 'also bob' })).status).toBe(200);
    expect((await asBob('POST', `/v1/links/${bobs.body.id}/rotate`)).status).toBe(200);
    await expectForbidden(h(), ws.workspaceId, ws.api, asBob, carols.id);
    await expectForbidden(h(), ws.workspaceId, ws.api, asBob, bare.id);
    await expectForbidden(h(), ws.workspaceId, ws.api, as(), bobs.body.id);
    expect((await asBob('POST', `/v1/links/${bobs.body.id}/revoke`)).body).toMatchObject({ status: 'revoked', revoked_by: 'app:bob' });

    expect((await linkEvents(ws, bobs.body.id)).map((e) => [e.type, e.actor])).toEqual([
      ['created', 'app:bob'],
      ['updated', 'app:bob'],
      ['rotated', 'app:bob'],
      ['revoked', 'app:bob'],
    ]);
    // The bare key's own actor is `key:…`.
    expect((await linkEvents(ws, bare.id)).map((e) => e.actor)).toEqual([`key:${key.id}`]);

    // Listing by creator finds bob's links whichever key made them.
    const listed = await ws.api('GET', '/v1/links?created_by=app:bob&include_revoked=true');
    expect(listed.body.items.map((l: any) => l.id).sort()).toEqual([bobs.body.id, adminAsBob.body.id].sort());
  });

  it('workspace policy: 422 policy_violation naming the rule, on create and on patch, with nothing written', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const target = { resource_type: r.type, resource_id: r.id };
    expect((await ws.api('PATCH', '/v1/workspace', { policy: { max_expiry_days: 30, allow_never_expiring: false, allow_all_fields: false } })).status).toBe(200);
    const member = await buildMember(h(), ws, { role: 'member' });
    const link = (await member.session.send('POST', '/v1/links', target)).body;
    const before = (await ws.api('GET', `/v1/links/${link.id}`)).body;
    const counts = await countRows(h(), ws.workspaceId);

    const violations: Array<[Record<string, unknown>, string]> = [
      [{ expires_in_days: 31 }, 'max_expiry_days'],
      [{ expires_at: new Date(h().ctx.now() + 45 * DAY).toISOString() }, 'max_expiry_days'],
      [{ expires_at: null }, 'allow_never_expiring'],
      [{ settings: { fields: 'all' } }, 'allow_all_fields'],
    ];
    for (const [body, rule] of violations) {
      for (const [what, res] of [
        ['create', await member.session.send('POST', '/v1/links', { ...target, ...body })],
        ['patch', await member.session.send('PATCH', `/v1/links/${link.id}`, body)],
        // The policy binds admins and keys too.
        ['create by key', await ws.api('POST', '/v1/links', { ...target, ...body })],
        ['patch by key', await ws.api('PATCH', `/v1/links/${link.id}`, body)],
      ] as const) {
        expect(res.status, `${what} ${JSON.stringify(body)}`).toBe(422);
        expect(res.body, `${what} ${JSON.stringify(body)}`).toMatchObject({ reason: 'policy_violation', rule, error: expect.any(String) });
      }
    }
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body).toEqual(before);
    expect(await countRows(h(), ws.workspaceId)).toEqual(counts);

    // Within the rules, both work.
    expect((await member.session.send('POST', '/v1/links', { ...target, expires_in_days: 30, settings: { fields: ['status'] } })).status).toBe(201);
    expect((await member.session.send('PATCH', `/v1/links/${link.id}`, { expires_in_days: 30 })).status).toBe(200);
  });
});
