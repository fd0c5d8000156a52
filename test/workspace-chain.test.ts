import { sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCleanup } from '../src/app/run-cleanup.js';
import { verifyAudit } from '../src/app/verify-audit.js';
import { openDatabase, type Database } from '../src/storage/database.js';
import { migrateTo, migrateToLatest, pendingMigrations } from '../src/storage/migrate.js';
import { portholeOn } from './helpers/cli.js';
import { buildApiKey, buildMember, buildWorkspace, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

// Workspace-level events (members, API keys, policy, deleted resources and
// links) form one hash chain per workspace (migration 0005), as each link's
// events do, and `porthole audit verify` walks them too.

const DAY = 86_400_000;

const workspaceEvents = (h: Harness, workspaceId: string) =>
  h.ctx.database.db.selectFrom('events').selectAll().where('workspace_id', '=', workspaceId).where('link_id', 'is', null).orderBy('seq').execute();

const workspaceBreaks = async (h: Harness, workspaceId: string) =>
  (await verifyAudit(h.ctx)).breaks.filter((b) => b.workspaceId === workspaceId).map((b) => [b.eventId, b.problem]);

/** Three workspace-level events: an API key made, a member added, the policy changed. */
async function threeEvents(h: Harness): Promise<TestWorkspace> {
  const ws = await buildWorkspace(h);
  await buildApiKey(h, ws, { name: 'CI' });
  await buildMember(h, ws);
  expect((await ws.api('PATCH', '/v1/workspace', { policy: { event_retention_days: 30 } })).status).toBe(200);
  return ws;
}

describeEachDialect("a workspace's own chain", (h) => {
  it('chains workspace-level events in order on the workspace row, and the audit walk verifies them', async () => {
    const ws = await threeEvents(h());
    const events = await workspaceEvents(h(), ws.workspaceId);
    expect(events.map((e) => Number(e.seq))).toEqual(events.map((_, i) => i + 1));
    expect(events.length).toBeGreaterThanOrEqual(3);
    events.slice(1).forEach((e, i) => expect(e.prev_hash).toBe(events[i].hash));
    const row = await h().ctx.database.db.selectFrom('workspaces').select(['event_seq', 'last_event_hash']).where('id', '=', ws.workspaceId).executeTakeFirstOrThrow();
    expect([Number(row.event_seq), row.last_event_hash]).toEqual([events.length, events[events.length - 1].hash]);
    const report = await verifyAudit(h().ctx);
    expect(report.workspaces).toBeGreaterThanOrEqual(1);
    expect(await workspaceBreaks(h(), ws.workspaceId)).toEqual([]);
    const cli = await portholeOn(h(), ['audit', 'verify']);
    expect(cli.stdout).toMatch(/^ok: \d+ links, \d+ workspaces, \d+ events verified\n$/);
  });

  it('reports an edited, a deleted, a removed last and a forged workspace-level event, naming the workspace', async () => {
    const ws = await threeEvents(h());
    const db = h().ctx.database.db;
    const [first, second] = await workspaceEvents(h(), ws.workspaceId);

    await db.updateTable('events').set({ metadata: JSON.stringify({ object: 'api_key', key_id: 'key_forged' }) }).where('id', '=', first.id).execute();
    expect(await workspaceBreaks(h(), ws.workspaceId)).toEqual([[first.id, 'content does not match its hash']]);
    const cli = await portholeOn(h(), ['audit', 'verify']);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain(`break: workspace ${ws.workspaceId} seq 1 event ${first.id}: content does not match its hash`);

    await db.deleteFrom('events').where('id', '=', second.id).execute();
    expect((await workspaceBreaks(h(), ws.workspaceId)).map(([, problem]) => problem)).toEqual(
      expect.arrayContaining(['content does not match its hash', 'expected sequence 2, found 3', 'previous hash does not match']),
    );

    const last = (await workspaceEvents(h(), ws.workspaceId)).at(-1)!;
    await db.deleteFrom('events').where('id', '=', last.id).execute();
    expect((await workspaceBreaks(h(), ws.workspaceId)).map(([, problem]) => problem)).toContain('the workspace does not end its chain on the last event');

    await db
      .insertInto('events')
      .values({ id: 'evt_forged', workspace_id: ws.workspaceId, link_id: null, seq: null, type: 'updated', metadata: '{}', created_at: Date.now(), prev_hash: null, hash: null })
      .execute();
    expect(await workspaceBreaks(h(), ws.workspaceId)).toContainEqual(['evt_forged', "the event is outside its workspace's chain"]);

    // The tests after this one share the database: the tampered workspace goes, with everything it holds.
    await db.deleteFrom('workspaces').where('id', '=', ws.workspaceId).execute();
    expect((await verifyAudit(h().ctx)).breaks).toEqual([]);
  });

  it('event retention cuts the workspace chain from its start and records the floor; the rest still verifies', async () => {
    const ws = await threeEvents(h());
    const before = await workspaceEvents(h(), ws.workspaceId);
    // A month and a half later, one more workspace-level event; then the cleanup deletes what is past 30 days.
    h().advance(45 * DAY);
    try {
      await buildApiKey(h(), ws, { name: 'later' });
      const counts = await runCleanup(h().ctx);
      expect(counts.events).toBeGreaterThanOrEqual(before.length);
    } finally {
      h().advance(-45 * DAY);
    }
    const after = await workspaceEvents(h(), ws.workspaceId);
    expect(after.map((e) => Number(e.seq))).toEqual([before.length + 1]);
    const row = await h().ctx.database.db.selectFrom('workspaces').select(['chain_floor_seq', 'chain_floor_hash']).where('id', '=', ws.workspaceId).executeTakeFirstOrThrow();
    expect([Number(row.chain_floor_seq), row.chain_floor_hash]).toEqual([before.length, before[before.length - 1].hash]);
    expect(await workspaceBreaks(h(), ws.workspaceId)).toEqual([]);
  });
});

/** A SQLite database of its own, not migrated, for a migration test; removed afterwards. */
async function withUnmigratedSqlite(body: (database: Database) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-migrate-'));
  const database = openDatabase({ dataDir: dir, sqliteRole: 'standalone' });
  try {
    await body(database);
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('migration 0005', () => {
  it('chains the workspace-level events stored before it, oldest first, so the audit walk verifies them', () =>
    withUnmigratedSqlite(async (database) => {
      await migrateTo(database.db, '0004-analytics');
      const now = Date.now();
      await database.db.insertInto('workspaces').values({ id: 'wsp_old', name: 'Old', policy: '{}', created_at: now, updated_at: now } as never).execute();
      for (const [id, at] of [['evt_b', now - 1000], ['evt_a', now - 2000], ['evt_c', now - 10]] as const) {
        await database.db
          .insertInto('events')
          .values({ id, workspace_id: 'wsp_old', link_id: null, seq: null, type: 'updated', actor: 'user:usr_1', metadata: JSON.stringify({ object: 'workspace', at }), created_at: at, prev_hash: null, hash: null })
          .execute();
      }
      expect(await migrateToLatest(database.db)).toEqual(['0005-workspace-chain']);
      const rows = await database.db.selectFrom('events').select(['id', 'seq']).where('workspace_id', '=', 'wsp_old').orderBy('seq').execute();
      expect(rows.map((r) => [r.id, Number(r.seq)])).toEqual([['evt_a', 1], ['evt_b', 2], ['evt_c', 3]]);
      const report = await verifyAudit({ database });
      expect(report).toMatchObject({ workspaces: 1, events: 3, breaks: [] });
    }));
});

describe('migrations on SQLite', () => {
  it('run all or nothing: one that fails half-way leaves no table of its own behind, and the next run does them all', () =>
    withUnmigratedSqlite(async (database) => {
      await migrateTo(database.db, '0001-initial');
      // 0002 creates verification_codes, then comments: a comments table already there fails it half-way.
      await sql`create table comments (id text)`.execute(database.db);
      await expect(migrateToLatest(database.db)).rejects.toThrow(/comments/);
      const tables = async () => (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(database.db)).rows.map((r) => r.name);
      expect(await tables()).not.toContain('verification_codes');
      expect(await pendingMigrations(database.db)).toEqual(['0002-recipients', '0003-retention', '0004-analytics', '0005-workspace-chain']);
      await sql`drop table comments`.execute(database.db);
      expect(await migrateToLatest(database.db)).toEqual(['0002-recipients', '0003-retention', '0004-analytics', '0005-workspace-chain']);
      expect(await tables()).toContain('verification_codes');
    }));
});
