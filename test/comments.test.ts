import type { InjectOptions } from 'fastify';
import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { verifyAudit } from '../src/app/verify-audit.js';
import { issueGrant } from '../src/domain/grants.js';
import { insertComment } from '../src/storage/comments.js';
import { buildLink, buildResource, buildWorkspace, send, signIn, type ApiResponse, type TestWorkspace } from './helpers/factories.js';
import { failEventsOf } from './helpers/faults.js';
import { describeEachDialect, listening, type Harness } from './helpers/harness.js';

const UA = 'CommentTest/1.0';

/** A public API request from one client address. */
async function call(h: Harness, method: InjectOptions['method'], url: string, opts: { body?: unknown; grant?: string; ip?: string; raw?: string; contentType?: string } = {}): Promise<ApiResponse> {
  const hasBody = opts.body !== undefined || opts.raw !== undefined;
  const res = await h.app.inject({
    method,
    url,
    remoteAddress: opts.ip ?? '203.0.113.77',
    headers: {
      'user-agent': UA,
      ...(hasBody ? { 'content-type': opts.contentType ?? 'application/json' } : {}),
      ...(opts.grant ? { 'x-porthole-grant': opts.grant } : {}),
    },
    ...(hasBody ? { payload: opts.raw ?? JSON.stringify(opts.body) } : {}),
  });
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, body, headers: res.headers as Record<string, unknown>, text: res.body };
}

const linkEvents = async (h: Harness, linkId: string) =>
  (await h.ctx.database.db.selectFrom('events').selectAll().where('link_id', '=', linkId).orderBy('seq').execute()).map((e) => ({ ...e, metadata: JSON.parse(e.metadata) as Record<string, unknown> }));
const linkRow = (h: Harness, linkId: string) => h.ctx.database.db.selectFrom('links').select(['view_count', 'created_by']).where('id', '=', linkId).executeTakeFirstOrThrow();
const commentRows = (h: Harness, linkId: string) => h.ctx.database.db.selectFrom('comments').selectAll().where('link_id', '=', linkId).orderBy('created_at').orderBy('id').execute();
const notices = (h: Harness, workspaceId: string) =>
  h.ctx.database.db.selectFrom('outbox').selectAll().where('workspace_id', '=', workspaceId).where('kind', '=', 'comment_notice').execute();

describeEachDialect('comments', (h) => {
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await buildWorkspace(h());
  });

  /** A commenter link on a new resource, and a grant from opening it once. */
  const openedCommenterLink = async (extra: Record<string, unknown> = {}) => {
    const link = await buildLink(ws, { access_role: 'commenter', ...extra });
    const view = await call(h(), 'GET', `/v1/shared/${link.token}`);
    expect(view.status).toBe(200);
    return { link, grant: view.body.grant as string };
  };

  it('a commenter link posts a comment (201, trimmed) and lists it, oldest first', async () => {
    const { link, grant } = await openedCommenterLink();
    const first = await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { grant, body: { body: '  Looks right to me.  ', author_name: ' Ana ' } });
    expect(first.status).toBe(201);
    expect(first.body.comment).toMatchObject({ body: 'Looks right to me.', author_name: 'Ana', author_verified: false, record_id: link.resource_id });
    expect(first.body.comment.id).toMatch(/^cmt_/);
    expect(first.body.grant).toBe(grant);
    const second = await call(h(), 'POST', `/v1/shared/${link.short_code}/comments`, { grant, body: { body: 'Line one\r\nline two', author_name: '' } });
    expect(second.status).toBe(201);
    expect(second.body.comment).toMatchObject({ body: 'Line one\nline two', author_name: null });

    const list = await call(h(), 'GET', `/v1/shared/${link.token}/comments`, { grant });
    expect(list.status).toBe(200);
    expect(list.body.items.map((c: any) => c.body)).toEqual(['Looks right to me.', 'Line one\nline two']);
    expect(list.body.next_cursor).toBeNull();
    expect(Object.keys(list.body.items[0]).sort()).toEqual(['author_name', 'author_verified', 'body', 'created_at', 'id', 'record_id']);
    // The link's record id asks for the same comments.
    const same = await call(h(), 'GET', `/v1/shared/${link.token}/comments?record_id=${encodeURIComponent(link.resource_id)}`, { grant });
    expect(same.body.items).toHaveLength(2);
    // An editor link takes comments too.
    const editor = await buildLink(ws, { access_role: 'editor' });
    expect((await call(h(), 'POST', `/v1/shared/${editor.token}/comments`, { body: { body: 'From an editor' } })).status).toBe(201);
  });

  it('a viewer link refuses comments (403 forbidden) and writes access_denied, reading or posting', async () => {
    const link = await buildLink(ws);
    const post = await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { body: { body: 'Hello' } });
    expect(post.status).toBe(403);
    expect(post.body).toEqual({ error: 'This share link does not allow that', reason: 'forbidden' });
    const list = await call(h(), 'GET', `/v1/shared/${link.token}/comments`);
    expect(list.status).toBe(403);
    expect(list.body.reason).toBe('forbidden');
    const events = await linkEvents(h(), link.id);
    expect(events.map((e) => [e.type, e.reason])).toEqual([
      ['created', null],
      ['access_denied', 'forbidden'],
      ['access_denied', 'forbidden'],
    ]);
    expect(events[1].metadata).toEqual({ action: 'comment' });
    expect(await commentRows(h(), link.id)).toEqual([]);
    expect((await linkRow(h(), link.id)).view_count).toBe(0);
  });

  it('without a grant a comment counts one view and returns a grant; with it, none', async () => {
    const link = await buildLink(ws, { access_role: 'commenter', max_views: 1 });
    const first = await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { body: { body: 'First' } });
    expect(first.status).toBe(201);
    expect(first.body.grant).toMatch(/^g1\./);
    expect(first.headers['x-porthole-grant']).toBe(first.body.grant);
    expect(first.body.grant_expires_at).toEqual(expect.any(String));
    expect((await linkRow(h(), link.id)).view_count).toBe(1);

    const grant = first.body.grant;
    for (const text of ['Second', 'Third']) expect((await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { grant, body: { body: text } })).status).toBe(201);
    expect((await call(h(), 'GET', `/v1/shared/${link.token}/comments`, { grant })).body.items).toHaveLength(3);
    expect((await linkRow(h(), link.id)).view_count).toBe(1);
    // The view limit is spent: without the grant, a comment is refused like a view.
    const refused = await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { body: { body: 'Fourth' } });
    expect(refused.status).toBe(410);
    expect(refused.body.reason).toBe('max_views_reached');
    expect(await commentRows(h(), link.id)).toHaveLength(3);
    // A listing without a grant also counts a view, on a link with room for one.
    const other = await buildLink(ws, { access_role: 'commenter' });
    const list = await call(h(), 'GET', `/v1/shared/${other.token}/comments`);
    expect(list.status).toBe(200);
    expect(list.body.grant).toMatch(/^g1\./);
    expect((await linkRow(h(), other.id)).view_count).toBe(1);
  });

  it('writes a commented event into the chain (IP per policy, no text, no grant) and verifyAudit stays clean', async () => {
    const { link, grant } = await openedCommenterLink();
    const res = await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { grant, body: { body: 'A secret remark 42' } });
    expect(res.status).toBe(201);
    const events = await linkEvents(h(), link.id);
    expect(events.map((e) => e.type)).toEqual(['created', 'viewed', 'commented']);
    const commented = events[2];
    expect(commented.metadata).toEqual({ comment_id: res.body.comment.id, record_id: link.resource_id });
    expect(commented.ip).toBe('203.0.113.0');
    expect(commented.user_agent).toBe(UA);
    expect(commented.actor).toBeNull();
    expect(commented.prev_hash).toBe(events[1].hash);
    const stored = JSON.stringify(events);
    expect(stored).not.toContain('secret remark');
    expect(stored).not.toContain(grant);
    expect(stored).not.toContain(link.token);
    const report = await verifyAudit(h().ctx, { linkId: link.id });
    expect(report.breaks).toEqual([]);
    expect(report.events).toBe(3);
  });

  it('a grant with a proven address makes it the actor and the author, shown to the workspace only', async () => {
    const link = await buildLink(ws, { access_role: 'commenter', requires_auth: true, allowed_emails: ['ana@example.test'] });
    expect((await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { body: { body: 'No proof' } })).body.reason).toBe('auth_required');
    const grant = issueGrant(h().ctx.box, { linkId: link.id, epoch: 0, expiresAt: h().ctx.now() + 600_000, passwordUnlocked: false, email: 'ana@example.test' });
    const res = await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { grant, body: { body: 'Proven' } });
    expect(res.status).toBe(201);
    expect(res.body.comment.author_verified).toBe(true);
    expect(res.text).not.toContain('ana@example.test');
    const commented = (await linkEvents(h(), link.id)).at(-1);
    expect([commented?.type, commented?.actor, commented?.email]).toEqual(['commented', 'email:ana@example.test', 'ana@example.test']);
    const managed = await ws.api('GET', `/v1/links/${link.id}/comments`);
    expect(managed.body.items[0]).toMatchObject({ author_email: 'ana@example.test', author_verified: true, body: 'Proven' });
  });

  it('the comment, its event and its notice land together or not at all', async () => {
    const owner = await signIn(h(), ws.email);
    const r = await buildResource(ws);
    const link = (await owner.send('POST', '/v1/links', { resource_type: r.type, resource_id: r.id, access_role: 'commenter' })).body;
    const grant = (await call(h(), 'GET', `/v1/shared/${link.token}`)).body.grant;
    const restore = await failEventsOf(h(), link.id);
    try {
      expect((await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { grant, body: { body: 'Lost' } })).status).toBe(500);
    } finally {
      await restore();
    }
    expect(await commentRows(h(), link.id)).toEqual([]);
    expect((await notices(h(), ws.workspaceId)).filter((n) => n.body_text.includes('Lost'))).toEqual([]);
    expect((await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { grant, body: { body: 'Kept' } })).status).toBe(201);
    expect((await verifyAudit(h().ctx, { linkId: link.id })).breaks).toEqual([]);
  });

  it('mails the member who created the link, quoting the comment, never its secrets; key-made links mail nobody', async () => {
    const own = await buildWorkspace(h());
    const owner = await signIn(h(), own.email);
    const r = await buildResource(own, { title: 'Quarterly report' });
    const created = await owner.send('POST', '/v1/links', { resource_type: r.type, resource_id: r.id, access_role: 'commenter', label: 'For the auditors' });
    expect(created.status).toBe(201);
    const link = created.body;
    expect((await linkRow(h(), link.id)).created_by).toMatch(/^user:/);
    const res = await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { body: { body: 'Page 3 is wrong.\nSee the totals.', author_name: 'Bo' } });
    expect(res.status).toBe(201);
    const mails = await notices(h(), own.workspaceId);
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail.to_address).toBe(own.email);
    expect(mail.subject).toBe('New comment on “For the auditors”');
    expect(mail.body_text).toContain('Bo commented through your share link “For the auditors” (Quarterly report):');
    expect(mail.body_text).toContain('> Page 3 is wrong.\n> See the totals.');
    expect(mail.body_text).toContain(link.id);
    for (const secret of [link.token, link.short_code, res.body.grant]) {
      expect(mail.body_text).not.toContain(secret);
      expect(mail.subject).not.toContain(secret);
    }

    const byKey = await buildWorkspace(h());
    const keyLink = await buildLink(byKey, { access_role: 'commenter' });
    expect((await linkRow(h(), keyLink.id)).created_by).toMatch(/^key:/);
    expect((await call(h(), 'POST', `/v1/shared/${keyLink.token}/comments`, { body: { body: 'Nobody hears this' } })).status).toBe(201);
    expect(await notices(h(), byKey.workspaceId)).toEqual([]);
  });

  it('on a collection: the list as a whole, or a row inside the filter; a row outside is 404 and burns nothing', async () => {
    const type = `task${Date.now().toString(36)}`;
    await buildResource(ws, { type, id: 'in-1', title: 'Inside', fields: { team: 'red' } });
    await buildResource(ws, { type, id: 'out-1', title: 'Outside', fields: { team: 'blue' } });
    const link = await buildLink(ws, { resource_type: type, resource_id: null, filter: { team: 'red' }, access_role: 'commenter' });
    const outside = await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { body: { body: 'Sneaky', record_id: 'out-1' } });
    expect(outside.status).toBe(404);
    expect(outside.body).toEqual({ error: 'This record is not part of this share link', reason: 'not_found' });
    for (const id of ['missing', 'in-1%00']) {
      const unknown = await call(h(), 'GET', `/v1/shared/${link.token}/comments?record_id=${id}`);
      expect(unknown.status).toBe(404);
    }
    expect((await linkRow(h(), link.id)).view_count).toBe(0);
    expect((await linkEvents(h(), link.id)).map((e) => e.type)).toEqual(['created']);

    const onList = await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { body: { body: 'On the list' } });
    expect(onList.status).toBe(201);
    expect(onList.body.comment.record_id).toBeNull();
    const grant = onList.body.grant;
    const onRow = await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { grant, body: { body: 'On a row', record_id: 'in-1' } });
    expect(onRow.status).toBe(201);
    expect(onRow.body.comment.record_id).toBe('in-1');
    expect((await linkEvents(h(), link.id)).at(-1)?.metadata).toEqual({ comment_id: onRow.body.comment.id, record_id: 'in-1' });

    const all = await call(h(), 'GET', `/v1/shared/${link.token}/comments`, { grant });
    expect(all.body.items.map((c: any) => [c.body, c.record_id])).toEqual([
      ['On the list', null],
      ['On a row', 'in-1'],
    ]);
    const row = await call(h(), 'GET', `/v1/shared/${link.token}/comments?record_id=in-1`, { grant });
    expect(row.body.items.map((c: any) => c.body)).toEqual(['On a row']);
    expect((await commentRows(h(), link.id)).map((c) => c.resource_id)).toEqual(['/', 'in-1']);

    // A single-resource link takes comments on its own resource only.
    const single = await buildLink(ws, { access_role: 'commenter' });
    const elsewhere = await call(h(), 'POST', `/v1/shared/${single.token}/comments`, { body: { body: 'Elsewhere', record_id: 'in-1' } });
    expect(elsewhere.status).toBe(404);
    expect((await linkRow(h(), single.id)).view_count).toBe(0);
  });

  it('answers malformed requests with 4xx {error, reason}, never a 500, and counts nothing', async () => {
    const link = await buildLink(ws, { access_role: 'commenter' });
    const other = await buildLink(ws, { access_role: 'commenter' });
    const otherCursor = await (async () => {
      const g = (await call(h(), 'GET', `/v1/shared/${other.token}`)).body.grant;
      for (let i = 0; i < 51; i++) {
        await insertComment(h().ctx.database.db, { id: `cmt_x${i.toString().padStart(3, '0')}`, workspaceId: ws.workspaceId, linkId: other.id, resourceType: other.resource_type, recordId: other.resource_id, authorEmail: null, authorName: null, body: `c${i}`, createdAt: 1_000 + i });
      }
      return (await call(h(), 'GET', `/v1/shared/${other.token}/comments`, { grant: g })).body.next_cursor as string;
    })();
    expect(otherCursor).toEqual(expect.any(String));
    const url = `/v1/shared/${link.token}/comments`;
    const cases: Array<[string, Parameters<typeof call>[3], number, string, string?]> = [
      ['POST', { body: { body: '' } }, 400, 'invalid_request', 'body'],
      ['POST', { body: { body: ' \n\t ' } }, 400, 'invalid_request', 'body'],
      ['POST', { body: { body: 'x'.repeat(5001) } }, 400, 'invalid_request', 'body'],
      ['POST', { body: { body: 'x'.repeat(20_001) } }, 400, 'invalid_request', 'body'],
      ['POST', { body: { body: 5 } }, 400, 'invalid_request', 'body'],
      ['POST', { body: { body: ['a'] } }, 400, 'invalid_request', 'body'],
      ['POST', { body: { body: 'nul \u0000 inside' } }, 400, 'invalid_request', 'body'],
      ['POST', { body: {} }, 400, 'invalid_request', 'body'],
      ['POST', { body: { body: 'ok', extra: 1 } }, 400, 'invalid_request', 'extra'],
      ['POST', { body: { body: 'ok', author_name: 'n'.repeat(101) } }, 400, 'invalid_request', 'author_name'],
      ['POST', { body: { body: 'ok', author_name: 'two\nlines' } }, 400, 'invalid_request', 'author_name'],
      ['POST', { body: { body: 'ok', author_name: 7 } }, 400, 'invalid_request', 'author_name'],
      ['POST', { body: { body: 'ok', record_id: 'a/b' } }, 400, 'invalid_request', 'record_id'],
      ['POST', { body: { body: 'ok', record_id: '' } }, 400, 'invalid_request', 'record_id'],
      ['POST', { body: 'a string' }, 400, 'invalid_request'],
      ['POST', { body: null }, 400, 'invalid_request'],
      ['POST', { raw: '{"body":' }, 400, 'invalid_json'],
      ['POST', { raw: 'body=hi', contentType: 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type'],
      ['GET', {}, 400, 'invalid_cursor'],
    ];
    for (const [method, opts, status, reason, field] of cases) {
      const target = method === 'GET' ? `${url}?cursor=bm90LWEtY3Vyc29y` : url;
      const res = await call(h(), method as InjectOptions['method'], target, opts);
      expect({ case: opts, status: res.status, reason: res.body?.reason }).toEqual({ case: opts, status, reason });
      expect(typeof res.body.error).toBe('string');
      if (field) expect(res.body.field).toBe(field);
    }
    for (const q of ['cursor=', 'cursor=%00', `cursor=${'a'.repeat(600)}`, `cursor=${otherCursor}`, 'limit=5', 'record_id=a%20b']) {
      const res = await call(h(), 'GET', `${url}?${q}`);
      expect({ q, status: res.status }).toEqual({ q, status: 400 });
      expect(res.body.reason).toMatch(/^invalid_(cursor|request)$/);
    }
    expect((await call(h(), 'GET', `${url}?cursor=${otherCursor}`)).body.reason).toBe('invalid_cursor');
    for (const bad of ['abc', 'x'.repeat(44), '%00']) {
      const res = await call(h(), 'POST', `/v1/shared/${bad}/comments`, { body: { body: 'hi' } });
      expect(res.status).toBe(400);
      expect(res.body.reason).toBe('invalid_token');
    }
    expect((await call(h(), 'POST', `/v1/shared/${'A'.repeat(43)}/comments`, { body: { body: 'hi' } })).status).toBe(404);
    expect((await linkRow(h(), link.id)).view_count).toBe(0);
    expect(await commentRows(h(), link.id)).toEqual([]);
  });

  it('pages the public listing 50 at a time, oldest first, to the end', async () => {
    const { link, grant } = await openedCommenterLink();
    for (let i = 0; i < 53; i++) {
      await insertComment(h().ctx.database.db, { id: `cmt_p${i.toString().padStart(3, '0')}`, workspaceId: ws.workspaceId, linkId: link.id, resourceType: link.resource_type, recordId: link.resource_id, authorEmail: null, authorName: null, body: `n${i}`, createdAt: 5_000 + Math.floor(i / 2) });
    }
    const first = await call(h(), 'GET', `/v1/shared/${link.token}/comments`, { grant });
    expect(first.body.items).toHaveLength(50);
    expect(first.body.items[0].body).toBe('n0');
    const second = await call(h(), 'GET', `/v1/shared/${link.token}/comments?cursor=${encodeURIComponent(first.body.next_cursor)}`, { grant });
    expect(second.body.items.map((c: any) => c.body)).toEqual(['n50', 'n51', 'n52']);
    expect(second.body.next_cursor).toBeNull();
    expect((await linkRow(h(), link.id)).view_count).toBe(1);
  });

  it('limits posts per link and client: 429 rate_limited with Retry-After', async () => {
    const { link, grant } = await openedCommenterLink();
    for (let i = 0; i < 20; i++) {
      const res = await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { grant, ip: '198.51.100.9', body: { body: `n${i}` } });
      expect(res.status).toBe(201);
    }
    const limited = await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { grant, ip: '198.51.100.9', body: { body: 'one too many' } });
    expect(limited.status).toBe(429);
    expect(limited.body.reason).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Reading goes on; another client, or another link, may still post.
    expect((await call(h(), 'GET', `/v1/shared/${link.token}/comments`, { grant, ip: '198.51.100.9' })).status).toBe(200);
    expect((await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { grant, ip: '198.51.100.10', body: { body: 'other client' } })).status).toBe(201);
    const other = await buildLink(ws, { access_role: 'commenter' });
    expect((await call(h(), 'POST', `/v1/shared/${other.token}/comments`, { ip: '198.51.100.9', body: { body: 'other link' } })).status).toBe(201);
    expect(await commentRows(h(), link.id)).toHaveLength(21);
    // After the window, the client may post again.
    h().advance(10 * 60_000 + 1_000);
    const fresh = (await call(h(), 'GET', `/v1/shared/${link.token}`, { ip: '198.51.100.9' })).body.grant;
    expect((await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { grant: fresh, ip: '198.51.100.9', body: { body: 'later' } })).status).toBe(201);
  });

  it('management: lists a link’s comments with cursor paging; another workspace gets 404', async () => {
    const { link, grant } = await openedCommenterLink();
    for (let i = 0; i < 3; i++) expect((await call(h(), 'POST', `/v1/shared/${link.token}/comments`, { grant, ip: `192.0.2.${i + 1}`, body: { body: `m${i}`, author_name: `Author ${i}` } })).status).toBe(201);
    const page1 = await ws.api('GET', `/v1/links/${link.id}/comments?limit=2`);
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((c: any) => c.body)).toEqual(['m0', 'm1']);
    expect(page1.body.items[0]).toMatchObject({ link_id: link.id, resource_type: link.resource_type, record_id: link.resource_id, author_name: 'Author 0', author_email: null, author_verified: false });
    const page2 = await ws.api('GET', `/v1/links/${link.id}/comments?limit=2&cursor=${encodeURIComponent(page1.body.next_cursor)}`);
    expect(page2.body.items.map((c: any) => c.body)).toEqual(['m2']);
    expect(page2.body.next_cursor).toBeNull();

    const stranger = await buildWorkspace(h());
    const strangerSession = await signIn(h(), stranger.email);
    for (const foreign of [await stranger.api('GET', `/v1/links/${link.id}/comments`), await strangerSession.send('GET', `/v1/links/${link.id}/comments`)]) {
      expect(foreign.status).toBe(404);
      expect(foreign.body.reason).toBe('not_found');
    }
    // The workspace's own members read them signed in, too.
    expect((await (await signIn(h(), ws.email)).send('GET', `/v1/links/${link.id}/comments`)).body.items).toHaveLength(3);
    expect((await ws.api('GET', '/v1/links/lnk_nope/comments')).status).toBe(404);
    expect((await send(h().app, 'GET', `/v1/links/${link.id}/comments`)).status).toBe(401);
    for (const q of ['cursor=garbage!', 'limit=0', 'limit=201', 'what=1']) {
      const res = await ws.api('GET', `/v1/links/${link.id}/comments?${q}`);
      expect({ q, status: res.status }).toEqual({ q, status: 400 });
      expect(res.body.reason).toMatch(/^invalid_(cursor|request)$/);
    }
    const otherLink = await buildLink(ws, { access_role: 'commenter' });
    expect((await ws.api('GET', `/v1/links/${otherLink.id}/comments?cursor=${encodeURIComponent(page1.body.next_cursor)}`)).body.reason).toBe('invalid_cursor');
  });

  it('nothing returns 500 on the comment routes, JSON or pages, whatever the body, query or headers', async () => {
    const link = await buildLink(ws, { access_role: 'commenter' });
    const collection = await buildLink(ws, { resource_type: 'job', resource_id: null, access_role: 'commenter' });
    const grant = (await call(h(), 'GET', `/v1/shared/${link.token}`)).body.grant;
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.constantFrom('', ' ', '\u0000', '<script>', 'x'.repeat(5001), '\ud800'));
    const jsonBody = fc.oneof(
      fc.record({ body: fc.oneof(text, fc.jsonValue()), author_name: fc.option(fc.oneof(text, fc.jsonValue())), record_id: fc.option(fc.oneof(text, fc.jsonValue())) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)),
      fc.json(),
      fc.string({ maxLength: 40 }),
    );
    const formBody = fc.dictionary(fc.constantFrom('body', 'author_name', 'record_id', 'x'), text, { maxKeys: 4 }).map((f) => new URLSearchParams(f).toString());
    const query = fc.oneof(
      fc.constant(''),
      fc.dictionary(fc.constantFrom('cursor', 'record_id', 'comments', 'limit'), fc.string({ unit: 'binary', maxLength: 60 }), { maxKeys: 2 }).map((q) => `?${new URLSearchParams(q)}`),
    );
    const target = fc.constantFrom(link.token, link.short_code, collection.token, 'not-a-token');
    const surface = fc.constantFrom('/v1/shared/', '/shared/', '/s/');
    const method = fc.constantFrom<'GET' | 'POST'>('GET', 'POST', 'POST');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(surface, method, target, query, fc.oneof(jsonBody, formBody), fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'), fc.boolean(), async (p, m, id, q, payload, type, withGrant) => {
        const url = `${p}${id}/comments${q}`;
        const res = await h().app.inject({
          method: m,
          url,
          remoteAddress: `10.9.${Math.floor(n / 200)}.${n++ % 200}`,
          headers: { 'content-type': type, ...(withGrant ? { 'x-porthole-grant': grant, cookie: `porthole_grant=${grant}` } : {}) },
          ...(m === 'POST' ? { payload } : {}),
        });
        expect(res.statusCode, `${m} ${url} ${payload}`).toBeLessThan(500);
        if (res.statusCode >= 400) {
          if (p === '/v1/shared/') expect(JSON.parse(res.body)).toMatchObject({ error: expect.any(String), reason: expect.any(String) });
          else expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('documents the routes in /openapi.json', async () => {
    const doc = (await send(h().app, 'GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths['/v1/shared/{id}/comments']).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/v1/shared/{id}/comments'].post.requestBody.content['application/json'].schema.required).toEqual(['body']);
    expect(doc.paths['/v1/links/{id}/comments'].get).toBeDefined();
  });

  it('pages with JavaScript off: the form posts over real HTTP, 303 back, the comment shows escaped', async () => {
    const base = await listening(h().app);
    const link = await buildLink(ws, { access_role: 'commenter' });
    const open = await fetch(`${base}/shared/${link.token}`, { redirect: 'manual' });
    expect(open.status).toBe(200);
    const cookie = open.headers.get('set-cookie')?.split(';')[0] as string;
    expect(cookie).toMatch(/^porthole_grant=/);
    const html = await open.text();
    expect(html).toContain('<h2 id="comments-heading">Comments</h2>');
    expect(html).toContain('No comments yet.');
    expect(html).toContain(`<form class="form comment-form" action="/shared/${link.token}/comments" method="post">`);
    expect(html).toContain('<textarea id="comment-body" name="body" required="" rows="4" maxLength="5000"></textarea>');
    expect(html).not.toContain('name="record_id"');

    const body = new URLSearchParams({ body: '<script>alert("x")</script>\r\nSecond & last line', author_name: '<b>Eve</b>' }).toString();
    const posted = await fetch(`${base}/shared/${link.token}/comments`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe(`/shared/${link.token}#comments`);
    expect(posted.headers.get('set-cookie')).toBeNull();
    const back = await fetch(`${base}${posted.headers.get('location')}`, { headers: { cookie } });
    const page = await back.text();
    expect(back.status).toBe(200);
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;\nSecond &amp; last line');
    expect(page).toContain('<span class="comment-author">&lt;b&gt;Eve&lt;/b&gt;</span>');
    expect(page).not.toContain('<script>');
    expect(page).not.toContain('<b>Eve');
    expect(page).toMatch(/<time dateTime="\d{4}-\d\d-\d\dT[\d:.]+Z">[^<]+ UTC<\/time>/);
    expect((await linkRow(h(), link.id)).view_count).toBe(1);

    // The short code's pages take the form too; a post without a cookie counts a view and sets one.
    const viaCode = await fetch(`${base}/s/${link.short_code}/comments`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'body=From+the+short+link' });
    expect(viaCode.status).toBe(303);
    expect(viaCode.headers.get('location')).toBe(`/s/${link.short_code}#comments`);
    const codeCookie = viaCode.headers.get('set-cookie') ?? '';
    expect(codeCookie).toMatch(/^porthole_grant=/);
    expect(codeCookie).toContain(`Path=/s/${link.short_code};`);
    expect((await linkRow(h(), link.id)).view_count).toBe(2);
    expect((await commentRows(h(), link.id)).map((c) => c.body)).toEqual(['<script>alert("x")</script>\nSecond & last line', 'From the short link']);

    // A reload of the form's address goes back to the page.
    const reload = await fetch(`${base}/shared/${link.token}/comments`, { redirect: 'manual' });
    expect([reload.status, reload.headers.get('location')]).toEqual([303, `/shared/${link.token}`]);
    // A bad form is a refusal page, not JSON and not a 500.
    const empty = await fetch(`${base}/shared/${link.token}/comments`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: 'body=+++' });
    expect(empty.status).toBe(400);
    expect(empty.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await empty.text()).toContain(`href="/shared/${link.token}"`);
  });

  it('pages: a viewer link shows no comments and refuses the form with a page', async () => {
    const link = await buildLink(ws);
    const page = await h().app.inject({ method: 'GET', url: `/shared/${link.token}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('Comments');
    expect(page.body).not.toContain('comment-form');
    const posted = await h().app.inject({ method: 'POST', url: `/shared/${link.token}/comments`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'body=hello' });
    expect(posted.statusCode).toBe(403);
    expect(posted.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(posted.body).toContain('That isn’t allowed');
    expect(await commentRows(h(), link.id)).toEqual([]);
  });

  it('pages: a collection shows comments on the list; an opened row has its own, posted with its record id', async () => {
    const type = `item${Date.now().toString(36)}`;
    await buildResource(ws, { type, id: 'row-1', title: 'Row one' });
    const link = await buildLink(ws, { resource_type: type, resource_id: null, access_role: 'commenter', settings: { allow_open_records: true } });
    const form = (url: string, cookie: string | undefined, payload: string) =>
      h().app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) }, payload });
    const list = await form(`/shared/${link.token}/comments`, undefined, 'body=About+the+whole+list');
    expect(list.statusCode).toBe(303);
    expect(list.headers.location).toBe(`/shared/${link.token}#comments`);
    const cookie = String(list.headers['set-cookie']).split(';')[0];
    const onRow = await form(`/shared/${link.token}/comments`, cookie, 'body=About+row+one&record_id=row-1&author_name=');
    expect(onRow.statusCode).toBe(303);
    expect(onRow.headers.location).toBe(`/shared/${link.token}/records/row-1#comments`);

    const collection = await h().app.inject({ method: 'GET', url: `/shared/${link.token}`, headers: { cookie } });
    expect(collection.body).toContain('About the whole list');
    expect(collection.body).not.toContain('About row one');
    expect(collection.body).not.toContain('name="record_id"');
    const record = await h().app.inject({ method: 'GET', url: `/shared/${link.token}/records/row-1`, headers: { cookie } });
    expect(record.statusCode).toBe(200);
    expect(record.body).toContain('About row one');
    expect(record.body).not.toContain('About the whole list');
    expect(record.body).toContain('<input type="hidden" name="record_id" value="row-1"/>');
    expect(record.body).toContain('Anonymous');
    const outside = await form(`/shared/${link.token}/comments`, cookie, 'body=Nope&record_id=row-2');
    expect(outside.statusCode).toBe(404);
    expect(outside.body).toContain('We couldn’t find that here');
    expect((await linkRow(h(), link.id)).view_count).toBe(1);
  });
});
