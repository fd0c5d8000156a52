import { defaultWorkspacePolicy, type WorkspacePolicy } from '../domain/workspace-policy.js';
import type { Selectable } from 'kysely';
import type { Executor } from './database.js';
import type { WorkspacesTable } from './schema.js';
import { parseJson } from './json.js';

export type Workspace = { id: string; name: string; policy: WorkspacePolicy; createdAt: number; updatedAt: number };

export async function insertWorkspace(db: Executor, w: Workspace): Promise<void> {
  await db
    .insertInto('workspaces')
    .values({ id: w.id, name: w.name, policy: JSON.stringify(w.policy), created_at: w.createdAt, updated_at: w.updatedAt })
    .execute();
}

export async function findWorkspace(db: Executor, id: string): Promise<Workspace | null> {
  const r = await db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toWorkspace(r) : null;
}

function toWorkspace(r: Selectable<WorkspacesTable>): Workspace {
  const stored = parseJson<Partial<WorkspacePolicy>>(r.policy, {});
  return {
    id: r.id,
    name: r.name,
    // Older rows lack newer policy keys: the defaults fill them.
    policy: {
      ...defaultWorkspacePolicy,
      ...stored,
      defaultSettings: { ...defaultWorkspacePolicy.defaultSettings, ...stored.defaultSettings },
    },
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * Every workspace in id order, a page at a time: for background work that
 * spans workspaces (retention), never reachable through the API.
 */
export async function listWorkspacesPage(db: Executor, q: { afterId?: string; limit: number }): Promise<Workspace[]> {
  let query = db.selectFrom('workspaces').selectAll();
  if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
  const rows = await query.orderBy('id').limit(q.limit).execute();
  return rows.map(toWorkspace);
}

export async function updateWorkspace(
  db: Executor,
  id: string,
  patch: { name?: string; policy?: WorkspacePolicy },
  now: number,
): Promise<void> {
  await db
    .updateTable('workspaces')
    .set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.policy !== undefined ? { policy: JSON.stringify(patch.policy) } : {}),
      updated_at: now,
    })
    .where('id', '=', id)
    .execute();
}

export async function countWorkspaces(db: Executor): Promise<number> {
  const r = await db.selectFrom('workspaces').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Takes the workspace row's write lock for the rest of the transaction (a no-op
 * update works on both dialects), so read-check-write sequences such as "is
 * this the last owner?" or a policy merge cannot interleave. Returns whether the workspace exists.
 */
export async function lockWorkspace(db: Executor, id: string): Promise<boolean> {
  const r = await db
    .updateTable('workspaces')
    .set((eb) => ({ updated_at: eb.ref('updated_at') }))
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
