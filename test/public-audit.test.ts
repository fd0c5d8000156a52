import { beforeAll, expect, it } from 'vitest';
import { verifyAudit } from '../src/app/verify-audit.js';
import { buildLink, buildResource, buildWorkspace, send, type TestWorkspace } from './helpers/factories.js';
import { failEventsOf } from './helpers/faults.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

const UA = 'AuditTest/1.0 (+https://example.test)';
const ua = { 'user-agent': UA };

const linkEvents = async (h: Harness, linkId: string) =>
  (await h.ctx.database.db.selectFrom('events').selectAll().where('link_id', '=', linkId).orderBy('seq').execute()).map((e) => ({
    ...e,
    metadata: JSON.parse(e.metadata) as Record<string, unknown>,
  }));
const lastEvent = async (h: Harness, linkId: string) => (await linkEvents(h, linkId)).at(-1);
const countEvents = async (h: Harness) => Number((await h.ctx.database.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

describeEachDialect('public audit trail', (h) => {
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await buildWorkspace(h());
  });

  it('a view writes `viewed` and a download `downloaded`, with truncated IP, user agent and the action', async () => {
    const r = await buildResource(ws, { tables: { tasks: [{ n: 1 }] } });
    const link = await buildLink(ws, { resource_type: r.type, resource_id: r.id });
    const view = await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, ua);
    expect(view.status).toBe(200);
    const viewed = await lastEvent(h(), link.id);
    expect(viewed).toMatchObject({ type: 'viewed', reason: null, ip: '127.0.0.0', user_agent: UA, actor: null, email: null, metadata: { action: 'view' } });

    await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`, undefined, { ...ua, 'x-porthole-grant': view.body.grant });
    const downloaded = await lastEvent(h(), link.id);
    expect(downloaded).toMatchObject({ type: 'downloaded', ip: '127.0.0.0', user_agent: UA, metadata: { action: 'export' } });
    // The counters and the trail agree.
    const l = (await ws.api('GET', `/v1/links/${link.id}`)).body;
    const types = (await linkEvents(h(), link.id)).map((e) => e.type);
    expect(types).toEqual(['created', 'viewed', 'downloaded']);
    expect([l.view_count, l.download_count]).toEqual([1, 1]);
  });

  it('every denial of an existing link writes access_denied with its reason (expired writes `expired`)', async () => {
    const scenarios: Array<{ reason: string; status: number; make: () => Promise<{ link: any; path?: string; method?: 'GET' | 'POST'; body?: unknown }> }> = [
      {
        reason: 'revoked',
        status: 410,
        make: async () => {
          const link = await buildLink(ws);
          await ws.api('POST', `/v1/links/${link.id}/revoke`);
          return { link };
        },
      },
      {
        reason: 'disabled',
        status: 403,
        make: async () => {
          const link = await buildLink(ws);
          await ws.api('PATCH', `/v1/links/${link.id}`, { enabled: false });
          return { link };
        },
      },
      {
        reason: 'max_views_reached',
        status: 410,
        make: async () => {
          const link = await buildLink(ws, { max_views: 1 });
          await send(h().app, 'GET', `/v1/shared/${link.token}`);
          return { link };
        },
      },
      { reason: 'password_required', status: 401, make: async () => ({ link: await buildLink(ws, { password: 'let me in' }) }) },
      {
        reason: 'password_invalid',
        status: 401,
        make: async () => ({ link: await buildLink(ws, { password: 'let me in' }), path: '/unlock', method: 'POST', body: { password: 'wrong one' } }),
      },
      { reason: 'export_disabled', status: 403, make: async () => ({ link: await buildLink(ws, { settings: { allow_export: false } }), path: '/export.csv' }) },
      {
        reason: 'records_disabled',
        status: 403,
        make: async () => {
          await buildResource(ws, { type: 'crate', id: 'crate-1' });
          return { link: await buildLink(ws, { resource_type: 'crate', resource_id: null }), path: '/records/crate-1' };
        },
      },
    ];
    for (const s of scenarios) {
      const { link, path = '', method = 'GET', body } = await s.make();
      const res = await send(h().app, method, `/v1/shared/${link.token}${path}`, body, ua);
      expect([s.reason, res.status, res.body.reason]).toEqual([s.reason, s.status, s.reason]);
      const e = await lastEvent(h(), link.id);
      expect([s.reason, e?.type, e?.reason]).toEqual([s.reason, 'access_denied', s.reason]);
      expect(e).toMatchObject({ ip: '127.0.0.0', user_agent: UA, actor: null });
      expect(typeof e?.metadata.action).toBe('string');
      expect((await verifyAudit(h().ctx, { linkId: link.id })).breaks).toEqual([]);
    }

    const expiring = await buildLink(ws, { expires_in_days: 1 });
    h().advance(2 * 86_400_000);
    try {
      const res = await send(h().app, 'GET', `/v1/shared/${expiring.token}/export.json`, undefined, ua);
      expect([res.status, res.body.reason]).toEqual([410, 'expired']);
    } finally {
      h().advance(-2 * 86_400_000);
    }
    expect(await lastEvent(h(), expiring.id)).toMatchObject({ type: 'expired', reason: 'expired', ip: '127.0.0.0', user_agent: UA, metadata: { action: 'export' } });
  });

  it('malformed, unknown and rate-limited requests write no event', async () => {
    const link = await buildLink(ws);
    const before = await countEvents(h());
    const ip = '203.0.113.50';
    const inject = (url: string) => h().app.inject({ method: 'GET', url, remoteAddress: ip });
    for (let i = 0; i < 30; i++) await inject(i % 2 ? '/v1/shared/nope' : `/v1/shared/${'N'.repeat(43)}`);
    expect((await inject(`/v1/shared/${link.token}`)).statusCode).toBe(429);
    expect(await countEvents(h())).toBe(before);
  });

  it('IP storage follows the workspace policy: truncated by default, full, or none', async () => {
    const other = await buildWorkspace(h());
    const link = await buildLink(other, { max_views: 2 });
    const view = (remoteAddress: string) => h().app.inject({ method: 'GET', url: `/v1/shared/${link.token}`, remoteAddress, headers: ua });

    await view('127.0.0.1');
    expect((await lastEvent(h(), link.id))?.ip).toBe('127.0.0.0');
    await h().app.inject({ method: 'GET', url: `/v1/shared/${link.token}/meta`, remoteAddress: '2001:db8:1234:5678::1' });
    await view('2001:db8:1234:5678::1');
    expect((await lastEvent(h(), link.id))?.ip).toBe('2001:db8:1234::');

    expect((await other.api('PATCH', '/v1/workspace', { policy: { ip_storage: 'full' } })).status).toBe(200);
    await view('127.0.0.1');
    expect(await lastEvent(h(), link.id)).toMatchObject({ type: 'access_denied', reason: 'max_views_reached', ip: '127.0.0.1' });

    expect((await other.api('PATCH', '/v1/workspace', { policy: { ip_storage: 'none' } })).status).toBe(200);
    await view('127.0.0.1');
    expect(await lastEvent(h(), link.id)).toMatchObject({ type: 'access_denied', ip: null, user_agent: UA });
    // The policy of one workspace is not another's.
    const mine = await buildLink(ws);
    await send(h().app, 'GET', `/v1/shared/${mine.token}`);
    expect((await lastEvent(h(), mine.id))?.ip).toBe('127.0.0.0');
  });

  it('a view or download whose event cannot be written does not happen', async () => {
    const r = await buildResource(ws, { tables: { tasks: [{ n: 1 }] } });
    const link = await buildLink(ws, { resource_type: r.type, resource_id: r.id, max_views: 3 });
    const grant = (await send(h().app, 'GET', `/v1/shared/${link.token}`)).body.grant;
    const restore = await failEventsOf(h(), link.id);
    try {
      expect((await send(h().app, 'GET', `/v1/shared/${link.token}`)).status).toBe(500);
      expect((await send(h().app, 'GET', `/v1/shared/${link.token}/export.csv`, undefined, { 'x-porthole-grant': grant })).status).toBe(500);
    } finally {
      await restore();
    }
    const l = (await ws.api('GET', `/v1/links/${link.id}`)).body;
    expect([l.view_count, l.download_count]).toEqual([1, 0]);
    expect((await linkEvents(h(), link.id)).map((e) => e.type)).toEqual(['created', 'viewed']);
    // The chain carries on unbroken after the failed attempts.
    expect((await send(h().app, 'GET', `/v1/shared/${link.token}`)).status).toBe(200);
    const report = await verifyAudit(h().ctx, { linkId: link.id });
    expect(report).toMatchObject({ events: 3, breaks: [] });
  });
});
