import { actorRef, type Actor } from '../domain/actor.js';
import { AppError, notFound } from '../domain/errors.js';
import { authorize, canAssignRole, canManageMembers } from '../domain/policies.js';
import { countOwners, findMember, updateMemberRole, type Member } from '../storage/accounts.js';
import { insertWorkspaceEvent } from '../storage/events.js';
import { lockWorkspace } from '../storage/workspaces.js';
import type { AppContext } from './context.js';
import type { UpdateMemberBody } from './account-inputs.js';

/**
 * Changes a member's role. Only an owner may make or unmake an owner, and the
 * last owner cannot step down: a workspace always has someone who can run it.
 */
export async function updateMember(ctx: AppContext, actor: Actor, userId: string, body: UpdateMemberBody): Promise<Member> {
  authorize(canManageMembers(actor), 'manage members');
  const { db } = ctx.database;
  const now = ctx.now();
  const target = await findMember(db, actor.workspaceId, userId);
  if (!target) throw notFound('Member');
  const touchesOwner = target.role === 'owner' || body.role === 'owner';
  authorize(canAssignRole(actor, touchesOwner ? 'owner' : body.role), touchesOwner ? 'grant or take away the owner role' : `grant the ${body.role} role`);
  if (target.role === body.role) return target;

  await db.transaction().execute(async (tx) => {
    // Two owners demoting each other at once must not leave the workspace with none.
    await lockWorkspace(tx, actor.workspaceId);
    const current = await findMember(tx, actor.workspaceId, userId);
    if (!current) throw notFound('Member');
    if (current.role === 'owner' && body.role !== 'owner' && (await countOwners(tx, actor.workspaceId)) <= 1) {
      throw new AppError('conflict', 'The last owner cannot be demoted; make someone else owner first');
    }
    await updateMemberRole(tx, actor.workspaceId, userId, body.role);
    await insertWorkspaceEvent(
      tx,
      actor.workspaceId,
      { type: 'updated', actor: actorRef(actor), metadata: { object: 'member', user_id: userId, from_role: current.role, role: body.role } },
      now,
    );
  });
  const updated = await findMember(db, actor.workspaceId, userId);
  if (!updated) throw notFound('Member');
  return updated;
}
