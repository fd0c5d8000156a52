import { actorRef, type Actor } from './actor.js';
import { AppError } from './errors.js';
import type { Link } from './link.js';

/** Owners and admins run the workspace. */
export const isWorkspaceAdmin = (actor: Actor): boolean => actor.role === 'owner' || actor.role === 'admin';

/** Any member or key may share. */
export const canCreateLink = (_actor: Actor): boolean => true;

/** A link's creator, an admin or the owner may change it. */
export const canUpdateLink = (actor: Actor, link: Pick<Link, 'createdBy'>): boolean =>
  isWorkspaceAdmin(actor) || link.createdBy === actorRef(actor);

export const canRevokeLink = canUpdateLink;

/** Only owner and admin manage members, keys, policy and webhooks. */
export const canManageMembers = isWorkspaceAdmin;
export const canManageApiKeys = isWorkspaceAdmin;
export const canManagePolicy = isWorkspaceAdmin;

/** Resources are the integrator's data: any member or key may write them. */
export const canWriteResources = (_actor: Actor): boolean => true;

/** Only the owner may hand out or take away the owner role. */
export const canAssignRole = (actor: Actor, role: string): boolean =>
  role === 'owner' ? actor.role === 'owner' : isWorkspaceAdmin(actor);

/** Throws `forbidden` unless the check holds. */
export function authorize(allowed: boolean, what: string): void {
  if (!allowed) throw new AppError('forbidden', `You are not allowed to ${what}`);
}

/** The permissions a dashboard or client may show for a link. */
export const linkPermissionsFor = (actor: Actor, link: Pick<Link, 'createdBy'>) => ({
  can_update: canUpdateLink(actor, link),
  can_revoke: canRevokeLink(actor, link),
});
