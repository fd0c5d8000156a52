import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientIpOf, fastViewHandler, fastViewOutcome, type FastViewOptions } from '../src/http/public/fast-view.js';
import { viewSchema } from '../src/http/public/shared-api.js';
import { buildLink, buildResource, buildWorkspace, send } from './helpers/factories.js';
import { describeEachDialect, listening, startHarness, type Harness } from './helpers/harness.js';

// A plain GET /v1/shared/{id} over a real connection is answered by the server's fast path
// (src/http/public/fast-view.ts); app.inject() always goes through Fastify's route. The two must not differ.

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, headers: Object.fromEntries(res.headers), text, body: JSON.parse(text || 'null') };
}

/** Headers whose values differ between any two answers. */
const VARYING = new Set(['date', 'connection', 'keep-alive', 'content-length', 'x-porthole-grant']);
const stableHeaders = (headers: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(headers).filter(([k]) => !VARYING.has(k.toLowerCase())).map(([k, v]) => [k.toLowerCase(), v]));

/** The body without what changes from one view to the next. */
const comparable = (body: any) => ({ ...body, grant: typeof body.grant, grant_expires_at: typeof body.grant_expires_at, link: { ...body.link, view_count: typeof body.link.view_count } });

describeEachDialect('the fast path for opening a link', (h) => {
  it('answers exactly as the Fastify route does: status, headers, body, and a counted view with its event', async () => {
    const ws = await buildWorkspace(h());
    const r = await buildResource(ws, { fields: { status: 'running' }, tables: { tasks: [{ name: 'a' }] } });
    const link = await buildLink(ws, { resource_type: r.type, resource_id: r.id, label: 'For Ana' });
    const address = await listening(h().app);

    const fast = await get(`${address}/v1/shared/${link.token}`);
    const routed = await send(h().app, 'GET', `/v1/shared/${link.token}`);
    expect(fast.status).toBe(200);
    expect(routed.status).toBe(200);
    expect(stableHeaders(fast.headers)).toEqual(stableHeaders(routed.headers));
    expect(fast.headers['x-porthole-grant']).toBe(fast.body.grant);
    expect(comparable(fast.body)).toEqual(comparable(routed.body));
    expect(viewSchema.strict().safeParse(fast.body).error?.issues ?? []).toEqual([]);
    expect([fast.body.link.view_count, routed.body.link.view_count]).toEqual([1, 2]);

    const events = await h().ctx.database.db.selectFrom('events').select(['type', 'ip', 'user_agent']).where('link_id', '=', link.id).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toEqual(['created', 'viewed', 'viewed']);
    // The real connection's address, truncated as the workspace's policy says by default.
    expect(events[1].ip).toBe('127.0.0.0');
  });

  it('a refused view is answered by the one error handler, with its event written once', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    await ws.api('POST', `/v1/links/${link.id}/revoke`);
    const address = await listening(h().app);

    const fast = await get(`${address}/v1/shared/${link.token}`);
    const routed = await send(h().app, 'GET', `/v1/shared/${link.token}`);
    expect(fast.status).toBe(410);
    expect(fast.body).toEqual({ error: 'This share link has been revoked', reason: 'revoked' });
    expect(stableHeaders(fast.headers)).toEqual(stableHeaders(routed.headers));
    const denied = await h().ctx.database.db.selectFrom('events').select('reason').where('link_id', '=', link.id).where('type', '=', 'access_denied').execute();
    // One event per request: the route answered the fast path's refusal without evaluating again.
    expect(denied).toEqual([{ reason: 'revoked' }, { reason: 'revoked' }]);

    expect((await get(`${address}/v1/shared/${'A'.repeat(43)}`)).body.reason).toBe('not_found');
    expect((await get(`${address}/v1/shared/abc`)).body.reason).toBe('invalid_token');
  });

  it('leaves to Fastify what is not a plain view: previews, query strings, HEAD, trailing slashes', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    const address = await listening(h().app);
    const preview = await get(`${address}/v1/shared/${link.token}`, { 'user-agent': 'Slackbot-LinkExpanding 1.0' });
    expect(preview.body).toEqual({ preview: true, title: 'Shared with Porthole' });
    expect((await get(`${address}/v1/shared/${link.token}?x=1`)).body.reason).toBe('invalid_request');
    expect((await fetch(`${address}/v1/shared/${link.token}`, { method: 'HEAD' })).status).toBe(200);
    const slash = await get(`${address}/v1/shared/${link.token}/`);
    expect(slash.status).toBe(200);
    expect(slash.body.link.view_count).toBe(1);
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(1);
  });

  it("logs what Fastify logs for a request, the link's token masked", async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    const address = await listening(h().app);
    const from = h().logs.length;
    const fast = await get(`${address}/v1/shared/${link.token}`);
    expect(fast.status).toBe(200);
    const lines = h().logs.slice(from).map((l) => JSON.parse(l));
    const incoming = lines.find((l) => l.msg === 'incoming request');
    const completed = lines.find((l) => l.msg === 'request completed');
    expect(incoming.req).toMatchObject({ method: 'GET', url: '/v1/shared/[redacted]', remoteAddress: '127.0.0.1' });
    expect(completed).toMatchObject({ res: { statusCode: 200 }, reqId: incoming.reqId });
    expect(typeof completed.responseTime).toBe('number');
    const text = h().logs.slice(from).join('\n');
    expect(text).not.toContain(link.token);
    expect(text).not.toContain(fast.body.grant);
  });
});

describeEachDialect('the fast path on its own', (h) => {
  it('answers a view itself, and hands everything else to the fallback, with the refusal it met', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    const revoked = await buildLink(ws);
    await ws.api('POST', `/v1/links/${revoked.id}/revoke`);
    const fast = fastViewHandler(h().ctx, { log: h().app.log as FastViewOptions['log'], clientIp: clientIpOf(false), newRequestId: () => 'req_test', closing: () => false });
    const fellBack: Array<{ url?: string; refused: unknown }> = [];
    const server = createServer((req, res) =>
      fast(req, res, () => {
        fellBack.push({ url: req.url, refused: fastViewOutcome(req) });
        res.writeHead(599).end();
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const opened = await get(`${address}/v1/shared/${link.token}`);
      expect(opened.status).toBe(200);
      expect(opened.body.link.id).toBe(link.id);
      expect(fellBack).toEqual([]);

      expect((await get(`${address}/v1/shared/${revoked.token}`)).status).toBe(599);
      expect((fellBack[0].refused as { reason?: string }).reason).toBe('revoked');
      for (const path of [`/v1/shared/${link.token}?a=1`, `/v1/shared/${link.token}/meta`, '/v1/links', `/v1/shared/${link.token}%41`]) {
        expect((await get(`${address}${path}`)).status).toBe(599);
      }
      expect(fellBack.slice(1).map((f) => f.refused)).toEqual([undefined, undefined, undefined, undefined]);
      expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the fast path behind a proxy', () => {
  let harness: Harness & { close(): Promise<void> };
  beforeAll(async () => {
    harness = await startHarness('sqlite', { TRUST_PROXY: 'true' });
  });
  afterAll(async () => {
    await harness.close();
  });

  it('records the forwarded client address, as the Fastify route does', async () => {
    const ws = await buildWorkspace(harness);
    const link = await buildLink(ws);
    const address = await listening(harness.app);
    expect((await get(`${address}/v1/shared/${link.token}`, { 'x-forwarded-for': '203.0.113.77' })).status).toBe(200);
    expect((await send(harness.app, 'GET', `/v1/shared/${link.token}`, undefined, { 'x-forwarded-for': '198.51.100.9' })).status).toBe(200);
    const ips = await harness.ctx.database.db.selectFrom('events').select('ip').where('link_id', '=', link.id).where('type', '=', 'viewed').orderBy('seq').execute();
    expect(ips.map((e) => e.ip)).toEqual(['203.0.113.0', '198.51.100.0']);
  });
});
