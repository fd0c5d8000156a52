import { sql } from 'kysely';
import { beforeAll, expect, it, onTestFinished } from 'vitest';
import { verifyAudit } from '../src/app/verify-audit.js';
import type { Link } from '../src/domain/link.js';
import { chainedEvent, countAndAppendMany, type BatchedCount } from '../src/storage/events.js';
import { openDatabase } from '../src/storage/database.js';
import { findLinkById, findPublicLink } from '../src/storage/links.js';
import { newLinkToken, sha256 } from '../src/domain/tokens.js';
import { buildLink, buildWorkspace, send, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

// On PostgreSQL every statement is a round trip, and planning one is work on the same cores:
// the hot path's fixed statements are prepared once per connection (dialects/postgres.ts), the
// lookups of one turn go together, and a batch's views are counted and chained in one
// statement, each on the chain head its lookup read; the rest fall back to the transaction.

describeEachDialect(
  'PostgreSQL: the public path in few round trips',
  (harness) => {
    let h: Harness;
    let ws: TestWorkspace;
    beforeAll(async () => {
      h = harness();
      ws = await buildWorkspace(h);
    });

    const read = async (id: string) => (await findLinkById(h.ctx.database.db, ws.workspaceId, id)) as Link;
    const entry = (link: Link, head = { seq: link.eventSeq, hash: link.lastEventHash }): BatchedCount => ({
      link,
      expected: head,
      events: [chainedEvent(link, head.seq + 1, head.hash, { type: 'viewed', ip: '203.0.113.0', userAgent: 'test', email: null, actor: null, metadata: { action: 'view' } }, h.ctx.now())],
      now: h.ctx.now(),
    });
    const countMany = (entries: BatchedCount[]) => countAndAppendMany(h.ctx.database.db, 'view', entries);
    const events = (id: string) => h.ctx.database.db.selectFrom('events').select(['seq', 'type']).where('link_id', '=', id).orderBy('seq').execute();
    const freshLinks = async (n: number) => Promise.all(Array.from({ length: n }, async () => read((await buildLink(ws)).id)));

    it('counts every link of the batch, moves each chain head and inserts each event', async () => {
      const links = await freshLinks(5);
      const counted = await countMany(links.map((l) => entry(l)));
      expect([...counted.keys()].sort()).toEqual(links.map((l) => l.id).sort());
      for (const link of links) {
        expect(counted.get(link.id)).toEqual({ viewCount: 1, downloadCount: 0 });
        const after = await read(link.id);
        expect([after.viewCount, after.eventSeq]).toEqual([1, link.eventSeq + 1]);
        expect(after.firstViewedAt).not.toBeNull();
        expect(await events(link.id)).toEqual([
          { seq: 1, type: 'created' },
          { seq: 2, type: 'viewed' },
        ]);
        expect((await verifyAudit(h.ctx, { linkId: link.id })).breaks).toEqual([]);
      }
    });

    it('leaves untouched the links whose head moved or that no longer pass, and counts the rest', async () => {
      const [good, stale, revoked, limitedSeed] = await freshLinks(4);
      expect((await ws.api('PATCH', `/v1/links/${stale.id}`, { label: 'moved the head' })).status).toBe(200);
      expect((await ws.api('POST', `/v1/links/${revoked.id}/revoke`)).status).toBe(200);
      const limitedLink = await buildLink(ws, { max_views: 1 });
      expect((await send(h.app, 'GET', `/v1/shared/${limitedLink.token}`)).status).toBe(200);
      const limited = await read(limitedLink.id);
      const revokedNow = await read(revoked.id);
      const before = await Promise.all([stale, revokedNow, limited].map(async (l) => ({ link: await read(l.id), events: await events(l.id) })));

      const counted = await countMany([entry(good), entry(stale), entry(revokedNow), entry(limited), entry(limitedSeed)]);
      expect([...counted.keys()].sort()).toEqual([good.id, limitedSeed.id].sort());
      for (const { link, events: was } of before) {
        const now = await read(link.id);
        expect([now.viewCount, now.eventSeq, now.lastEventHash]).toEqual([link.viewCount, link.eventSeq, link.lastEventHash]);
        expect(await events(link.id)).toEqual(was);
      }
      // Through the API the stale head is met by the transaction path, which counts it.
      expect((await send(h.app, 'GET', `/v1/shared/${await tokenOf(ws, stale.id)}`)).status).toBe(200);
      expect((await read(stale.id)).viewCount).toBe(1);
      for (const l of [good, stale, revokedNow, limited, limitedSeed]) expect((await verifyAudit(h.ctx, { linkId: l.id })).breaks).toEqual([]);
    });

    it('two batches over the same links in opposite orders, meeting at a row another session holds: neither waits (no deadlock, no stall), the held link is left to the transaction path, each other link counted once', async () => {
      // The plan must follow each batch's own order, as it does on a real table (an index
      // lookup per input row): on a table of a few rows PostgreSQL would rather scan it in id
      // order for both. So the table gets 20,000 more rows, and the planner the news.
      const pad = await freshLinks(1);
      await sql`insert into links select r.* from links l, generate_series(1, 20000) g, jsonb_populate_record(null::links, to_jsonb(l) || jsonb_build_object('id', 'lnk_pad_' || g, 'token_hash', md5('t' || g), 'short_code_hash', md5('c' || g))) r where l.id = ${pad[0].id}`.execute(h.ctx.database.db);
      await sql`analyze links`.execute(h.ctx.database.db);
      // Fresh connections, so the statement is planned now (a connection's cached plan would not be).
      const own = openDatabase({ dataDir: '', databaseUrl: h.ctx.config.databaseUrl });
      onTestFinished(() => own.close());
      const db = own.db;
      const inBatchOrder = (entries: BatchedCount[]) => db.transaction().execute((tx) => countAndAppendMany(tx, 'view', entries));
      const links = await freshLinks(9);
      const forward = links.map((l) => entry(l));
      const middle = links[4];
      // Both batches run and finish while the middle row is held: had either waited for it
      // (holding the rows before it, the other those after it), this would never return.
      const [a, b] = await db.transaction().execute(async (tx) => {
        await tx.selectFrom('links').select('id').where('id', '=', middle.id).forUpdate().execute();
        return Promise.all([inBatchOrder(forward), inBatchOrder([...forward].reverse())]);
      });
      expect(a.has(middle.id) || b.has(middle.id)).toBe(false);
      expect(a.size + b.size).toBe(links.length - 1);
      for (const link of links) expect((await read(link.id)).viewCount).toBe(link.id === middle.id ? 0 : 1);
    });

    it('many views of one link and of many links at once: each counted once, every chain intact', async () => {
      const one = await buildLink(ws);
      const many = await Promise.all(Array.from({ length: 10 }, () => buildLink(ws)));
      const targets = [...Array.from({ length: 40 }, () => one), ...many.flatMap((l) => [l, l, l])];
      const statuses = await Promise.all(targets.map((l) => send(h.app, 'GET', `/v1/shared/${l.token}`).then((r) => r.status)));
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect((await read(one.id)).viewCount).toBe(40);
      expect(await verifyAudit(h.ctx, { linkId: one.id })).toMatchObject({ events: 41, breaks: [] });
      for (const l of many) {
        expect((await read(l.id)).viewCount).toBe(3);
        expect(await verifyAudit(h.ctx, { linkId: l.id })).toMatchObject({ events: 4, breaks: [] });
      }
    });

    it('the lookups of one turn go to the database in one statement, and each request gets its own link', async () => {
      const links = await Promise.all(Array.from({ length: 12 }, () => buildLink(ws)));
      const own = openDatabase({ dataDir: '', databaseUrl: h.ctx.config.databaseUrl });
      onTestFinished(() => own.close());
      const waiting = async () =>
        (await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`.execute(h.ctx.database.db)).rows[0].n;
      let lookups: Promise<Array<Awaited<ReturnType<typeof findPublicLink>>>> | undefined;
      // With the table locked, every statement the lookups send waits where it can be counted.
      await h.ctx.database.db.transaction().execute(async (tx) => {
        await sql`lock table links in access exclusive mode`.execute(tx);
        lookups = Promise.all([...links.map((l) => findPublicLink(own.db, 'token', sha256(l.token))), findPublicLink(own.db, 'token', sha256(newLinkToken()))]);
        lookups.catch(() => undefined);
        for (let waited = 0; waited < 5000 && (await waiting()) === 0; waited += 20) await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setTimeout(r, 200));
        expect(await waiting()).toBe(1);
      });
      const found = await (lookups as Promise<Array<Awaited<ReturnType<typeof findPublicLink>>>>);
      expect(found.map((f) => f?.link.id ?? null)).toEqual([...links.map((l) => l.id), null]);
    });

    it('stores what a visitor sent byte for byte through the batch\'s arrays (quotes, braces, commas, backslashes, NULL-like text)', async () => {
      const agents = ['a "quoted" agent', 'braces {x,y} and, commas', 'back\\slash \\" mix', 'NULL', '', "it's ünïcødé ✓"];
      const links = await Promise.all(agents.map(() => buildLink(ws)));
      const statuses = await Promise.all(links.map((l, i) => send(h.app, 'GET', `/v1/shared/${l.token}`, undefined, { 'user-agent': agents[i] }).then((r) => r.status)));
      expect(statuses).toEqual(agents.map(() => 200));
      for (const [i, l] of links.entries()) {
        const viewed = await h.ctx.database.db.selectFrom('events').select(['user_agent']).where('link_id', '=', l.id).where('type', '=', 'viewed').execute();
        expect(viewed).toEqual([{ user_agent: agents[i] === '' ? null : agents[i] }]);
        expect((await verifyAudit(h.ctx, { linkId: l.id })).breaks).toEqual([]);
      }
    });

    it('views of links at their limit, sent together: exactly the limit counted, the rest denied with their event', async () => {
      const links = await Promise.all(Array.from({ length: 4 }, () => buildLink(ws, { max_views: 3 })));
      const statuses = await Promise.all(links.flatMap((l) => Array.from({ length: 8 }, () => send(h.app, 'GET', `/v1/shared/${l.token}`).then((r) => r.status))));
      expect(statuses.filter((s) => s === 200)).toHaveLength(12);
      expect(statuses.filter((s) => s === 410)).toHaveLength(20);
      for (const l of links) {
        expect((await read(l.id)).viewCount).toBe(3);
        const types = (await events(l.id)).map((e) => e.type);
        expect(types.filter((t) => t === 'viewed')).toHaveLength(3);
        expect(types.filter((t) => t === 'access_denied')).toHaveLength(5);
        expect((await verifyAudit(h.ctx, { linkId: l.id })).breaks).toEqual([]);
      }
    });

    it("the link lookup is prepared on the connection that runs it; other queries are not", async () => {
      const link = await buildLink(ws);
      expect((await send(h.app, 'GET', `/v1/shared/${link.token}`)).status).toBe(200);
      const prepared = await h.ctx.database.db.connection().execute(async (conn) => {
        const found = await findPublicLink(conn, 'token', sha256(link.token));
        expect(found?.link.id).toBe(link.id);
        await conn.selectFrom('workspaces').select('id').where('id', '=', ws.workspaceId).execute();
        // pg_prepared_statements lists this session's statements.
        const { rows } = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(conn);
        return rows;
      });
      // The hot path looks up every token of a turn at once (turn-batch.ts).
      const lookup = prepared.filter((p) => p.statement.includes('"links"."token_hash" = any(cast($1 as text[]))'));
      expect(lookup).toHaveLength(1);
      expect(lookup[0].name).toMatch(/^porthole_[0-9a-f]{24}$/);
      expect(prepared.some((p) => p.statement.includes('"workspaces"') && !p.statement.includes('"links"'))).toBe(false);
    });

    it('a column added meanwhile (a newer instance migrating) does not break the prepared lookup', async () => {
      const link = await buildLink(ws);
      // Prepare the lookup on as many of the pool's connections as get used.
      const opens = () => Promise.all(Array.from({ length: 20 }, () => send(h.app, 'GET', `/v1/shared/${link.token}`).then((r) => r.status)));
      expect(new Set(await opens())).toEqual(new Set([200]));
      await sql`alter table links add column added_later text`.execute(h.ctx.database.db);
      try {
        // A prepared `links.*` would now fail on every connection with "cached plan must not change result type".
        expect(new Set(await opens())).toEqual(new Set([200]));
      } finally {
        await sql`alter table links drop column added_later`.execute(h.ctx.database.db);
      }
    });
  },
  { only: 'postgres' },
);

/** The token of a link by id (the API shows it to its creator). */
async function tokenOf(ws: TestWorkspace, id: string): Promise<string> {
  return (await ws.api('GET', `/v1/links/${id}`)).body.token;
}
