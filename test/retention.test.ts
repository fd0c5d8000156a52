import { expect, it, vi } from 'vitest';
import { startCleanupSchedule } from '../src/app/cleanup-schedule.js';
import { runCleanup, type CleanupCounts } from '../src/app/run-cleanup.js';
import { verifyAudit } from '../src/app/verify-audit.js';
import { portholeOn as porthole } from './helpers/cli.js';
import { buildLink, buildWorkspace, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

const DAY = 86_400_000;

const db = (h: Harness) => h.ctx.database.db;

const linkRow = (h: Harness, id: string) => db(h).selectFrom('links').selectAll().where('id', '=', id).executeTakeFirst();

const chainOf = (h: Harness, linkId: string) =>
  db(h).selectFrom('events').selectAll().where('link_id', '=', linkId).orderBy('seq').execute();

/** The `deleted` events retention wrote for a link (workspace-level: the link is named in the metadata). */
async function deletedEventsOf(h: Harness, workspaceId: string, linkId: string) {
  const rows = await db(h)
    .selectFrom('events')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('type', '=', 'deleted')
    .where('link_id', 'is', null)
    .execute();
  // The link's deletion (it names the chain head); retention's later cuts of its chain are `deleted` events too, naming the floor only.
  return rows.filter((r) => JSON.parse(r.metadata).link_id === linkId && 'event_seq' in JSON.parse(r.metadata));
}

async function revoke(ws: TestWorkspace, id: string): Promise<void> {
  expect((await ws.api('POST', `/v1/links/${id}/revoke`)).status).toBe(200);
}

async function label(ws: TestWorkspace, id: string, text: string): Promise<void> {
  expect((await ws.api('PATCH', `/v1/links/${id}`, { label: text })).status).toBe(200);
}

async function setPolicy(ws: TestWorkspace, policy: Record<string, unknown>): Promise<void> {
  const res = await ws.api('PATCH', '/v1/workspace', { policy });
  expect(res.status).toBe(200);
}

/** Moves the harness clock for the body, and back afterwards (what was deleted stays deleted). */
async function later<T>(h: Harness, ms: number, body: () => Promise<T>): Promise<T> {
  h.advance(ms);
  try {
    return await body();
  } finally {
    h.advance(-ms);
  }
}

const zero: CleanupCounts = { links: 0, events: 0, verificationCodes: 0, outbox: 0 };

describeEachDialect('retention', (h) => {
  it('deletes links revoked or expired past retention, each with a deleted event naming its chain head; keeps the rest', async () => {
    const ws = await buildWorkspace(h());
    const revoked = await buildLink(ws, { access_role: 'commenter' });
    const expiring = await buildLink(ws, { expires_in_days: 1 });
    const live = await buildLink(ws, { expires_in_days: 365 });
    const recentlyRevoked = await buildLink(ws);
    await label(ws, revoked.id, 'to be revoked');
    await revoke(ws, revoked.id);
    const now = h().ctx.now();
    await db(h())
      .insertInto('comments')
      .values({ id: `cmt_${revoked.id}`, workspace_id: ws.workspaceId, link_id: revoked.id, resource_type: revoked.resource_type, resource_id: revoked.resource_id, author_email: null, author_name: 'Ana', body: 'hello', created_at: now })
      .execute();
    await db(h())
      .insertInto('verification_codes')
      .values({ id: `vc_${revoked.id}`, workspace_id: ws.workspaceId, link_id: revoked.id, email: 'a@example.test', code_hash: 'x', created_at: now, expires_at: now + 600_000 })
      .execute();
    const headBefore = await linkRow(h(), revoked.id);
    const expiringHead = await linkRow(h(), expiring.id);

    await later(h(), 5 * DAY, () => revoke(ws, recentlyRevoked.id));
    const counts = await later(h(), 32 * DAY, () => runCleanup(h().ctx));
    expect(counts.links).toBeGreaterThanOrEqual(2);

    expect(await linkRow(h(), revoked.id)).toBeUndefined();
    expect(await linkRow(h(), expiring.id)).toBeUndefined();
    expect(await linkRow(h(), live.id)).toBeDefined();
    expect(await linkRow(h(), recentlyRevoked.id)).toBeDefined();
    expect((await ws.api('GET', `/v1/links/${revoked.id}`)).status).toBe(404);
    // Comments and one-time codes went with the link; its events stay (they follow event retention).
    expect(await db(h()).selectFrom('comments').selectAll().where('link_id', '=', revoked.id).execute()).toEqual([]);
    expect(await db(h()).selectFrom('verification_codes').selectAll().where('link_id', '=', revoked.id).execute()).toEqual([]);
    expect((await chainOf(h(), revoked.id)).map((e) => e.type)).toEqual(['created', 'updated', 'revoked']);

    const [deleted, ...more] = await deletedEventsOf(h(), ws.workspaceId, revoked.id);
    expect(more).toEqual([]);
    expect(JSON.parse(deleted.metadata)).toEqual({ link_id: revoked.id, event_seq: headBefore!.event_seq, last_event_hash: headBefore!.last_event_hash, chain_floor_seq: 0, chain_floor_hash: null, reason: 'retention' });
    // It is chained on the workspace's own chain (migration 0005), not the deleted link's.
    expect([deleted.link_id, deleted.seq, deleted.hash]).toEqual([null, expect.any(Number), expect.any(String)]);
    const [expiredDeleted] = await deletedEventsOf(h(), ws.workspaceId, expiring.id);
    expect(JSON.parse(expiredDeleted.metadata)).toMatchObject({ event_seq: expiringHead!.event_seq, last_event_hash: expiringHead!.last_event_hash });
    const listed = await ws.api('GET', `/v1/events?type=deleted`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(2);

    // The deleted links' events verify against the heads their deleted events recorded.
    expect((await verifyAudit(h().ctx)).breaks).toEqual([]);
    expect(await verifyAudit(h().ctx, { linkId: revoked.id })).toMatchObject({ links: 1, events: 3, breaks: [] });
  });

  it('event retention cuts chains from their start, records the floor, and the audit still verifies live and deleted links', async () => {
    const ws = await buildWorkspace(h());
    await setPolicy(ws, { event_retention_days: 30, link_retention_days: 1 });
    const live = await buildLink(ws, { expires_in_days: 365 });
    await label(ws, live.id, 'one');
    const gone = await buildLink(ws); // revoked at once: deleted whole by link retention, its events then aged out
    await revoke(ws, gone.id);
    const straddling = await buildLink(ws, { expires_in_days: 365 }); // revoked later: some of its events outlive the cut
    await later(h(), 10 * DAY, () => revoke(ws, straddling.id));
    await later(h(), 20 * DAY, async () => {
      await label(ws, live.id, 'two');
      expect((await runCleanup(h().ctx)).links).toBeGreaterThanOrEqual(2);
    });
    expect(await linkRow(h(), gone.id)).toBeUndefined();
    expect(await linkRow(h(), straddling.id)).toBeUndefined();
    const liveBefore = await chainOf(h(), live.id);
    expect(liveBefore.map((e) => e.seq)).toEqual([1, 2, 3]);

    // Day 35: everything before day 5 goes.
    const counts = await later(h(), 35 * DAY, () => runCleanup(h().ctx));
    expect(counts.events).toBeGreaterThanOrEqual(2 + 2 + 1);
    const row = await linkRow(h(), live.id);
    expect([row!.chain_floor_seq, row!.chain_floor_hash]).toEqual([2, liveBefore[1].hash]);
    expect((await chainOf(h(), live.id)).map((e) => e.seq)).toEqual([3]);
    expect(await chainOf(h(), gone.id)).toEqual([]);
    expect((await chainOf(h(), straddling.id)).map((e) => e.type)).toEqual(['revoked']);
    expect(await deletedEventsOf(h(), ws.workspaceId, gone.id)).toHaveLength(1);
    expect((await verifyAudit(h().ctx)).breaks).toEqual([]);
    expect(await verifyAudit(h().ctx, { linkId: live.id })).toMatchObject({ links: 1, events: 1, breaks: [] });
    expect(await verifyAudit(h().ctx, { linkId: straddling.id })).toMatchObject({ links: 1, events: 1, breaks: [] });

    // The live link's chain goes on from its head, and verifies from the floor.
    await label(ws, live.id, 'three');
    expect((await verifyAudit(h().ctx, { linkId: live.id })).breaks).toEqual([]);

    // Day 55: the deleted events of day 20 go too, after the last events of their links.
    await later(h(), 55 * DAY, () => runCleanup(h().ctx));
    expect(await deletedEventsOf(h(), ws.workspaceId, gone.id)).toEqual([]);
    expect(await chainOf(h(), straddling.id)).toEqual([]);

    // The live link's chain was cut to nothing (its last events are older than day 25): it still ends on its head.
    expect(await chainOf(h(), live.id)).toEqual([]);
    const cut = await linkRow(h(), live.id);
    expect([cut!.chain_floor_seq, cut!.chain_floor_hash]).toEqual([cut!.event_seq, cut!.last_event_hash]);
    expect((await verifyAudit(h().ctx)).breaks).toEqual([]);
  });

  it('tampering after cleanup is still reported', async () => {
    const ws = await buildWorkspace(h());
    await setPolicy(ws, { event_retention_days: 30, link_retention_days: 1 });
    const live = await buildLink(ws, { expires_in_days: 365 });
    const deleted = await buildLink(ws, { expires_in_days: 365 });
    await later(h(), 10 * DAY, async () => {
      await label(ws, live.id, 'two');
      await label(ws, live.id, 'three');
      await label(ws, deleted.id, 'two');
      await revoke(ws, deleted.id);
    });
    await later(h(), 20 * DAY, () => runCleanup(h().ctx));
    await later(h(), 35 * DAY, () => runCleanup(h().ctx));
    const liveChain = await chainOf(h(), live.id);
    const deletedChain = await chainOf(h(), deleted.id);
    expect(liveChain.map((e) => e.seq)).toEqual([2, 3]);
    expect(deletedChain.map((e) => e.seq)).toEqual([2, 3]);
    expect((await verifyAudit(h().ctx)).breaks).toEqual([]);
    const problems = async (linkId: string) => (await verifyAudit(h().ctx)).breaks.filter((b) => b.linkId === linkId).map((b) => b.problem);

    // Editing a remaining event, of a live link or of a deleted one.
    for (const e of [liveChain[1], deletedChain[0]]) {
      await db(h()).updateTable('events').set({ actor: 'someone else' }).where('id', '=', e.id).execute();
      expect(await problems(e.link_id!)).toContain('content does not match its hash');
      await db(h()).updateTable('events').set({ actor: e.actor }).where('id', '=', e.id).execute();
    }

    // Deleting the first remaining event of a live link without moving its floor.
    await db(h()).deleteFrom('events').where('id', '=', liveChain[0].id).execute();
    expect(await problems(live.id)).toEqual(expect.arrayContaining(['expected sequence 2, found 3', 'previous hash does not match']));
    await db(h()).insertInto('events').values(liveChain[0]).execute();

    // Deleting the first remaining event of a deleted link: retention's cut of its chain was recorded, on the workspace's chain.
    await db(h()).deleteFrom('events').where('id', '=', deletedChain[0].id).execute();
    expect(await problems(deleted.id)).toEqual(expect.arrayContaining(['expected sequence 2, found 3', 'previous hash does not match']));
    await db(h()).insertInto('events').values(deletedChain[0]).execute();

    // Deleting the last event of a deleted link: its chain no longer ends where its deleted event says.
    await db(h()).deleteFrom('events').where('id', '=', deletedChain[1].id).execute();
    expect(await problems(deleted.id)).toEqual(['the link does not end its chain on the last event']);
    await db(h()).insertInto('events').values(deletedChain[1]).execute();

    // Deleting the deleted event: its link's events name a link that never was.
    const [marker] = await deletedEventsOf(h(), ws.workspaceId, deleted.id);
    await db(h()).deleteFrom('events').where('id', '=', marker.id).execute();
    expect(await problems(deleted.id)).toEqual(['the event names a link that does not exist', 'the event names a link that does not exist']);
    await db(h()).insertInto('events').values(marker).execute();

    expect((await verifyAudit(h().ctx)).breaks).toEqual([]);
  });

  it("a deleted link's chain is checked from the floor its deletion recorded: its first event deleted by hand is reported", async () => {
    const ws = await buildWorkspace(h());
    await setPolicy(ws, { link_retention_days: 1 });
    const gone = await buildLink(ws);
    await label(ws, gone.id, 'two');
    await revoke(ws, gone.id);
    await later(h(), 3 * DAY, () => runCleanup(h().ctx));
    expect(await linkRow(h(), gone.id)).toBeUndefined();
    const chain = await chainOf(h(), gone.id);
    expect(chain.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect((await verifyAudit(h().ctx)).breaks).toEqual([]);
    await db(h()).deleteFrom('events').where('id', '=', chain[0].id).execute();
    const problems = (await verifyAudit(h().ctx)).breaks.filter((b) => b.linkId === gone.id).map((b) => b.problem);
    expect(problems).toEqual(expect.arrayContaining(['expected sequence 1, found 2', 'previous hash does not match']));
    await db(h()).insertInto('events').values(chain[0]).execute();
    expect((await verifyAudit(h().ctx)).breaks).toEqual([]);
  });

  it('policy: retention is part of the workspace policy, within bounds', async () => {
    const ws = await buildWorkspace(h());
    const res = await ws.api('GET', '/v1/workspace');
    expect(res.body.policy).toMatchObject({ link_retention_days: 30, event_retention_days: 365 });
    for (const [policy, field] of [
      [{ link_retention_days: 0 }, 'policy.link_retention_days'],
      [{ link_retention_days: 3651 }, 'policy.link_retention_days'],
      [{ link_retention_days: 1.5 }, 'policy.link_retention_days'],
      [{ link_retention_days: '30' }, 'policy.link_retention_days'],
      [{ event_retention_days: 29 }, 'policy.event_retention_days'],
      [{ event_retention_days: 3651 }, 'policy.event_retention_days'],
    ] as const) {
      const bad = await ws.api('PATCH', '/v1/workspace', { policy });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ reason: 'invalid_request', field });
    }
    const ok = await ws.api('PATCH', '/v1/workspace', { policy: { link_retention_days: 1, event_retention_days: 3650 } });
    expect(ok.status).toBe(200);
    expect(ok.body.policy).toMatchObject({ link_retention_days: 1, event_retention_days: 3650, default_expiry_days: 7 });
    expect((await ws.api('GET', '/v1/workspace')).body.policy).toMatchObject({ link_retention_days: 1, event_retention_days: 3650 });
  });

  it("each workspace's retention applies to its own links and events", async () => {
    const short = await buildWorkspace(h());
    const long = await buildWorkspace(h());
    await setPolicy(short, { link_retention_days: 1, event_retention_days: 30 });
    const shortLink = await buildLink(short, { expires_in_days: 365 });
    const longLink = await buildLink(long, { expires_in_days: 365 });
    const shortRevoked = await buildLink(short);
    const longRevoked = await buildLink(long);
    await revoke(short, shortRevoked.id);
    await revoke(long, longRevoked.id);

    await later(h(), 2 * DAY, () => runCleanup(h().ctx));
    expect(await linkRow(h(), shortRevoked.id)).toBeUndefined();
    expect(await linkRow(h(), longRevoked.id)).toBeDefined();

    await later(h(), 40 * DAY, () => runCleanup(h().ctx));
    expect(await linkRow(h(), longRevoked.id)).toBeUndefined();
    expect(await chainOf(h(), shortLink.id)).toEqual([]);
    expect((await chainOf(h(), longLink.id)).map((e) => e.type)).toEqual(['created']);
    expect((await verifyAudit(h().ctx)).breaks).toEqual([]);
  });

  it('clears one-time codes a day past expiry and finished mail after 30 days', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    const now = h().ctx.now();
    const code = (id: string, expiresAt: number) => ({ id, workspace_id: ws.workspaceId, link_id: link.id, email: 'a@example.test', code_hash: 'x', created_at: expiresAt - 600_000, expires_at: expiresAt });
    await db(h()).insertInto('verification_codes').values([code(`vc_old_${link.id}`, now - 2 * DAY), code(`vc_new_${link.id}`, now - DAY / 2)]).execute();
    const mail = (id: string, status: string, createdAt: number) => ({ id: `${id}_${link.id}`, workspace_id: ws.workspaceId, kind: 'test', to_address: 'a@example.test', subject: 's', body_text: '', status, next_attempt_at: createdAt, created_at: createdAt, sent_at: status === 'sent' ? createdAt : null, locked_until: status === 'pending' ? now + DAY : null });
    await db(h())
      .insertInto('outbox')
      .values([mail('sent_old', 'sent', now - 31 * DAY), mail('failed_old', 'failed', now - 31 * DAY), mail('sent_new', 'sent', now - 29 * DAY), mail('pending_old', 'pending', now - 31 * DAY)])
      .execute();

    const counts = await runCleanup(h().ctx);
    expect(counts.verificationCodes).toBeGreaterThanOrEqual(1);
    expect(counts.outbox).toBeGreaterThanOrEqual(2);
    const codes = await db(h()).selectFrom('verification_codes').select('id').where('link_id', '=', link.id).execute();
    expect(codes.map((c) => c.id)).toEqual([`vc_new_${link.id}`]);
    const mails = await db(h()).selectFrom('outbox').select('id').where('id', 'like', `%_${link.id}`).orderBy('id').execute();
    expect(mails.map((m) => m.id)).toEqual([`pending_old_${link.id}`, `sent_new_${link.id}`]);
    await db(h()).deleteFrom('outbox').where('id', 'like', `%_${link.id}`).execute();
  });

  it('two runs at once delete each thing once: one deleted event per link, counts that add up to the dry run', async () => {
    const ws = await buildWorkspace(h());
    const links: Array<{ id: string }> = [];
    for (let i = 0; i < 6; i++) {
      const link = await buildLink(ws, { expires_in_days: i % 2 ? 1 : 365 });
      await label(ws, link.id, `n${i}`);
      links.push(link);
    }
    await later(h(), 400 * DAY, async () => {
      const dry = await runCleanup(h().ctx, { dryRun: true });
      expect(dry.links).toBeGreaterThanOrEqual(6);
      expect(dry.events).toBeGreaterThanOrEqual(12);
      // A dry run deletes nothing.
      expect(await runCleanup(h().ctx, { dryRun: true })).toEqual(dry);
      const [a, b] = await Promise.all([runCleanup(h().ctx), runCleanup(h().ctx)]);
      expect(a.links + b.links).toBe(dry.links);
      expect(a.events + b.events).toBe(dry.events);
      // A dry run also counts codes that go with their links instead.
      expect(a.verificationCodes + b.verificationCodes).toBeLessThanOrEqual(dry.verificationCodes);
      expect(a.outbox + b.outbox).toBe(dry.outbox);
      // Every link expired over 30 days ago: each went once, with one deleted event.
      for (const link of links) expect(await deletedEventsOf(h(), ws.workspaceId, link.id)).toHaveLength(1);
      // The deleted events are new, inside retention: nothing is left for a third run.
      expect(await runCleanup(h().ctx)).toEqual(zero);
      expect(await runCleanup(h().ctx, { dryRun: true })).toEqual(zero);
    });
    for (const link of links) expect(await chainOf(h(), link.id)).toEqual([]);
    expect((await verifyAudit(h().ctx)).breaks).toEqual([]);
  });

  it('porthole cleanup prints what it deleted; --dry-run deletes nothing', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    await revoke(ws, link.id);
    // The CLI reads the real clock: the link was revoked long ago.
    await db(h()).updateTable('links').set({ revoked_at: Date.now() - 31 * DAY }).where('id', '=', link.id).execute();
    const expected = await runCleanup({ database: h().ctx.database, now: Date.now }, { dryRun: true });
    expect(expected.links).toBeGreaterThanOrEqual(1);

    const dry = await porthole(h(), ['cleanup', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(
      `dry run: nothing was deleted; these would be\nlinks: ${expected.links}\nevents: ${expected.events}\nverification codes: ${expected.verificationCodes}\noutbox: ${expected.outbox}\n`,
    );
    expect(await linkRow(h(), link.id)).toBeDefined();

    const res = await porthole(h(), ['cleanup']);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout).toBe(`links: ${expected.links}\nevents: ${expected.events}\nverification codes: ${expected.verificationCodes}\noutbox: ${expected.outbox}\n`);
    expect(await linkRow(h(), link.id)).toBeUndefined();
    expect(await deletedEventsOf(h(), ws.workspaceId, link.id)).toHaveLength(1);
    expect((await porthole(h(), ['cleanup'])).stdout).toBe('links: 0\nevents: 0\nverification codes: 0\noutbox: 0\n');
    expect((await porthole(h(), ['audit', 'verify'])).code).toBe(0);
  });

  it('a run whose signal is aborted (the server stopping) deletes nothing more, and the next run does it all, chains whole', async () => {
    const ws = await buildWorkspace(h());
    await setPolicy(ws, { event_retention_days: 30, link_retention_days: 1 });
    const links = [await buildLink(ws), await buildLink(ws)];
    for (const l of links) await revoke(ws, l.id);
    const stopping = new AbortController();
    stopping.abort();
    const stopped = await later(h(), 60 * DAY, () => runCleanup(h().ctx, { signal: stopping.signal }));
    expect(stopped).toEqual(zero);
    for (const l of links) expect(await linkRow(h(), l.id)).toBeDefined();
    const next = await later(h(), 60 * DAY, () => runCleanup(h().ctx));
    expect(next.links).toBeGreaterThanOrEqual(2);
    for (const l of links) expect(await linkRow(h(), l.id)).toBeUndefined();
    expect((await verifyAudit(h().ctx)).breaks).toEqual([]);
  });

  it('a failed scheduled run is logged, never thrown', async () => {
    h().ctx.cleanup.onFailure(new Error('disk on fire'));
    expect(h().logs.join('')).toContain('scheduled cleanup failed');
  });
});

it('the schedule runs after its first delay and then on its interval, reports failures, and stops on close', async () => {
  vi.useFakeTimers();
  try {
    let calls = 0;
    const run = async () => {
      calls += 1;
      if (calls === 1) throw new Error('first run fails');
      return { ...zero, links: calls };
    };
    const schedule = startCleanupSchedule(run, { firstDelayMs: 60_000, intervalMs: 3_600_000 });
    const failures: unknown[] = [];
    const done: CleanupCounts[] = [];
    schedule.onFailure = (e) => failures.push(e);
    schedule.onDone = (c) => done.push(c);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(calls).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(1);
    expect(failures).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(calls).toBe(2);
    expect(done).toEqual([{ ...zero, links: 2 }]);
    await schedule.close();
    await vi.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(calls).toBe(2);

    const idle = startCleanupSchedule(run, { enabled: false });
    await vi.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(calls).toBe(2);
    await idle.close();
  } finally {
    vi.useRealTimers();
  }
});

it('closing the schedule stops the run under way through its signal and waits for it to end', async () => {
  let finish: () => void = () => {};
  let seen: AbortSignal | undefined;
  const run = (signal: AbortSignal) =>
    new Promise<CleanupCounts>((resolve) => {
      seen = signal;
      // A run that ends at its next transaction once told to stop.
      signal.addEventListener('abort', () => (finish = () => resolve(zero)));
    });
  const schedule = startCleanupSchedule(run, { firstDelayMs: 0 });
  while (!seen) await new Promise((r) => setTimeout(r, 1));
  expect(seen.aborted).toBe(false);
  let closed = false;
  const closing = schedule.close().then(() => (closed = true));
  expect(seen.aborted).toBe(true);
  await new Promise((r) => setTimeout(r, 20));
  expect(closed).toBe(false);
  finish();
  await closing;
  expect(closed).toBe(true);
});
