import { expect, it } from 'vitest';
import { sha256 } from '../src/domain/tokens.js';
import { buildApiKey, buildLink, buildMember, buildResource, buildWorkspace } from './helpers/factories.js';
import { describeEachDialect } from './helpers/harness.js';

const KEY_FIELDS = ['created_at', 'created_by', 'id', 'last_used_at', 'name', 'prefix', 'revoked_at', 'role'];

describeEachDialect('api keys', (h) => {
  it('creates a key: 201 with the full key shown once, a member key by default', async () => {
    const ws = await buildWorkspace(h());
    const res = await ws.api('POST', '/v1/api-keys', { name: 'CI pipeline' });
    expect(res.status).toBe(201);
    expect(res.body.key).toMatch(/^phk_[A-Za-z0-9_-]{43}$/);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^key_/),
      name: 'CI pipeline',
      role: 'member',
      prefix: res.body.key.slice(0, 12),
      created_by: expect.stringMatching(/^key:key_/),
      last_used_at: null,
      revoked_at: null,
    });
    const fresh = await buildApiKey(h(), ws, { role: 'member' });
    expect((await fresh.api('GET', '/v1/links')).status).toBe(200);
  });

  it('lists keys by prefix, never the key or its hash', async () => {
    const ws = await buildWorkspace(h());
    const created = await buildApiKey(h(), ws, { name: 'Listed', role: 'admin' });
    const res = await ws.api('GET', '/v1/api-keys');
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(2);
    for (const item of res.body.items) expect(Object.keys(item).sort()).toEqual(KEY_FIELDS);
    expect(res.body.items[0]).toMatchObject({ id: created.id, name: 'Listed', role: 'admin', prefix: created.key.slice(0, 12) });
    expect(res.text).not.toContain(created.key);
    expect(res.text).not.toContain(sha256(created.key));
    expect(res.text).not.toContain(ws.apiKey);
  });

  it('stores only the SHA-256 of a key', async () => {
    const ws = await buildWorkspace(h());
    const created = await buildApiKey(h(), ws);
    const row = await h().ctx.database.db.selectFrom('api_keys').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(sha256(created.key));
    expect(Object.values(row).map(String)).not.toContain(created.key);
  });

  it('records when a key was last used', async () => {
    const ws = await buildWorkspace(h());
    const created = await buildApiKey(h(), ws);
    const before = await ws.api('GET', '/v1/api-keys');
    expect(before.body.items.find((k: any) => k.id === created.id).last_used_at).toBeNull();
    expect((await created.api('GET', '/v1/links')).status).toBe(200);
    const after = await ws.api('GET', '/v1/api-keys');
    const used = after.body.items.find((k: any) => k.id === created.id).last_used_at;
    expect(used).not.toBeNull();
    expect(Math.abs(Date.parse(used) - h().ctx.now())).toBeLessThan(60_000);
  });

  it('revokes a key: it then gets 401 unauthenticated; revoking again changes nothing', async () => {
    const ws = await buildWorkspace(h());
    const created = await buildApiKey(h(), ws, { role: 'admin' });
    expect((await created.api('GET', '/v1/links')).status).toBe(200);
    const revoked = await ws.api('DELETE', `/v1/api-keys/${created.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.id).toBe(created.id);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));
    const refused = await created.api('GET', '/v1/links');
    expect(refused.status).toBe(401);
    expect(refused.body.reason).toBe('unauthenticated');
    const again = await ws.api('DELETE', `/v1/api-keys/${created.id}`);
    expect(again.status).toBe(200);
    expect(again.body.revoked_at).toBe(revoked.body.revoked_at);
    const listed = await ws.api('GET', '/v1/api-keys');
    expect(listed.body.items.find((k: any) => k.id === created.id).revoked_at).toBe(revoked.body.revoked_at);
    const events = await h().ctx.database.db.selectFrom('events').selectAll().where('workspace_id', '=', ws.workspaceId).where('type', '=', 'revoked').execute();
    expect(events.map((e) => JSON.parse(e.metadata))).toEqual([{ object: 'api_key', key_id: created.id }]);
  });

  it('a key may revoke itself', async () => {
    const ws = await buildWorkspace(h());
    const created = await buildApiKey(h(), ws, { role: 'admin' });
    expect((await created.api('DELETE', `/v1/api-keys/${created.id}`)).status).toBe(200);
    expect((await created.api('GET', '/v1/api-keys')).status).toBe(401);
  });

  it('records X-Porthole-Actor as created_by app:<actor> on a link', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const res = await ws.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id }, { 'x-porthole-actor': 'alice@app.example' });
    expect(res.status).toBe(201);
    expect(res.body.created_by).toBe('app:alice@app.example');
    const event = await h().ctx.database.db.selectFrom('events').selectAll().where('link_id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(event.actor).toBe('app:alice@app.example');
    const plain = await buildLink(ws, { resource_type: r.type, resource_id: r.id });
    expect(plain.created_by).toMatch(/^key:key_/);
    const bad = await ws.api('GET', '/v1/links', undefined, { 'x-porthole-actor': 'has spaces in it' });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('X-Porthole-Actor');
  });

  it('members (session or member key) may not manage keys: 403 forbidden, but may still share', async () => {
    const ws = await buildWorkspace(h());
    const m = await buildMember(h(), ws, { role: 'member' });
    const memberKey = await buildApiKey(h(), ws, { role: 'member' });
    const adminKeyId = (await ws.api('GET', '/v1/api-keys')).body.items.find((k: any) => k.role === 'admin').id;
    for (const [method, url, body] of [
      ['GET', '/v1/api-keys', undefined],
      ['POST', '/v1/api-keys', { name: 'mine' }],
      ['DELETE', `/v1/api-keys/${adminKeyId}`, undefined],
    ] as const) {
      for (const res of [await m.session.send(method, url, body), await memberKey.api(method, url, body)]) {
        expect(res.status, `${method} ${url}`).toBe(403);
        expect(res.body.reason).toBe('forbidden');
      }
    }
    expect((await ws.api('GET', '/v1/links')).status).toBe(200);
    const r = await buildResource(ws);
    expect((await memberKey.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id })).status).toBe(201);
  });

  it('an admin may create admin keys; no key is ever an owner', async () => {
    const ws = await buildWorkspace(h());
    const admin = await ws.api('POST', '/v1/api-keys', { name: 'Admin', role: 'admin' });
    expect(admin.status).toBe(201);
    expect(admin.body.role).toBe('admin');
    const owner = await ws.api('POST', '/v1/api-keys', { name: 'Owner', role: 'owner' });
    expect(owner.status).toBe(400);
  });

  it('an unknown key id is 404 not_found', async () => {
    const ws = await buildWorkspace(h());
    const res = await ws.api('DELETE', '/v1/api-keys/key_nothing');
    expect(res.status).toBe(404);
    expect(res.body.reason).toBe('not_found');
  });

  const badInputs: Array<[string, string, unknown, string, string]> = [
    ['POST', '/v1/api-keys', '{"name": ', 'invalid_json', ''],
    ['POST', '/v1/api-keys', { name: 'x', scopes: ['all'] }, 'invalid_request', 'scopes'],
    ['POST', '/v1/api-keys', { name: 7 }, 'invalid_request', 'name'],
    ['POST', '/v1/api-keys', { name: '   ' }, 'invalid_request', 'name'],
    ['POST', '/v1/api-keys', { name: 'x'.repeat(101) }, 'invalid_request', 'name'],
    ['POST', '/v1/api-keys', { name: 'x', role: 'owner' }, 'invalid_request', 'role'],
    ['POST', '/v1/api-keys', {}, 'invalid_request', 'name'],
    ['DELETE', `/v1/api-keys/${'k'.repeat(101)}`, undefined, 'invalid_request', 'path.id'],
  ];

  it('rejects malformed JSON, unknown fields and wrong types with 400 and a field, never a 500', async () => {
    const ws = await buildWorkspace(h());
    for (const [method, url, body, reason] of badInputs) {
      const res = await ws.api(method as 'POST', url, body);
      expect(res.status, `${method} ${url} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body).toMatchObject({ error: expect.any(String), reason });
      if (reason === 'invalid_request') expect(res.body.field).toEqual(expect.any(String));
    }
    expect((await ws.api('GET', '/v1/api-keys')).body.items).toHaveLength(1);
  });

  // See test/auth.test.ts: error-handler.ts always answers field "body"/"params" until it reads `instancePath`.
  it('names the offending field of a bad API key request', async () => {
    const ws = await buildWorkspace(h());
    for (const [method, url, body, reason, field] of badInputs) {
      if (reason !== 'invalid_request') continue;
      const res = await ws.api(method as 'POST', url, body);
      expect(res.body.field, `${method} ${url} ${JSON.stringify(body)}`).toBe(field);
    }
  });
});
