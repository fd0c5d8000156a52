import { expect, it } from 'vitest';
import { updateMember } from '../src/app/update-member.js';
import type { Actor } from '../src/domain/actor.js';
import { countOwners } from '../src/storage/accounts.js';
import { buildApiKey, buildMember, buildWorkspace, send, signIn } from './helpers/factories.js';
import { describeEachDialect } from './helpers/harness.js';

const login = (h: () => { app: any }, email: string, password: string) => send(h().app, 'POST', '/v1/auth/login', { email, password });

describeEachDialect('members', (h) => {
  it('any member may list the members; only owners and admins see they may change them', async () => {
    const ws = await buildWorkspace(h());
    const m = await buildMember(h(), ws, { role: 'member' });
    const res = await m.session.send('GET', '/v1/members');
    expect(res.status).toBe(200);
    expect(res.body.items.map((x: any) => [x.email, x.role])).toEqual([
      [ws.email, 'owner'],
      [m.email, 'member'],
    ]);
    expect(res.body.items[1]).toEqual({
      user_id: m.userId,
      email: m.email,
      name: null,
      role: 'member',
      created_at: expect.any(String),
      permissions: { can_update: false, can_remove: false },
    });
    const asAdmin = await ws.api('GET', '/v1/members');
    expect(asAdmin.body.items.map((x: any) => x.permissions)).toEqual([
      { can_update: false, can_remove: false }, // an admin key may not touch the owner
      { can_update: true, can_remove: true },
    ]);
  });

  it('adds a new person with a generated password, returned once and stored only hashed', async () => {
    const ws = await buildWorkspace(h());
    const res = await ws.api('POST', '/v1/members', { email: 'New.Person@Example.test', role: 'admin' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email: 'new.person@example.test', role: 'admin', password: expect.any(String) });
    expect(res.body.password.length).toBeGreaterThanOrEqual(16);
    const user = await h().ctx.database.db.selectFrom('users').selectAll().where('id', '=', res.body.user_id).executeTakeFirstOrThrow();
    expect(user.password_hash).toMatch(/^scrypt\$/);
    expect(user.password_hash).not.toContain(res.body.password);
    const listed = await ws.api('GET', '/v1/members');
    expect(JSON.stringify(listed.body)).not.toContain(res.body.password);

    const signedIn = await login(h, 'new.person@example.test', res.body.password);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.role).toBe('admin');
    expect(signedIn.body.workspace.id).toBe(ws.workspaceId);
  });

  it('adds a new person with the password given, and returns none', async () => {
    const ws = await buildWorkspace(h());
    const res = await ws.api('POST', '/v1/members', { email: 'chosen@example.test', role: 'member', password: 'a chosen password' });
    expect(res.status).toBe(201);
    expect(res.body.password).toBeNull();
    expect((await login(h, 'chosen@example.test', 'a chosen password')).status).toBe(200);
  });

  it('adds an existing account as it is, and never changes its password', async () => {
    const a = await buildWorkspace(h());
    const b = await buildWorkspace(h());
    const withPassword = await b.api('POST', '/v1/members', { email: a.email, role: 'member', password: 'taking over now' });
    expect(withPassword.status).toBe(409);
    expect(withPassword.body.reason).toBe('conflict');
    expect((await login(h, a.email, 'taking over now')).status).toBe(401);

    const res = await b.api('POST', '/v1/members', { email: a.email.toUpperCase(), role: 'member' });
    expect(res.status).toBe(201);
    expect(res.body.password).toBeNull();
    expect(res.body.email).toBe(a.email);
    expect((await login(h, a.email, 'correct horse battery')).status).toBe(200);
    const members = await b.api('GET', '/v1/members');
    expect(members.body.items.map((x: any) => x.email)).toContain(a.email);
  });

  it('adding someone who is already a member is 409 conflict', async () => {
    const ws = await buildWorkspace(h());
    const m = await buildMember(h(), ws);
    const again = await ws.api('POST', '/v1/members', { email: m.email, role: 'admin' });
    expect(again.status).toBe(409);
    expect(again.body.reason).toBe('conflict');
    const owner = await ws.api('POST', '/v1/members', { email: ws.email, role: 'member' });
    expect(owner.status).toBe(409);
    const listed = await ws.api('GET', '/v1/members');
    expect(listed.body.items.find((x: any) => x.user_id === m.userId).role).toBe('member');
  });

  it('a member (session or member key) may not add, change or remove members: 403 forbidden', async () => {
    const ws = await buildWorkspace(h());
    const m = await buildMember(h(), ws, { role: 'member' });
    const other = await buildMember(h(), ws, { role: 'member' });
    const key = await buildApiKey(h(), ws, { role: 'member' });
    for (const sender of [
      (method: any, url: string, body?: unknown) => m.session.send(method, url, body),
      key.api,
    ]) {
      for (const [method, url, body] of [
        ['POST', '/v1/members', { email: 'sneaky@example.test', role: 'member' }],
        ['PATCH', `/v1/members/${other.userId}`, { role: 'admin' }],
        ['PATCH', `/v1/members/${m.userId}`, { role: 'admin' }],
        ['DELETE', `/v1/members/${other.userId}`, undefined],
      ] as const) {
        const res = await sender(method, url, body);
        expect(res.status, `${method} ${url}`).toBe(403);
        expect(res.body.reason).toBe('forbidden');
      }
    }
    const listed = await ws.api('GET', '/v1/members');
    expect(listed.body.items.map((x: any) => x.role).sort()).toEqual(['member', 'member', 'owner']);
  });

  it('only an owner may grant or take away the owner role', async () => {
    const ws = await buildWorkspace(h());
    const admin = await buildMember(h(), ws, { role: 'admin' });
    const m = await buildMember(h(), ws, { role: 'member' });
    const ownerId = (await signIn(h(), ws.email)).body.user.id;
    for (const res of [
      await admin.session.send('POST', '/v1/members', { email: 'new-owner@example.test', role: 'owner' }),
      await admin.session.send('PATCH', `/v1/members/${m.userId}`, { role: 'owner' }),
      await admin.session.send('PATCH', `/v1/members/${admin.userId}`, { role: 'owner' }),
      await admin.session.send('PATCH', `/v1/members/${ownerId}`, { role: 'member' }),
      await admin.session.send('DELETE', `/v1/members/${ownerId}`),
      await ws.api('PATCH', `/v1/members/${m.userId}`, { role: 'owner' }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.reason).toBe('forbidden');
    }
    // An admin may still run the non-owner roles.
    const promoted = await admin.session.send('PATCH', `/v1/members/${m.userId}`, { role: 'admin' });
    expect(promoted.status).toBe(200);
    expect(promoted.body.role).toBe('admin');

    const owner = await signIn(h(), ws.email);
    const made = await owner.send('PATCH', `/v1/members/${m.userId}`, { role: 'owner' });
    expect(made.status).toBe(200);
    expect(made.body.role).toBe('owner');
    const added = await owner.send('POST', '/v1/members', { email: 'second-owner@example.test', role: 'owner' });
    expect(added.status).toBe(201);
    expect(added.body.role).toBe('owner');
  });

  it('the last owner can be neither demoted nor removed (409); with a second owner, they can', async () => {
    const ws = await buildWorkspace(h());
    const owner = await signIn(h(), ws.email);
    const ownerId = owner.body.user.id;
    const demote = await owner.send('PATCH', `/v1/members/${ownerId}`, { role: 'admin' });
    expect(demote.status).toBe(409);
    expect(demote.body.reason).toBe('conflict');
    const remove = await owner.send('DELETE', `/v1/members/${ownerId}`);
    expect(remove.status).toBe(409);
    expect(remove.body.reason).toBe('conflict');
    expect((await ws.api('GET', '/v1/members')).body.items[0].role).toBe('owner');

    const second = await buildMember(h(), ws, { role: 'owner' });
    const stepDown = await owner.send('PATCH', `/v1/members/${ownerId}`, { role: 'admin' });
    expect(stepDown.status).toBe(200);
    expect(stepDown.body.role).toBe('admin');
    // Now `second` is the last owner.
    const last = await second.session.send('DELETE', `/v1/members/${second.userId}`);
    expect(last.status).toBe(409);
    const gone = await second.session.send('DELETE', `/v1/members/${ownerId}`);
    expect(gone.status).toBe(200);
  });

  it('two owners demoting each other at the same moment leave one owner', async () => {
    const ws = await buildWorkspace(h());
    const a = await signIn(h(), ws.email);
    const b = await buildMember(h(), ws, { role: 'owner' });
    const results = await Promise.all([
      a.send('PATCH', `/v1/members/${b.userId}`, { role: 'admin' }),
      b.session.send('PATCH', `/v1/members/${a.body.user.id}`, { role: 'admin' }),
    ]);
    const statuses = results.map((r) => r.status).sort();
    // The loser either finds itself already demoted (403) or meets the last-owner rule (409).
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    const owners = (await ws.api('GET', '/v1/members')).body.items.filter((x: any) => x.role === 'owner');
    expect(owners).toHaveLength(1);
  });

  it('concurrent demotions through the use-case never leave the workspace without an owner', async () => {
    // Both actors were authenticated as owners before either change lands: only the workspace lock stands
    // between them. Without it PostgreSQL loses both owners in most rounds.
    for (let round = 0; round < 5; round++) {
      const ws = await buildWorkspace(h());
      const a = await signIn(h(), ws.email);
      const b = await buildMember(h(), ws, { role: 'owner' });
      const asOwner = (userId: string, email: string): Actor => ({ kind: 'user', workspaceId: ws.workspaceId, userId, role: 'owner', email });
      const results = await Promise.allSettled([
        updateMember(h().ctx, asOwner(a.body.user.id, ws.email), b.userId, { role: 'admin' }),
        updateMember(h().ctx, asOwner(b.userId, b.email), a.body.user.id, { role: 'admin' }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason.reason).toBe('conflict');
      expect(await countOwners(h().ctx.database.db, ws.workspaceId)).toBe(1);
    }
  });

  it('a role change takes effect on the member\'s next request', async () => {
    const ws = await buildWorkspace(h());
    const m = await buildMember(h(), ws, { role: 'member' });
    expect((await m.session.send('GET', '/v1/api-keys')).status).toBe(403);
    expect((await ws.api('PATCH', `/v1/members/${m.userId}`, { role: 'admin' })).status).toBe(200);
    expect((await m.session.send('GET', '/v1/api-keys')).status).toBe(200);
    expect((await m.session.send('GET', '/v1/auth/me')).body.role).toBe('admin');
  });

  it('removing a member ends their sessions and writes a deleted event', async () => {
    const ws = await buildWorkspace(h());
    const m = await buildMember(h(), ws);
    const res = await ws.api('DELETE', `/v1/members/${m.userId}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ deleted: true, user_id: m.userId });
    expect((await ws.api('GET', '/v1/members')).body.items.map((x: any) => x.user_id)).not.toContain(m.userId);
    const me = await m.session.send('GET', '/v1/auth/me');
    expect(me.status).toBe(401);
    const { db } = h().ctx.database;
    expect(await db.selectFrom('sessions').selectAll().where('user_id', '=', m.userId).execute()).toEqual([]);
    const events = await db.selectFrom('events').selectAll().where('workspace_id', '=', ws.workspaceId).where('link_id', 'is', null).execute();
    const kinds = events.map((e) => [e.type, JSON.parse(e.metadata).object, JSON.parse(e.metadata).user_id]);
    expect(kinds).toContainEqual(['created', 'member', m.userId]);
    expect(kinds).toContainEqual(['deleted', 'member', m.userId]);
    expect(events.find((e) => e.type === 'deleted')?.actor).toMatch(/^key:key_/);
  });

  it('an unknown member is 404 not_found', async () => {
    const ws = await buildWorkspace(h());
    for (const res of [
      await ws.api('PATCH', '/v1/members/usr_nobody', { role: 'admin' }),
      await ws.api('DELETE', '/v1/members/usr_nobody'),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.reason).toBe('not_found');
    }
  });

  const badInputs: Array<[string, string, unknown, string, string]> = [
    ['POST', '/v1/members', '{"email": "x@example.test",', 'invalid_json', ''],
    ['POST', '/v1/members', { email: 'x@example.test', role: 'member', admin: true }, 'invalid_request', 'admin'],
    ['POST', '/v1/members', { email: 'x@example.test', role: 'superuser' }, 'invalid_request', 'role'],
    ['POST', '/v1/members', { email: 'not an email', role: 'member' }, 'invalid_request', 'email'],
    ['POST', '/v1/members', { email: 42, role: 'member' }, 'invalid_request', 'email'],
    ['POST', '/v1/members', { email: 'x@example.test', role: 'member', password: 'short' }, 'invalid_request', 'password'],
    ['POST', '/v1/members', { role: 'member' }, 'invalid_request', 'email'],
    ['PATCH', '/v1/members/usr_x', '{role: admin}', 'invalid_json', ''],
    ['PATCH', '/v1/members/usr_x', { role: 'admin', email: 'y@example.test' }, 'invalid_request', 'email'],
    ['PATCH', '/v1/members/usr_x', { role: ['admin'] }, 'invalid_request', 'role'],
    ['PATCH', '/v1/members/usr_x', {}, 'invalid_request', 'role'],
    ['PATCH', `/v1/members/${'u'.repeat(101)}`, { role: 'admin' }, 'invalid_request', 'path.user_id'],
  ];

  it('rejects malformed JSON, unknown fields and wrong types with 400 and a field, never a 500', async () => {
    const ws = await buildWorkspace(h());
    for (const [method, url, body, reason] of badInputs) {
      const res = await ws.api(method as 'POST', url, body);
      expect(res.status, `${method} ${url} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body).toMatchObject({ error: expect.any(String), reason });
      if (reason === 'invalid_request') expect(res.body.field).toEqual(expect.any(String));
    }
    expect((await ws.api('GET', '/v1/members')).body.items).toHaveLength(1);
  });

  // See test/auth.test.ts: error-handler.ts always answers field "body"/"params" until it reads `instancePath`.
  it('names the offending field of a bad members request', async () => {
    const ws = await buildWorkspace(h());
    for (const [method, url, body, reason, field] of badInputs) {
      if (reason !== 'invalid_request') continue;
      const res = await ws.api(method as 'POST', url, body);
      expect(res.body.field, `${method} ${url} ${JSON.stringify(body)}`).toBe(field);
    }
  });
});
