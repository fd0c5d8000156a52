import { expect, it } from 'vitest';
import { buildLink, buildResource, buildWorkspace } from './helpers/factories.js';
import { describeEachDialect } from './helpers/harness.js';

describeEachDialect('links', (h) => {
  it('creates a link with policy defaults and url built from PUBLIC_URL', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const res = await ws.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id });
    expect(res.status).toBe(201);
    expect(res.body.url).toMatch(/^http:\/\/porthole\.test\/shared\/[A-Za-z0-9_-]{43}$/);
    expect(res.body.short_url).toMatch(/^http:\/\/porthole\.test\/s\/[A-Za-z0-9]{8}$/);
    expect(res.body.status).toBe('active');
    expect(res.body.access_role).toBe('viewer');
    const days = (Date.parse(res.body.expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThan(7.01);
    expect(res.body.settings).toEqual({ fields: 'default', allow_export: true, allow_open_records: false, display_toolbar: true, notify_on_view: false });
  });

  it('reuses the caller\'s active link with 200', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws);
    const first = await ws.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id, reuse_active: true });
    const second = await ws.api('POST', '/v1/links', { resource_type: r.type, resource_id: r.id, reuse_active: true });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
  });

  it('revokes and rotates', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    const rotated = await ws.api('POST', `/v1/links/${link.id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.token).not.toBe(link.token);
    const revoked = await ws.api('DELETE', `/v1/links/${link.id}`);
    expect(revoked.body.status).toBe('revoked');
  });
});
