import { expect, it } from 'vitest';
import { threadedLedger } from '../src/app/ledger-thread.js';
import type { CountJob } from '../src/app/public-ledger.js';
import { buildLink, buildWorkspace } from './helpers/factories.js';
import { startHarness } from './helpers/harness.js';

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
