import { actorRef, type Actor } from '../domain/actor.js';
import { AppError, notFound } from '../domain/errors.js';
import { authorize, canAssignRole, canManageMembers } from '../domain/policies.js';
import { countOwners, deleteMember, findMember } from '../storage/accounts.js';
import { insertWorkspaceEvent } from '../storage/events.js';
import { lockWorkspace } from '../storage/workspaces.js';
import type { AppContext } from './context.js';

/**
 * Takes a person out of the workspace and ends their sessions in it. Removing
 * an owner takes an owner; the last owner stays. Their account, and the links
 * and keys they created, remain.
 */
export async function removeMember(ctx: AppContext, actor: Actor, userId: string): Promise<void> {
  authorize(canManageMembers(actor), 'manage members');
  const { db } = ctx.database;
  const now = ctx.now();
  const target = await findMember(db, actor.workspaceId, userId);
  if (!target) throw notFound('Member');
  if (target.role === 'owner') authorize(canAssignRole(actor, 'owner'), 'remove an owner');

  await db.transaction().execute(async (tx) => {
    await lockWorkspace(tx, actor.workspaceId);
    const current = await findMember(tx, actor.workspaceId, userId);
    if (!current) throw notFound('Member');
    if (current.role === 'owner' && (await countOwners(tx, actor.workspaceId)) <= 1) {
      throw new AppError('conflict', 'The last owner cannot be removed; make someone else owner first');
    }
    await deleteMember(tx, actor.workspaceId, userId);
    await insertWorkspaceEvent(
      tx,
      actor.workspaceId,
      { type: 'deleted', actor: actorRef(actor), metadata: { object: 'member', user_id: userId, role: current.role } },
      now,
    );
  });
}
