import type { Actor } from '../domain/actor.js';
import { notFound } from '../domain/errors.js';
import { findWorkspace, type Workspace } from '../storage/workspaces.js';
import type { AppContext } from './context.js';

/** The actor's workspace and its policy; every member may read the rules links are made under. */
export async function getWorkspace(ctx: AppContext, actor: Actor): Promise<Workspace> {
  const workspace = await findWorkspace(ctx.database.db, actor.workspaceId);
  if (!workspace) throw notFound('Workspace');
  return workspace;
}
