import type { Worker } from 'node:worker_threads';
import { expect, it } from 'vitest';
import { threadedLedger } from '../src/app/ledger-thread.js';
import { verifyAudit } from '../src/app/verify-audit.js';
import type { CountJob, CountResult } from '../src/app/public-ledger.js';
import { buildLink, buildWorkspace, type TestWorkspace } from './helpers/factories.js';
import { startHarness, type Harness } from './helpers/harness.js';

const viewJob = (linkId: string, workspaceId: string): CountJob => ({
  kind: 'count',
  link: { id: linkId, workspaceId, grantEpoch: 0 },
  view: true,
  download: false,
  action: 'view',
  grant: null,
  password: 'none',
  base: { ip: '203.0.113.0', userAgent: 'test', email: null, actor: null },
  metadata: { action: 'view' },
  now: Date.now(),
});

it('the writer thread commits each job before it settles, batches what arrives together, and fails only the job that fails', async () => {
  const h = await startHarness('sqlite');
  const batches: number[] = [];
  const ledger = threadedLedger(h.ctx.database.file as string, { onBatch: (size) => batches.push(size) });
  try {
    const ws = await buildWorkspace(h);
    const link = await buildLink(ws);
    const job = (linkId: string) => viewJob(linkId, ws.workspaceId);
    const results = await Promise.all(Array.from({ length: 30 }, () => ledger.count(job(link.id))));
    expect(results.map((r) => r.ok && r.viewCount).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // Sent in one turn of the loop, they went in one message and shared one commit.
    expect(batches).toEqual([30]);
    // Committed: the main connection reads them at once.
    const row = await h.ctx.database.db.selectFrom('links').select('view_count').where('id', '=', link.id).executeTakeFirstOrThrow();
    expect(row.view_count).toBe(30);

    // A denial whose event names no workspace breaks a foreign key inside the writer; its neighbours still commit.
    const [good, bad] = await Promise.allSettled([
      ledger.count(job(link.id)),
      ledger.deny({ kind: 'deny', link: { id: link.id, workspaceId: 'wsp_missing', grantEpoch: 0 }, reason: 'expired', action: 'view', base: {}, now: Date.now() }),
    ]);
    expect(good).toMatchObject({ status: 'fulfilled', value: { ok: true, viewCount: 31 } });
    expect(bad.status).toBe('rejected');

    // A job that cannot cross to the thread is refused; the ledger goes on.
    await expect(ledger.count({ ...job(link.id), metadata: { action: 'view', oops: () => 1 } })).rejects.toThrow();
    await expect(ledger.count(job(link.id))).resolves.toMatchObject({ ok: true, viewCount: 32 });

    // close() waits for what is under way.
    const last = ledger.count(job(link.id));
    await ledger.close();
    await expect(last).resolves.toMatchObject({ ok: true, viewCount: 33 });
    // A closed ledger starts no thread again: what comes late is refused.
    await expect(ledger.count(job(link.id))).rejects.toThrow('the ledger is closed');
  } finally {
    await ledger.close();
    await h.close();
  }
});

it("the app's writer thread shares the main connection's turn flag: while it is up, views wait", async () => {
  const h = await startHarness('sqlite');
  try {
    const ws = await buildWorkspace(h);
    const link = await buildLink(ws);
    const turn = h.ctx.database.sharedFlags;
    expect(turn).toBeInstanceOf(SharedArrayBuffer);
    const flag = new Int32Array(turn as SharedArrayBuffer);
    // As the main connection does while it waits for the write lock (LockWait in storage/dialects/sqlite.ts).
    Atomics.store(flag, 0, 1);
    let settled = false;
    const view = h.ctx.ledger
      .count(viewJob(link.id, ws.workspaceId))
      .finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(settled).toBe(false);
    Atomics.store(flag, 0, 0);
    Atomics.notify(flag, 0);
    await expect(view).resolves.toMatchObject({ ok: true, viewCount: 1 });
  } finally {
    await h.close();
  }
});

/** A writer thread on a fresh database with one link, the threads it starts (so a test can stop one), and a view of the link. */
async function stoppableLedger(body: (t: { h: Harness; ws: TestWorkspace; linkId: string; workers: Worker[]; view: () => Promise<CountResult> }) => Promise<void>): Promise<void> {
  const h = await startHarness('sqlite');
  const workers: Worker[] = [];
  const ledger = threadedLedger(h.ctx.database.file as string, { onStart: (w) => workers.push(w) });
  try {
    const ws = await buildWorkspace(h);
    const link = await buildLink(ws);
    await body({ h, ws, linkId: link.id, workers, view: () => ledger.count(viewJob(link.id, ws.workspaceId)) });
  } finally {
    await ledger.close();
    await h.close();
  }
}

const viewCountOf = async (h: Harness, linkId: string) =>
  (await h.ctx.database.db.selectFrom('links').select('view_count').where('id', '=', linkId).executeTakeFirstOrThrow()).view_count;

it('a writer thread that dies fails only what it was sent; what was not sent yet goes to the next thread, counted once and answered', () =>
  stoppableLedger(async ({ h, linkId, workers, view }) => {
    await expect(view()).resolves.toMatchObject({ ok: true, viewCount: 1 });
    // Views that arrive as the thread's death is noticed: queued, not yet sent.
    const queued: Array<Promise<CountResult>> = [];
    workers[0].prependListener('exit', () => {
      for (let i = 0; i < 3; i++) queued.push(view());
    });
    await workers[0].terminate();
    await new Promise((r) => setImmediate(r));
    expect((await Promise.all(queued)).map((r) => r.ok)).toEqual([true, true, true]);
    expect(workers).toHaveLength(2);
    expect(await viewCountOf(h, linkId)).toBe(4);
  }));

it('a writer thread that dies in the middle of views fails only the views under way; the next thread takes over, with nothing locked, counts exact and the chain whole', () =>
  stoppableLedger(async ({ h, ws, linkId, workers, view }) => {
    // The thread is up and has written (a first view).
    const outcomes: Array<Promise<{ ok: boolean }>> = [view().then(() => ({ ok: true }))];
    await outcomes[0];
    // Views keep arriving, a few every 2 ms, while the thread is stopped under them.
    for (let turn = 0; turn < 40; turn++) {
      for (let i = 0; i < 5; i++) outcomes.push(view().then(() => ({ ok: true }), () => ({ ok: false })));
      if (turn === 20) void workers[0].terminate();
      await new Promise((r) => setTimeout(r, 2));
    }
    const answered = (await Promise.all(outcomes)).filter((o) => o.ok).length;
    expect(answered).toBeGreaterThan(50);
    expect(workers.length).toBe(2); // a new thread took the views after it

    // Nothing was left locked: the next view and a write on the main connection go through.
    await expect(view()).resolves.toMatchObject({ ok: true });
    expect((await ws.api('PATCH', `/v1/links/${linkId}`, { label: 'after' })).status).toBe(200);

    const counted = await viewCountOf(h, linkId);
    const viewed = await h.ctx.database.db.selectFrom('events').select((e) => e.fn.countAll<number>().as('n')).where('link_id', '=', linkId).where('type', '=', 'viewed').executeTakeFirstOrThrow();
    // Every view answered is counted; one that failed was counted only if its commit had landed before the thread died.
    expect(counted).toBeGreaterThanOrEqual(answered + 1);
    expect(Number(viewed.n)).toBe(counted);
    expect((await verifyAudit(h.ctx, { linkId })).breaks).toEqual([]);
  }));
