import type { Actor } from '../domain/actor.js';
import { listMembers as queryMembers, type Member } from '../storage/accounts.js';
import type { AppContext } from './context.js';

/** Every member of the actor's workspace; any member may see who else is in it. */
export async function listMembers(ctx: AppContext, actor: Actor): Promise<Member[]> {
  return queryMembers(ctx.database.db, actor.workspaceId);
}
