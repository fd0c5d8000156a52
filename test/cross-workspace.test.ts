import { expect, it } from 'vitest';
import { buildLink, buildMember, buildResource, buildWorkspace, signIn, type ApiResponse, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

/**
 * Workspace B's credentials address workspace A's object ids. Every such
 * request answers 404 not_found (never 403, which would confirm the id exists),
 * and A's object is exactly as it was.
 */
function expectNotFound(res: ApiResponse, what: string): void {
  expect(res.status, `${what}: ${res.text}`).toBe(404);
  expect(res.body?.reason, what).toBe('not_found');
}

async function twoWorkspaces(h: Harness) {
  const a = await buildWorkspace(h);
  const b = await buildWorkspace(h);
  const bSession = await signIn(h, b.email);
  /** B, as its admin key and as its signed-in owner (with CSRF): both must be refused alike. */
  const asB = [
    { name: 'B key', send: b.api },
    { name: 'B session', send: (m: Parameters<TestWorkspace['api']>[0], url: string, body?: unknown) => bSession.send(m, url, body) },
  ];
  return { a, b, asB };
}

describeEachDialect('cross-workspace', (h) => {
  it('links: GET, PATCH, DELETE, revoke, rotate and events of A\'s link are 404 for B, and the link is untouched', async () => {
    const { a, b, asB } = await twoWorkspaces(h());
    const link = await buildLink(a, { label: 'A only', max_views: 5 });
    const before = await a.api('GET', `/v1/links/${link.id}`);
    const eventsBefore = await a.api('GET', `/v1/links/${link.id}/events`);

    for (const { name, send } of asB) {
      expectNotFound(await send('GET', `/v1/links/${link.id}`), `${name} GET link`);
      expectNotFound(await send('PATCH', `/v1/links/${link.id}`, { label: 'taken', enabled: false, max_views: 1 }), `${name} PATCH link`);
      expectNotFound(await send('DELETE', `/v1/links/${link.id}`), `${name} DELETE link`);
      expectNotFound(await send('POST', `/v1/links/${link.id}/revoke`), `${name} revoke link`);
      expectNotFound(await send('POST', `/v1/links/${link.id}/rotate`), `${name} rotate link`);
      expectNotFound(await send('GET', `/v1/links/${link.id}/events`), `${name} link events`);
      expectNotFound(await send('GET', `/v1/links/${link.id}/events.csv`), `${name} link events csv`);
    }
    const listed = await b.api('GET', '/v1/links?include_revoked=true');
    expect(listed.body.items.map((l: any) => l.id)).not.toContain(link.id);
    const events = await b.api('GET', '/v1/events');
    expect(events.body.items.map((e: any) => e.link_id)).not.toContain(link.id);

    const after = await a.api('GET', `/v1/links/${link.id}`);
    expect(after.body).toEqual(before.body);
    expect(after.body).toMatchObject({ status: 'active', label: 'A only', max_views: 5, token: link.token, short_code: link.short_code });
    expect((await a.api('GET', `/v1/links/${link.id}/events`)).body).toEqual(eventsBefore.body);
  });

  it('resources: GET, versions and DELETE of A\'s resource are 404 for B; B\'s PUT makes B\'s own; A\'s stays as it was', async () => {
    const { a, b, asB } = await twoWorkspaces(h());
    const typeDecl = await a.api('PUT', '/v1/resource-types/secret-report', { label: 'Secret report', fields: [{ key: 'score', format: 'number', public: true }] });
    expect(typeDecl.status).toBe(200);
    const r = await buildResource(a, { type: 'secret-report', title: 'A report', fields: { score: 42 } });
    const link = await buildLink(a, { resource_type: r.type, resource_id: r.id });
    const before = await a.api('GET', `/v1/resources/${r.type}/${r.id}`);
    const versionsBefore = await a.api('GET', `/v1/resources/${r.type}/${r.id}/versions`);

    for (const { name, send } of asB) {
      expectNotFound(await send('GET', `/v1/resources/${r.type}/${r.id}`), `${name} GET resource`);
      expectNotFound(await send('GET', `/v1/resources/${r.type}/${r.id}?version=1`), `${name} GET resource version`);
      expectNotFound(await send('GET', `/v1/resources/${r.type}/${r.id}/versions`), `${name} versions`);
      expectNotFound(await send('DELETE', `/v1/resources/${r.type}/${r.id}`), `${name} DELETE resource`);
      expectNotFound(await send('GET', `/v1/resource-types/${r.type}`), `${name} GET resource type`);
    }
    expect((await b.api('GET', '/v1/resources')).body.items).toEqual([]);
    expect((await b.api('GET', '/v1/resource-types')).body.items).toEqual([]);

    // Resource ids are the integrator's own and namespaced per workspace: B writing the same id makes B's resource.
    const put = await b.api('PUT', `/v1/resources/${r.type}/${r.id}`, { title: 'B overwrite', fields: { score: 0 } });
    expect(put.status).toBe(201);
    expect(put.body.version).toBe(1);

    const after = await a.api('GET', `/v1/resources/${r.type}/${r.id}`);
    expect(after.body).toEqual(before.body);
    expect(after.body).toMatchObject({ title: 'A report', fields: { score: 42 }, latest_version: 1 });
    expect((await a.api('GET', `/v1/resources/${r.type}/${r.id}/versions`)).body).toEqual(versionsBefore.body);
    expect((await a.api('GET', `/v1/resource-types/${r.type}`)).status).toBe(200);
    expect((await a.api('GET', `/v1/links/${link.id}`)).body.status).toBe('active');
  });

  it('members: B cannot change or remove A\'s members, and does not see them', async () => {
    const { a, b, asB } = await twoWorkspaces(h());
    const aMember = await buildMember(h(), a, { role: 'member' });
    const aOwnerId = (await signIn(h(), a.email)).body.user.id;
    const before = await a.api('GET', '/v1/members');

    for (const { name, send } of asB) {
      for (const userId of [aOwnerId, aMember.userId]) {
        expectNotFound(await send('PATCH', `/v1/members/${userId}`, { role: 'admin' }), `${name} PATCH member`);
        expectNotFound(await send('DELETE', `/v1/members/${userId}`), `${name} DELETE member`);
      }
    }
    const listed = await b.api('GET', '/v1/members');
    expect(listed.body.items.map((m: any) => m.email)).toEqual([b.email]);

    expect((await a.api('GET', '/v1/members')).body).toEqual(before.body);
    expect((await aMember.session.send('GET', '/v1/auth/me')).status).toBe(200);
  });

  it('API keys: B cannot revoke A\'s key, and does not see it', async () => {
    const { a, b, asB } = await twoWorkspaces(h());
    const aKeys = await a.api('GET', '/v1/api-keys');
    const aKeyId = aKeys.body.items[0].id;

    for (const { name, send } of asB) {
      expectNotFound(await send('DELETE', `/v1/api-keys/${aKeyId}`), `${name} DELETE api key`);
    }
    const listed = await b.api('GET', '/v1/api-keys');
    expect(listed.body.items.map((k: any) => k.id)).not.toContain(aKeyId);

    const after = await a.api('GET', '/v1/api-keys');
    expect(after.status).toBe(200);
    expect(after.body.items.find((k: any) => k.id === aKeyId).revoked_at).toBeNull();
  });

  it('workspace: B reads and changes only its own workspace', async () => {
    const { a, b, asB } = await twoWorkspaces(h());
    const before = await a.api('GET', '/v1/workspace');
    for (const { name, send } of asB) {
      const got = await send('GET', '/v1/workspace');
      expect(got.body.id, name).toBe(b.workspaceId);
      const patched = await send('PATCH', '/v1/workspace', { name: `Changed by ${name}`, policy: { allow_never_expiring: true, max_expiry_days: null } });
      expect(patched.status, name).toBe(200);
      expect(patched.body.id, name).toBe(b.workspaceId);
    }
    expect((await a.api('GET', '/v1/workspace')).body).toEqual(before.body);
    // A's policy still governs A's links.
    const r = await buildResource(a);
    const forever = await a.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id, expires_at: null });
    expect(forever.status).toBe(422);
  });

  it('sessions: B\'s session shows B, and A\'s session cannot reach B\'s objects', async () => {
    const { a, b } = await twoWorkspaces(h());
    const bLink = await buildLink(b);
    const aSession = await signIn(h(), a.email);
    const me = await aSession.send('GET', '/v1/auth/me');
    expect(me.body.workspace.id).toBe(a.workspaceId);
    expectNotFound(await aSession.send('GET', `/v1/links/${bLink.id}`), 'A session GET B link');
    expectNotFound(await aSession.send('POST', `/v1/links/${bLink.id}/revoke`), 'A session revoke B link');
    expect((await b.api('GET', `/v1/links/${bLink.id}`)).body.status).toBe('active');
  });
});
