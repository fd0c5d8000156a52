import { expect, it } from 'vitest';
import { buildLink, buildResource, buildWorkspace, countRows, send, type ApiResponse, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

const DAY = 86_400_000;

type Case = {
  name: string;
  /** The request; a string body is sent as is (with the content type given, JSON by default). */
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  body?: unknown;
  contentType?: string;
  status: number;
  reason: string;
  field?: string;
};

async function sendRaw(h: Harness, ws: TestWorkspace, c: Case): Promise<ApiResponse> {
  const headers: Record<string, string> = { authorization: `Bearer ${ws.apiKey}` };
  if (c.body !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
  return send(h.app, c.method, c.url, c.body, headers);
}

/** Sends each case, checks its 4xx and error body, and that nothing was written. */
async function expectRefusals(h: Harness, ws: TestWorkspace, cases: Case[]): Promise<void> {
  const before = await countRows(h, ws.workspaceId);
  for (const c of cases) {
    const res = await sendRaw(h, ws, c);
    expect(res.status, `${c.name}: ${res.text.slice(0, 300)}`).toBe(c.status);
    expect(res.body, c.name).toMatchObject({ error: expect.any(String), reason: c.reason });
    if (c.field !== undefined) expect(res.body.field, c.name).toBe(c.field);
    else if (c.reason === 'invalid_request') expect(res.body.field, c.name).toEqual(expect.any(String));
    expect(await countRows(h, ws.workspaceId), c.name).toEqual(before);
  }
}

describeEachDialect('management API bad input', (h) => {
  it('POST /v1/links: malformed, mistyped, unknown, out-of-range and oversized bodies are refused and change nothing', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const t = { resource_type: r.type, resource_id: r.id };
    const at = (days: number) => new Date(h().ctx.now() + days * DAY).toISOString();
    const post = (name: string, body: unknown, status: number, reason: string, field?: string): Case => ({ name, method: 'POST', url: '/v1/links', body, status, reason, field });
    await expectRefusals(h(), ws, [
      post('malformed JSON', '{"resource_type": "job", ', 400, 'invalid_json'),
      post('empty JSON body', '', 400, 'invalid_json'),
      post('JSON array', [], 400, 'invalid_request'),
      post('max_views "ten"', { ...t, max_views: 'ten' }, 400, 'invalid_request', 'max_views'),
      post('max_views 0', { ...t, max_views: 0 }, 400, 'invalid_request', 'max_views'),
      post('max_views -3', { ...t, max_views: -3 }, 400, 'invalid_request', 'max_views'),
      post('max_views 1.5', { ...t, max_views: 1.5 }, 400, 'invalid_request', 'max_views'),
      post('unknown field', { ...t, colour: 'red' }, 400, 'invalid_request', 'colour'),
      post('unknown settings field', { ...t, settings: { allow_everything: true } }, 400, 'invalid_request', 'settings.allow_everything'),
      post('expires_at in the past', { ...t, expires_at: at(-1) }, 400, 'invalid_request', 'expires_at'),
      post('expires_at not a date', { ...t, expires_at: 'next tuesday' }, 400, 'invalid_request', 'expires_at'),
      post('expires_in_days 0', { ...t, expires_in_days: 0 }, 400, 'invalid_request', 'expires_in_days'),
      post('expires_in_days 99999', { ...t, expires_in_days: 99999 }, 400, 'invalid_request', 'expires_in_days'),
      post('both expiry forms', { ...t, expires_in_days: 2, expires_at: at(2) }, 400, 'invalid_request', 'expires_at'),
      post('label of 600 chars', { ...t, label: 'x'.repeat(600) }, 400, 'invalid_request', 'label'),
      post('bad access_role', { ...t, access_role: 'god' }, 400, 'invalid_request', 'access_role'),
      post('bad recipient_email', { ...t, recipient_email: 'not-an-email' }, 400, 'invalid_request', 'recipient_email'),
      post('missing resource_type', { resource_id: r.id }, 400, 'invalid_request', 'resource_type'),
      post('missing resource_id', { resource_type: r.type }, 400, 'invalid_request', 'resource_id'),
      post('resource_id with a slash', { resource_type: r.type, resource_id: 'a/b' }, 400, 'invalid_request', 'resource_id'),
      post('settings.fields "some"', { ...t, settings: { fields: 'some' } }, 400, 'invalid_request', 'settings.fields'),
      post('metadata not an object', { ...t, metadata: 'x' }, 400, 'invalid_request', 'metadata'),
      post('oversized body (> 1 MB)', { ...t, metadata: { blob: 'x'.repeat(1_100_000) } }, 413, 'payload_too_large'),
      { name: 'text/plain', method: 'POST', url: '/v1/links', body: JSON.stringify(t), contentType: 'text/plain', status: 415, reason: 'unsupported_media_type' },
      { name: 'form-encoded', method: 'POST', url: '/v1/links', body: 'resource_type=job', contentType: 'application/x-www-form-urlencoded', status: 415, reason: 'unsupported_media_type' },
    ]);
  });

  it('PATCH /v1/links/{id}: bad bodies are refused and the link is unchanged', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws, { max_views: 4, label: 'steady' });
    const before = (await ws.api('GET', `/v1/links/${link.id}`)).body;
    const url = `/v1/links/${link.id}`;
    const patch = (name: string, body: unknown, status: number, reason: string, field?: string): Case => ({ name, method: 'PATCH', url, body, status, reason, field });
    await expectRefusals(h(), ws, [
      patch('malformed JSON', '{"label": ', 400, 'invalid_json'),
      patch('empty object', {}, 400, 'invalid_request'),
      patch('max_views "ten"', { max_views: 'ten' }, 400, 'invalid_request', 'max_views'),
      patch('max_views 0', { max_views: 0 }, 400, 'invalid_request', 'max_views'),
      patch('max_views -1', { max_views: -1 }, 400, 'invalid_request', 'max_views'),
      patch('unknown field', { label: 'ok', owner: 'me' }, 400, 'invalid_request', 'owner'),
      patch('target is not patchable', { resource_id: 'other' }, 400, 'invalid_request', 'resource_id'),
      patch('enabled "false"', { enabled: 'false' }, 400, 'invalid_request', 'enabled'),
      patch('expires_in_days 0', { expires_in_days: 0 }, 400, 'invalid_request', 'expires_in_days'),
      patch('expires_in_days 99999', { expires_in_days: 99999 }, 400, 'invalid_request', 'expires_in_days'),
      patch('expires_at in the past', { expires_at: new Date(h().ctx.now() - DAY).toISOString() }, 400, 'invalid_request', 'expires_at'),
      patch('label of 600 chars', { label: 'y'.repeat(600) }, 400, 'invalid_request', 'label'),
      patch('password too short', { password: 'abc' }, 400, 'invalid_request', 'password'),
      patch('oversized body', { metadata: { blob: 'x'.repeat(1_100_000) } }, 413, 'payload_too_large'),
      { name: 'text/plain', method: 'PATCH', url, body: '{"label":"x"}', contentType: 'text/plain', status: 415, reason: 'unsupported_media_type' },
    ]);
    expect((await ws.api('GET', url)).body).toEqual(before);
  });

  it('unknown link ids are 404 everywhere; bad list queries are 400', async () => {
    const ws = await buildWorkspace(h());
    await buildLink(ws);
    const missing = 'lnk_0000000000nonexistent00000';
    const get = (name: string, url: string, status: number, reason: string, field?: string): Case => ({ name, method: 'GET', url, status, reason, field });
    await expectRefusals(h(), ws, [
      get('GET unknown link', `/v1/links/${missing}`, 404, 'not_found'),
      { name: 'PATCH unknown link', method: 'PATCH', url: `/v1/links/${missing}`, body: { label: 'x' }, status: 404, reason: 'not_found' },
      { name: 'revoke unknown link', method: 'POST', url: `/v1/links/${missing}/revoke`, status: 404, reason: 'not_found' },
      { name: 'DELETE unknown link', method: 'DELETE', url: `/v1/links/${missing}`, status: 404, reason: 'not_found' },
      { name: 'rotate unknown link', method: 'POST', url: `/v1/links/${missing}/rotate`, status: 404, reason: 'not_found' },
      get('events of unknown link', `/v1/links/${missing}/events`, 404, 'not_found'),
      get('limit=100000', '/v1/links?limit=100000', 400, 'invalid_request', 'query.limit'),
      get('limit=0', '/v1/links?limit=0', 400, 'invalid_request', 'query.limit'),
      get('limit=ten', '/v1/links?limit=ten', 400, 'invalid_request', 'query.limit'),
      get('unknown status', '/v1/links?status=sleeping', 400, 'invalid_request', 'query.status'),
      get('include_revoked=yes', '/v1/links?include_revoked=yes', 400, 'invalid_request', 'query.include_revoked'),
      get('unknown query parameter', '/v1/links?colour=red', 400, 'invalid_request', 'query.colour'),
      get('resources limit=100000', '/v1/resources?limit=100000', 400, 'invalid_request', 'query.limit'),
      get('resources bad cursor', '/v1/resources?cursor=zzz', 400, 'invalid_cursor'),
      get('links bad cursor', '/v1/links?cursor=zzz', 400, 'invalid_cursor'),
    ]);
  });

  it('PUT /v1/resources and resource types: bad bodies are refused and nothing is written', async () => {
    const ws = await buildWorkspace(h());
    await buildResource(ws, { type: 'job', id: 'kept', title: 'Kept' });
    const put = (name: string, body: unknown, status: number, reason: string, field?: string, url = '/v1/resources/job/new-one'): Case => ({ name, method: 'PUT', url, body, status, reason, field });
    await expectRefusals(h(), ws, [
      put('malformed JSON', '{"title": "x"', 400, 'invalid_json'),
      put('missing title', { fields: {} }, 400, 'invalid_request', 'title'),
      put('empty title', { title: '' }, 400, 'invalid_request', 'title'),
      put('title of 600 chars', { title: 't'.repeat(600) }, 400, 'invalid_request', 'title'),
      put('nested field value', { title: 'x', fields: { owner: { name: 'ada' } } }, 400, 'invalid_request', 'fields.owner'),
      put('bad field key', { title: 'x', fields: { 'a b': 1 } }, 400, 'invalid_request'),
      put('table not a list', { title: 'x', tables: { tasks: { name: 'a' } } }, 400, 'invalid_request', 'tables.tasks'),
      put('unknown top-level key', { title: 'x', body: 'y' }, 400, 'invalid_request', 'body'),
      put('changing an existing one badly', { title: 'x'.repeat(501) }, 400, 'invalid_request', 'title', '/v1/resources/job/kept'),
      put('bad type name', { title: 'x' }, 400, 'invalid_request', undefined, '/v1/resources/bad%20type/x'),
      { name: 'text/plain', method: 'PUT', url: '/v1/resources/job/new-one', body: '{"title":"x"}', contentType: 'text/plain', status: 415, reason: 'unsupported_media_type' },
      put('bad format', { fields: [{ key: 'a', format: 'colour' }] }, 400, 'invalid_request', 'fields.0.format', '/v1/resource-types/job'),
      put('unknown key in a type', { fields: [], colour: 'red' }, 400, 'invalid_request', 'colour', '/v1/resource-types/job'),
    ]);
    // A 10 MB title fits under the resource route's body limit but not the title's length.
    const huge = await ws.api('PUT', '/v1/resources/job/huge', { title: 'h'.repeat(10 * 1024 * 1024) });
    expect(huge.status).toBeGreaterThanOrEqual(400);
    expect(huge.status).toBeLessThan(500);
    expect(huge.body).toMatchObject({ error: expect.any(String), reason: expect.any(String) });
    expect((await ws.api('GET', '/v1/resources/job/huge')).status).toBe(404);
    expect((await ws.api('GET', '/v1/resources/job/kept')).body).toMatchObject({ title: 'Kept', version: 1 });
  });
});

describeEachDialect('content types across the management API', (h) => {
  it('answers 415 for a text/plain body on every management route that takes a body', async () => {
    const ws = await buildWorkspace(h());
    for (const [method, url] of [
      ['POST', '/v1/members'],
      ['POST', '/v1/api-keys'],
      ['PATCH', '/v1/workspace'],
      ['POST', '/v1/links'],
      ['PUT', '/v1/resource-types/job'],
    ] as const) {
      const withBody = await h().app.inject({ method, url, headers: { authorization: `Bearer ${ws.apiKey}`, 'content-type': 'text/plain' }, payload: '{"a":1}' });
      expect(withBody.statusCode, `${method} ${url}`).toBe(415);
      expect(withBody.json().reason).toBe('unsupported_media_type');
    }
  });

  it('an empty body declared application/json says so, and the same POST without a Content-Type works', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const link = await buildLink(ws, { resource_type: r.type, resource_id: r.id });
    const url = `/v1/links/${link.id}/revoke`;
    const declared = await h().app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${ws.apiKey}`, 'content-type': 'application/json' }, payload: '' });
    expect(declared.statusCode).toBe(400);
    expect(declared.json()).toEqual({ reason: 'invalid_json', error: expect.stringMatching(/empty.*no Content-Type/) });
    const bare = await h().app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${ws.apiKey}` } });
    expect(bare.statusCode).toBe(200);
  });
});
