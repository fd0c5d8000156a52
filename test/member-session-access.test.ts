import { expect, it } from 'vitest';
import { buildLink, buildMember, buildResource, buildWorkspace, send, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, listening } from './helpers/harness.js';

// DESIGN §4: a link that requires proof of identity and names no recipient,
// allowed address or domain is for the workspace's members: "with none of those
// set, only signed-in workspace members pass". A member proves who they are by
// their dashboard session (or by a mailed code, see email-verification.test.ts).
describeEachDialect('members-only links and the dashboard session', (h) => {
  async function membersOnlyLink(ws: TestWorkspace, body: Record<string, unknown> = {}) {
    const r = await buildResource(ws, { title: 'Quarterly numbers' });
    return buildLink(ws, { resource_type: r.type, resource_id: r.id, requires_auth: true, ...body });
  }

  const linkEvents = (linkId: string) =>
    h().ctx.database.db.selectFrom('events').select(['type', 'email', 'actor', 'reason']).where('link_id', '=', linkId).orderBy('seq').execute();

  it('a signed-in member passes, as that member: the view is counted and recorded with their address, and the grant carries it', async () => {
    const ws = await buildWorkspace(h());
    const mia = await buildMember(h(), ws);
    const link = await membersOnlyLink(ws);

    const opened = await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, { cookie: mia.session.cookie });
    expect(opened.status).toBe(200);
    expect(opened.body.resource.title).toBe('Quarterly numbers');
    expect(opened.body.link.view_count).toBe(1);

    // The grant alone (no cookie) carries the proven address: no new view, no new check.
    const again = await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, { 'x-porthole-grant': opened.body.grant });
    expect(again.status).toBe(200);
    expect(again.body.link.view_count).toBe(1);

    const events = await linkEvents(link.id);
    expect(events.map((e) => e.type)).toEqual(['created', 'viewed']);
    expect(events[1]).toMatchObject({ email: mia.email, actor: `user:${mia.userId}` });
  });

  it('no session, an ended one, or one for another workspace is asked to prove an address', async () => {
    const ws = await buildWorkspace(h());
    const other = await buildWorkspace(h());
    const outsider = await buildMember(h(), other);
    const leaving = await buildMember(h(), ws);
    const link = await membersOnlyLink(ws);

    expect((await send(h().app, 'GET', `/v1/shared/${link.token}`)).body).toMatchObject({ reason: 'auth_required' });
    expect((await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, { cookie: outsider.session.cookie })).body).toMatchObject({ reason: 'auth_required' });
    expect((await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, { cookie: 'porthole_session=not-a-session' })).body).toMatchObject({ reason: 'auth_required' });
    expect((await leaving.session.send('POST', '/v1/auth/logout')).status).toBe(204);
    const ended = await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, { cookie: leaving.session.cookie });
    expect(ended.status).toBe(401);
    expect(ended.body).toMatchObject({ reason: 'auth_required' });
    const events = await linkEvents(link.id);
    expect(events.filter((e) => e.type === 'viewed')).toEqual([]);
    expect(events.filter((e) => e.type === 'access_denied').map((e) => e.reason)).toEqual(['auth_required', 'auth_required', 'auth_required', 'auth_required']);
  });

  it('malformed, empty, repeated or huge session cookies are no session: a 401, never a 500', async () => {
    const ws = await buildWorkspace(h());
    const link = await membersOnlyLink(ws);
    const cookies = ['porthole_session=%E0%A4%A', 'porthole_session=', 'porthole_session="x', `porthole_session=${'a'.repeat(5000)}`, 'porthole_session=a; porthole_session=b', 'porthole_session=\u00ff'];
    for (const cookie of cookies) {
      for (const url of [`/v1/shared/${link.token}`, `/s/${link.short_code}`, `/v1/shared/${link.token}/export.csv`]) {
        const res = await send(h().app, 'GET', url, undefined, { cookie });
        expect([cookie, url, res.status]).toEqual([cookie, url, 401]);
      }
    }
  });

  it('a link that names addresses asks members for a code too, even when their own address is named', async () => {
    const ws = await buildWorkspace(h());
    const mia = await buildMember(h(), ws);
    for (const named of [{ allowed_emails: [mia.email] }, { recipient_email: 'ana@example.test' }, { allowed_domains: ['example.test'] }]) {
      const link = await membersOnlyLink(ws, named);
      const res = await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, { cookie: mia.session.cookie });
      expect([res.status, res.body.reason]).toEqual([401, 'auth_required']);
    }
  });

  it('the password still comes first; with it, the session passes the identity check', async () => {
    const ws = await buildWorkspace(h());
    const mia = await buildMember(h(), ws);
    const link = await membersOnlyLink(ws, { password: 'open sesame 42' });
    const cookie = { cookie: mia.session.cookie };
    expect((await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, cookie)).body).toMatchObject({ reason: 'password_required' });
    const unlocked = await send(h().app, 'POST', `/v1/shared/${link.token}/unlock`, { password: 'open sesame 42' }, cookie);
    expect(unlocked.status).toBe(200);
    expect(unlocked.body.link.view_count).toBe(1);
  });

  it('over a real connection, a request with the session cookie is not answered by the fast path without it', async () => {
    const ws = await buildWorkspace(h());
    const mia = await buildMember(h(), ws);
    const link = await membersOnlyLink(ws);
    const address = await listening(h().app);
    const withSession = await fetch(`${address}/v1/shared/${link.token}`, { headers: { cookie: `theme=dark; ${mia.session.cookie}` } });
    expect(withSession.status).toBe(200);
    const without = await fetch(`${address}/v1/shared/${link.token}`);
    expect(without.status).toBe(401);
    expect(await without.json()).toMatchObject({ reason: 'auth_required' });
  });

  it("the link's page opens for a signed-in member, and asks anyone else for an address", async () => {
    const ws = await buildWorkspace(h());
    const mia = await buildMember(h(), ws);
    const link = await membersOnlyLink(ws);
    const member = await send(h().app, 'GET', `/s/${link.short_code}`, undefined, { cookie: mia.session.cookie });
    expect(member.status).toBe(200);
    expect(member.text).toContain('Quarterly numbers');
    const stranger = await send(h().app, 'GET', `/s/${link.short_code}`);
    expect(stranger.status).toBe(401);
    expect(stranger.text).not.toContain('Quarterly numbers');
    expect(stranger.text).toContain('type="email"');
  });
});
