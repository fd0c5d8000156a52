import { expect, it } from 'vitest';
import { verifyAudit } from '../src/app/verify-audit.js';
import { buildLink, buildWorkspace, send } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

const DAY = 86_400_000;
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Three clients, as the analytics should tell them apart: by full address and user agent. */
const alice = { ip: '198.51.100.23', ua: 'Mozilla/5.0 (Alice) Firefox/140.0' };
const bob = { ip: '198.51.100.24', ua: 'Mozilla/5.0 (Alice) Firefox/140.0' }; // same /24 and agent as alice: stored IPs alike, still another viewer
const carol = { ip: '2001:db8::7', ua: 'curl/8.9' };

describeEachDialect('analytics', (h) => {
  /** Opens a link as a client: one counted view (no grant sent). */
  const view = async (token: string, who: { ip: string; ua: string }, path = '') => {
    const res = await h().app.inject({ method: 'GET', url: `/v1/shared/${token}${path}`, remoteAddress: who.ip, headers: { 'user-agent': who.ua } });
    return { status: res.statusCode, body: JSON.parse(res.body || 'null') as any };
  };

  const viewerValues = async (linkId: string) =>
    (await h().ctx.database.db.selectFrom('events').select(['type', 'viewer', 'ip', 'user_agent']).where('link_id', '=', linkId).orderBy('seq').execute()) as Array<{
      type: string;
      viewer: string | null;
      ip: string | null;
      user_agent: string | null;
    }>;

  it('counts views, unique viewers per day, downloads and denials by reason, with zeros on quiet days', async () => {
    const ws = await buildWorkspace(h());
    await withClock(h, async (day0) => {
      const link = await buildLink(ws, { label: 'Weekly report' });
      // Day 0: alice three times, bob once, carol twice: 6 views, 3 viewers.
      for (const who of [alice, alice, bob, carol, alice, carol]) expect((await view(link.token, who)).status).toBe(200);
      // A download inside bob's view (his grant): a download, no further view.
      const opened = await view(link.token, bob);
      const csv = await h().app.inject({ method: 'GET', url: `/v1/shared/${link.token}/export.csv`, remoteAddress: bob.ip, headers: { 'user-agent': bob.ua, 'x-porthole-grant': opened.body.grant } });
      expect(csv.statusCode).toBe(200);

      const guarded = await buildLink(ws, { password: 'let me in', label: 'Guarded' });
      expect((await view(guarded.token, alice)).body.reason).toBe('password_required');
      const wrong = await h().app.inject({ method: 'POST', url: `/v1/shared/${guarded.token}/unlock`, remoteAddress: alice.ip, payload: { password: 'wrong one' } });
      expect(JSON.parse(wrong.body).reason).toBe('password_invalid');
      const once = await buildLink(ws, { max_views: 1 });
      expect((await view(once.token, carol)).status).toBe(200);
      expect((await view(once.token, carol)).body.reason).toBe('max_views_reached');
      const brief = await buildLink(ws, { expires_in_days: 1 });

      // Day 1: nothing. Day 2: alice again (a viewer again: pseudonyms are daily), and the brief link has expired.
      h().advance(2 * DAY);
      expect((await view(link.token, alice)).status).toBe(200);
      expect((await view(brief.token, alice)).body.reason).toBe('expired');

      const from = dateOf(day0 - DAY);
      const to = dateOf(day0 + 3 * DAY);
      const res = await ws.api('GET', `/v1/links/${link.id}/analytics?from=${from}&to=${to}`);
      expect(res.status).toBe(200);
      const zero = { views: 0, unique_viewers: 0, downloads: 0, denials: {} };
      expect(res.body).toEqual({
        link_id: link.id,
        from,
        to,
        totals: { views: 8, unique_viewers: 4, downloads: 1, denials: {} },
        days: [
          { date: from, ...zero },
          { date: dateOf(day0), views: 7, unique_viewers: 3, downloads: 1, denials: {} },
          { date: dateOf(day0 + DAY), ...zero },
          { date: dateOf(day0 + 2 * DAY), views: 1, unique_viewers: 1, downloads: 0, denials: {} },
          { date: to, ...zero },
        ],
      });

      const guardedDays = await ws.api('GET', `/v1/links/${guarded.id}/analytics?from=${dateOf(day0)}&to=${dateOf(day0)}`);
      expect(guardedDays.body.totals).toEqual({ views: 0, unique_viewers: 0, downloads: 0, denials: { password_required: 1, password_invalid: 1 } });
      expect(guardedDays.body.days).toHaveLength(1);

      const all = await ws.api('GET', `/v1/analytics?from=${dateOf(day0)}&to=${dateOf(day0 + 2 * DAY)}`);
      expect(all.status).toBe(200);
      expect(all.body.link_id).toBeUndefined();
      expect(all.body.totals).toEqual({
        views: 9,
        // Day 0: alice, bob and carol (carol's view of `once` is the same viewer), day 2: alice.
        unique_viewers: 4,
        downloads: 1,
        denials: { password_required: 1, password_invalid: 1, max_views_reached: 1, expired: 1 },
      });
      expect(all.body.days.map((d: any) => d.views)).toEqual([8, 0, 1]);
      expect(all.body.days[2].denials).toEqual({ expired: 1 });
      expect(all.body.top_links).toEqual([
        { id: link.id, label: 'Weekly report', views: 8 },
        { id: once.id, label: null, views: 1 },
      ]);
    });
  });

  it('keeps no address or user agent in the viewer, chains it, and reports an edited viewer', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    for (const who of [alice, bob, carol, alice]) await view(link.token, who);
    const opened = await view(link.token, carol);
    await h().app.inject({ method: 'GET', url: `/v1/shared/${link.token}/export.json`, remoteAddress: carol.ip, headers: { 'user-agent': carol.ua, 'x-porthole-grant': opened.body.grant } });
    const once = await buildLink(ws, { max_views: 1 });
    await view(once.token, alice);
    await view(once.token, alice);

    const rows = [...(await viewerValues(link.id)), ...(await viewerValues(once.id))];
    const counted = rows.filter((r) => r.type === 'viewed' || r.type === 'downloaded');
    expect(counted).toHaveLength(7);
    for (const r of counted) {
      expect(r.viewer).toMatch(/^[A-Za-z0-9_-]{22}$/);
      for (const secret of [alice, bob, carol]) {
        expect(r.viewer).not.toContain(secret.ip);
        expect(r.viewer).not.toContain(secret.ua);
      }
    }
    // Alice's views share one viewer; bob, with alice's /24 and agent, is someone else; a download names its viewer too.
    const viewed = counted.filter((r) => r.type === 'viewed');
    expect(viewed[0].viewer).toBe(viewed[3].viewer);
    expect(new Set(viewed.slice(0, 3).map((r) => r.viewer)).size).toBe(3);
    expect(counted.find((r) => r.type === 'downloaded')?.viewer).toBe(viewed[4].viewer);
    // Denials and management events name no viewer.
    for (const r of rows.filter((r) => r.type !== 'viewed' && r.type !== 'downloaded')) expect(r.viewer).toBeNull();
    expect(rows.some((r) => r.type === 'access_denied')).toBe(true);

    expect((await verifyAudit(h().ctx, { linkId: link.id })).breaks).toEqual([]);
    const victim = await h().ctx.database.db.selectFrom('events').select('id').where('link_id', '=', link.id).where('type', '=', 'viewed').orderBy('seq').executeTakeFirstOrThrow();
    await h().ctx.database.db.updateTable('events').set({ viewer: 'forgedforgedforgedforg' }).where('id', '=', victim.id).execute();
    const report = await verifyAudit(h().ctx, { linkId: link.id });
    expect(report.breaks.map((b) => [b.eventId, b.problem])).toEqual([[victim.id, 'content does not match its hash']]);
  });

  it('defaults to the last 30 days and refuses bad ranges, naming the field', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    const today = dateOf(h().ctx.now());
    const res = await ws.api('GET', `/v1/links/${link.id}/analytics`);
    expect(res.status).toBe(200);
    expect(res.body.to).toBe(today);
    expect(res.body.days).toHaveLength(30);
    expect(res.body.from).toBe(dateOf(h().ctx.now() - 29 * DAY));
    expect(res.body.days.at(-1).date).toBe(today);

    const longest = await ws.api('GET', '/v1/analytics?from=2025-01-01&to=2026-01-01');
    expect(longest.status).toBe(200);
    expect(longest.body.days).toHaveLength(366);

    const bad: Array<[string, string]> = [
      ['from=yesterday', 'query.from'],
      ['from=2026-13-01', 'query.from'],
      ['to=2026-02-30', 'query.to'],
      ['from=2026-03-02&to=2026-03-01', 'query.to'],
      ['from=2025-01-01&to=2026-01-02', 'query.from'],
      ['since=2026-01-01', 'query.since'],
    ];
    for (const [query, field] of bad) {
      for (const url of [`/v1/links/${link.id}/analytics?${query}`, `/v1/analytics?${query}`]) {
        const r = await ws.api('GET', url);
        expect([url, r.status, r.body.reason, r.body.field]).toEqual([url, 400, 'invalid_request', field]);
      }
    }
  });

  it("answers 404 for another workspace's link and keeps each workspace's numbers its own", async () => {
    const a = await buildWorkspace(h());
    const b = await buildWorkspace(h());
    const link = await buildLink(a);
    await view(link.token, alice);
    expect((await b.api('GET', `/v1/links/${link.id}/analytics`)).status).toBe(404);
    expect((await b.api('GET', `/v1/links/${link.id}/analytics`)).body.reason).toBe('not_found');
    expect((await a.api('GET', '/v1/links/lnk_missing/analytics')).status).toBe(404);
    const theirs = await b.api('GET', '/v1/analytics');
    expect(theirs.body.totals.views).toBe(0);
    expect(theirs.body.top_links).toEqual([]);
    const ours = await a.api('GET', '/v1/analytics');
    expect(ours.body.totals.views).toBe(1);
    expect(ours.body.top_links.map((l: any) => l.id)).toEqual([link.id]);
    expect((await send(h().app, 'GET', '/v1/analytics')).status).toBe(401);
  });
});

/** Runs `body` with the clock at noon (UTC) of tomorrow, so a test's days never straddle midnight; puts the clock back after. */
async function withClock(h: () => Harness, body: (day0: number) => Promise<void>): Promise<void> {
  const before = h().ctx.now() - Date.now();
  const now = h().ctx.now();
  const day0 = (Math.floor(now / DAY) + 1) * DAY;
  h().advance(day0 + DAY / 2 - now);
  try {
    await body(day0);
  } finally {
    h().advance(before - (h().ctx.now() - Date.now()));
  }
}

