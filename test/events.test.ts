import { expect, it } from 'vitest';
import { buildLink, buildWorkspace, send } from './helpers/factories.js';
import { describeEachDialect } from './helpers/harness.js';

describeEachDialect('audit trail', (h) => {
  it('records views, denials and expiry with truncated IPs and lists them with filters and cursors', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws, { max_views: 2, expires_in_days: 1 });
    const ua = { 'user-agent': 'Mozilla/5.0 test', 'x-forwarded-for': '203.0.113.77' };
    await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, ua);
    await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, ua);
    const denied = await send(h().app, 'GET', `/v1/shared/${link.token}`, undefined, ua);
    expect(denied.body.reason).toBe('max_views_reached');

    const all = await ws.api('GET', `/v1/links/${link.id}/events`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((e: any) => e.type).sort()).toEqual(['access_denied', 'created', 'viewed', 'viewed']);
    const deniedEvent = all.body.items.find((e: any) => e.type === 'access_denied');
    expect(deniedEvent.reason).toBe('max_views_reached');
    expect(deniedEvent.user_agent).toBe('Mozilla/5.0 test');
    expect(deniedEvent.ip).toMatch(/\.0$/);

    const viewed = await ws.api('GET', `/v1/links/${link.id}/events?type=viewed&limit=1`);
    expect(viewed.body.items).toHaveLength(1);
    expect(viewed.body.next_cursor).toBeTruthy();
    const next = await ws.api('GET', `/v1/links/${link.id}/events?type=viewed&limit=1&cursor=${viewed.body.next_cursor}`);
    expect(next.body.items).toHaveLength(1);
    expect(next.body.items[0].id).not.toBe(viewed.body.items[0].id);
    expect(next.body.next_cursor).toBeNull();

    h().advance(2 * 86_400_000);
    try {
      const expired = await send(h().app, 'GET', `/v1/shared/${link.token}`);
      expect(expired.status).toBe(410);
      expect(expired.body.reason).toBe('expired');
    } finally {
      h().advance(-2 * 86_400_000);
    }
    const exp = await ws.api('GET', `/v1/links/${link.id}/events?type=expired`);
    expect(exp.body.items).toHaveLength(1);

    const csv = await ws.api('GET', `/v1/links/${link.id}/events.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.text.split('\n')[0]).toBe('created_at,type,reason,actor,email,ip,user_agent,link_id,seq,id');
    expect(csv.text.trim().split('\n')).toHaveLength(6);

    const search = await ws.api('GET', `/v1/events?type=access_denied,expired&link_id=${link.id}`);
    expect(search.body.items.map((e: any) => e.type).sort()).toEqual(['access_denied', 'expired']);
  });

  it('refuses bad filters and foreign links', async () => {
    const ws = await buildWorkspace(h());
    const other = await buildWorkspace(h());
    const link = await buildLink(ws);
    expect((await ws.api('GET', `/v1/links/${link.id}/events?type=nonsense`)).status).toBe(400);
    expect((await ws.api('GET', `/v1/links/${link.id}/events?cursor=garbage!!`)).status).toBe(400);
    expect((await ws.api('GET', `/v1/links/${link.id}/events?since=yesterday`)).body.reason).toBe('invalid_request');
    expect((await other.api('GET', `/v1/links/${link.id}/events`)).status).toBe(404);
    expect((await other.api('GET', `/v1/links/${link.id}/events.csv`)).status).toBe(404);
    const search = await other.api('GET', `/v1/events?link_id=${link.id}`);
    expect(search.status).toBe(404);
  });
});
