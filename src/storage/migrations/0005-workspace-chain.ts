import type { Kysely } from 'kysely';
import { eventHash } from '../../domain/event.js';
import { toEvent } from '../events.js';

/**
 * Workspace-level events (members and API keys added or removed, policy
 * changed, resources deleted, links deleted by retention) get a hash chain of
 * their own, one per workspace, as each link's events have had since 0001:
 * the workspace row carries its sequence and last hash, and, as links do since
 * 0003, where retention cut the chain. The workspace-level events already
 * stored are chained here, oldest first, so `porthole audit verify` can check
 * every event from now on. Frozen once landed.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('workspaces').addColumn('event_seq', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('workspaces').addColumn('last_event_hash', 'text').execute();
  await db.schema.alterTable('workspaces').addColumn('chain_floor_seq', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('workspaces').addColumn('chain_floor_hash', 'text').execute();

  const workspaces = await db.selectFrom('events').select('workspace_id').distinct().where('link_id', 'is', null).execute();
  for (const { workspace_id: workspaceId } of workspaces) {
    const rows = await db.selectFrom('events').selectAll().where('workspace_id', '=', workspaceId).where('link_id', 'is', null).orderBy('created_at').orderBy('id').execute();
    let prev: string | null = null;
    let seq = 0;
    for (const r of rows) {
      seq += 1;
      // Read as the audit walk reads an event (toEvent), so the hash is the one it will check.
      const hash = eventHash({ ...toEvent(r as Parameters<typeof toEvent>[0]), linkId: null, seq, prevHash: prev });
      await db.updateTable('events').set({ seq, prev_hash: prev, hash }).where('id', '=', r.id).execute();
      prev = hash;
    }
    await db.updateTable('workspaces').set({ event_seq: seq, last_event_hash: prev }).where('id', '=', workspaceId).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.updateTable('events').set({ seq: null, prev_hash: null, hash: null }).where('link_id', 'is', null).execute();
  for (const column of ['chain_floor_hash', 'chain_floor_seq', 'last_event_hash', 'event_seq']) {
    await db.schema.alterTable('workspaces').dropColumn(column).execute();
  }
}
