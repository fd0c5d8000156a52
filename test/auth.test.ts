import { expect, it } from 'vitest';
import { sha256 } from '../src/domain/tokens.js';
import { buildApiKey, buildMember, buildResource, buildWorkspace, send, signIn } from './helpers/factories.js';
import { describeEachDialect } from './helpers/harness.js';

const PASSWORD = 'correct horse battery';
const DAY = 86_400_000;

const setCookies = (headers: Record<string, unknown>): string[] =>
  ([] as unknown[]).concat(headers['set-cookie'] ?? []).map(String);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describeEachDialect('auth', (h) => {
  it('signs in: sets an HttpOnly, SameSite=Lax, 30-day session cookie and returns who, where, role and CSRF token', async () => {
    const ws = await buildWorkspace(h());
    const res = await send(h().app, 'POST', '/v1/auth/login', { email: ws.email, password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      user: { id: expect.stringMatching(/^usr_/), email: ws.email, name: null },
      workspace: { id: ws.workspaceId, name: 'Test workspace' },
      role: 'owner',
      csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const [cookie] = setCookies(res.headers);
    expect(cookie).toMatch(/^porthole_session=[A-Za-z0-9_-]{43};/);
    const attrs = cookie.split(';').map((a) => a.trim().toLowerCase());
    expect(attrs).toContain('httponly');
    expect(attrs).toContain('samesite=lax');
    expect(attrs).toContain('path=/');
    const maxAge = Number(attrs.find((a) => a.startsWith('max-age='))?.slice(8));
    expect(maxAge).toBeGreaterThan(30 * 86_400 - 60);
    expect(maxAge).toBeLessThanOrEqual(30 * 86_400);
  });

  it('stores only the SHA-256 of the session id, never the id itself', async () => {
    const ws = await buildWorkspace(h());
    const session = await signIn(h(), ws.email);
    const sessionId = session.cookie.slice('porthole_session='.length);
    const rows = await h().ctx.database.db.selectFrom('sessions').selectAll().where('user_id', '=', session.body.user.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0].id_hash).toBe(sha256(sessionId));
    expect(Object.values(rows[0]).map(String)).not.toContain(sessionId);
    expect(rows[0].csrf_token).toBe(session.csrfToken);
    const lifetime = Number(rows[0].expires_at) - Number(rows[0].created_at);
    expect(lifetime).toBe(30 * DAY);
  });

  it('accepts the email in any case', async () => {
    const ws = await buildWorkspace(h());
    const res = await send(h().app, 'POST', '/v1/auth/login', { email: ws.email.toUpperCase(), password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.user.email).toBe(ws.email);
  });

  it('answers a wrong password and an unknown email alike: 401 invalid_credentials, same message, no cookie', async () => {
    const ws = await buildWorkspace(h());
    const wrongPassword = await send(h().app, 'POST', '/v1/auth/login', { email: ws.email, password: 'not the password' });
    const unknownEmail = await send(h().app, 'POST', '/v1/auth/login', { email: 'nobody@example.test', password: PASSWORD });
    for (const res of [wrongPassword, unknownEmail]) {
      expect(res.status).toBe(401);
      expect(res.body.reason).toBe('invalid_credentials');
      expect(setCookies(res.headers)).toEqual([]);
    }
    expect(unknownEmail.body).toEqual(wrongPassword.body);
  });

  it('spends a password hash on an unknown email too, so timing does not tell which emails exist', async () => {
    const ws = await buildWorkspace(h());
    const time = async (email: string) => {
      const t0 = process.hrtime.bigint();
      const res = await send(h().app, 'POST', '/v1/auth/login', { email, password: 'not the password' });
      expect(res.status).toBe(401);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    await time('warm-up@example.test');
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time(ws.email));
      unknown.push(await time(`nobody-${i}@example.test`));
    }
    // Without the dummy hash an unknown email answers in about a twentieth of the time.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.3);
  });

  it('a former member whose password is right still gets invalid_credentials', async () => {
    const ws = await buildWorkspace(h());
    const m = await buildMember(h(), ws);
    expect((await ws.api('DELETE', `/v1/members/${m.userId}`)).status).toBe(200);
    const res = await send(h().app, 'POST', '/v1/auth/login', { email: m.email, password: m.password });
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('invalid_credentials');
  });

  it('GET /v1/auth/me answers the same shape as login, CSRF token included', async () => {
    const ws = await buildWorkspace(h());
    const session = await signIn(h(), ws.email);
    const me = await session.send('GET', '/v1/auth/me');
    expect(me.status).toBe(200);
    expect(me.body).toEqual(session.body);
    expect(me.headers['cache-control']).toBe('no-store');
  });

  it('GET /v1/auth/me without a session is 401, and an API key has no session (403)', async () => {
    const ws = await buildWorkspace(h());
    const anonymous = await send(h().app, 'GET', '/v1/auth/me');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.reason).toBe('unauthenticated');
    const garbage = await send(h().app, 'GET', '/v1/auth/me', undefined, { cookie: 'porthole_session=not-a-session' });
    expect(garbage.status).toBe(401);
    const withKey = await ws.api('GET', '/v1/auth/me');
    expect(withKey.status).toBe(403);
    expect(withKey.body.reason).toBe('forbidden');
  });

  it('a cookie-authenticated POST, PATCH or DELETE without X-CSRF-Token gets 403 csrf_required; with it, it succeeds', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const session = await signIn(h(), ws.email);

    const noCsrf = await session.send('POST', '/v1/links', { resource_type: r.type, resource_id: r.id }, { csrf: false });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body.reason).toBe('csrf_required');
    const wrongCsrf = await session.send('POST', '/v1/links', { resource_type: r.type, resource_id: r.id }, { csrf: false, headers: { 'x-csrf-token': 'x'.repeat(43) } });
    expect(wrongCsrf.status).toBe(403);
    expect(wrongCsrf.body.reason).toBe('csrf_required');
    const links = await ws.api('GET', '/v1/links');
    expect(links.body.items).toHaveLength(0);

    const created = await session.send('POST', '/v1/links', { resource_type: r.type, resource_id: r.id });
    expect(created.status).toBe(201);
    expect(created.body.created_by).toBe(`user:${session.body.user.id}`);

    const patchNoCsrf = await session.send('PATCH', '/v1/workspace', { name: 'Renamed' }, { csrf: false });
    expect(patchNoCsrf.status).toBe(403);
    expect(patchNoCsrf.body.reason).toBe('csrf_required');
    expect((await ws.api('GET', '/v1/workspace')).body.name).toBe('Test workspace');
    const patched = await session.send('PATCH', '/v1/workspace', { name: 'Renamed' });
    expect(patched.status).toBe(200);
    expect(patched.body.name).toBe('Renamed');

    const key = await buildApiKey(h(), ws);
    const delNoCsrf = await session.send('DELETE', `/v1/api-keys/${key.id}`, undefined, { csrf: false });
    expect(delNoCsrf.status).toBe(403);
    expect(delNoCsrf.body.reason).toBe('csrf_required');
    expect((await key.api('GET', '/v1/links')).status).toBe(200);
    const deleted = await session.send('DELETE', `/v1/api-keys/${key.id}`);
    expect(deleted.status).toBe(200);
    expect((await key.api('GET', '/v1/links')).status).toBe(401);

    // Reading needs no CSRF header.
    expect((await session.send('GET', '/v1/links', undefined, { csrf: false })).status).toBe(200);
  });

  it('signs out: needs the CSRF header, deletes the session row and clears the cookie', async () => {
    const ws = await buildWorkspace(h());
    const session = await signIn(h(), ws.email);
    const sessionId = session.cookie.slice('porthole_session='.length);
    const { db } = h().ctx.database;

    const noCsrf = await session.send('POST', '/v1/auth/logout', undefined, { csrf: false });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body.reason).toBe('csrf_required');
    expect((await session.send('GET', '/v1/auth/me')).status).toBe(200);

    const out = await session.send('POST', '/v1/auth/logout');
    expect(out.status).toBe(204);
    const [cleared] = setCookies(out.headers);
    expect(cleared).toMatch(/^porthole_session=;/);
    expect(cleared.toLowerCase()).toContain('max-age=0');
    expect(cleared.toLowerCase()).toContain('path=/');
    expect(await db.selectFrom('sessions').selectAll().where('id_hash', '=', sha256(sessionId)).execute()).toEqual([]);

    const after = await session.send('GET', '/v1/auth/me');
    expect(after.status).toBe(401);
    expect(after.body.reason).toBe('unauthenticated');
  });

  it('signing in again with a cookie ends the old session', async () => {
    const ws = await buildWorkspace(h());
    const first = await signIn(h(), ws.email);
    const again = await send(h().app, 'POST', '/v1/auth/login', { email: ws.email, password: PASSWORD }, { cookie: first.cookie });
    expect(again.status).toBe(200);
    expect((await first.send('GET', '/v1/auth/me')).status).toBe(401);
    const rows = await h().ctx.database.db.selectFrom('sessions').select('id_hash').where('user_id', '=', again.body.user.id).execute();
    expect(rows).toHaveLength(1);
  });

  it('keeps passwords and session ids out of the logs', async () => {
    const ws = await buildWorkspace(h(), { password: 'a very distinctive passphrase' });
    const session = await signIn(h(), ws.email, 'a very distinctive passphrase');
    await session.send('GET', '/v1/auth/me');
    const logs = h().logs.join('\n');
    expect(logs).not.toContain('a very distinctive passphrase');
    expect(logs).not.toContain(session.cookie.slice('porthole_session='.length));
    expect(logs).not.toContain(session.csrfToken);
  });

  it('rejects malformed login bodies with 400 and never a 500', async () => {
    const cases: Array<[unknown, string]> = [
      ['{"email": "a@b.test", "password": ', 'invalid_json'],
      [{ email: 'a@b.test', password: 'x', remember: true }, 'invalid_request'],
      [{ email: 'a@b.test', password: 12345678 }, 'invalid_request'],
      [{ email: ['a@b.test'], password: 'x' }, 'invalid_request'],
      [{ password: 'x' }, 'invalid_request'],
    ];
    for (const [body, reason] of cases) {
      const res = await send(h().app, 'POST', '/v1/auth/login', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ error: expect.any(String), reason });
      if (reason === 'invalid_request') expect(res.body.field).toEqual(expect.any(String));
    }
  });

  it('names the offending field of a bad login body', async () => {
    const unknown = await send(h().app, 'POST', '/v1/auth/login', { email: 'a@b.test', password: 'x', remember: true });
    expect(unknown.body.field).toBe('remember');
    const wrongType = await send(h().app, 'POST', '/v1/auth/login', { email: 'a@b.test', password: 12345678 });
    expect(wrongType.body.field).toBe('password');
  });

  it('throttles guessing: 30 failed sign-ins for one email, or from one client, answer 429 with Retry-After until the minute is over', async () => {
    const victim = await buildWorkspace(h());
    const attempt = (email: string, password: string, remoteAddress: string) =>
      h().app.inject({ method: 'POST', url: '/v1/auth/login', remoteAddress, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email, password }) });

    // Per account, whichever addresses the guesses come from.
    for (let i = 0; i < 30; i++) expect((await attempt(victim.email, `guess ${i}`, `10.0.0.${i + 1}`)).statusCode).toBe(401);
    const blocked = await attempt(victim.email, PASSWORD, '10.0.1.1');
    expect(blocked.statusCode).toBe(429);
    expect(JSON.parse(blocked.body).reason).toBe('rate_limited');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(setCookies(blocked.headers)).toEqual([]);

    // Per client, whichever emails it tries.
    const other = await buildWorkspace(h());
    for (let i = 0; i < 30; i++) expect((await attempt(`nobody-${i}@example.test`, 'guess', '10.9.9.9')).statusCode).toBe(401);
    expect((await attempt(other.email, PASSWORD, '10.9.9.9')).statusCode).toBe(429);
    expect((await attempt(other.email, PASSWORD, '10.9.9.8')).statusCode).toBe(200);

    h().advance(61_000);
    expect((await attempt(victim.email, PASSWORD, '10.0.1.1')).statusCode).toBe(200);
    expect((await attempt(other.email, PASSWORD, '10.9.9.9')).statusCode).toBe(200);
  });

  // Moves the clock: keep last in this suite.
  it('a session ends after 30 days', async () => {
    const ws = await buildWorkspace(h());
    const session = await signIn(h(), ws.email);
    h().advance(29 * DAY);
    expect((await session.send('GET', '/v1/auth/me')).status).toBe(200);
    h().advance(1 * DAY + 1000);
    const expired = await session.send('GET', '/v1/auth/me');
    expect(expired.status).toBe(401);
    expect(expired.body.reason).toBe('unauthenticated');
  });
});
