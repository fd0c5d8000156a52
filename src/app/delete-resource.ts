import { actorRef, type Actor } from '../domain/actor.js';
import { notFound } from '../domain/errors.js';
import { authorize, canWriteResources } from '../domain/policies.js';
import { insertWorkspaceEvent } from '../storage/events.js';
import { findLinkById, linkIdsForResource } from '../storage/links.js';
import { deleteResource as removeResource, findResource } from '../storage/resources.js';
import type { AppContext } from './context.js';
import { revokeInTx } from './revoke-link.js';

/** Deletes a resource with its history and revokes every link to it, in one transaction. */
export async function deleteResource(ctx: AppContext, actor: Actor, type: string, id: string): Promise<{ revokedLinks: number }> {
  authorize(canWriteResources(actor), 'delete resources');
  const now = ctx.now();
  const by = actorRef(actor);
  return ctx.database.db.transaction().execute(async (tx) => {
    if (!(await findResource(tx, actor.workspaceId, type, id))) throw notFound('Resource');
    const linkIds = await linkIdsForResource(tx, actor.workspaceId, type, id);
    for (const linkId of linkIds) {
      const link = await findLinkById(tx, actor.workspaceId, linkId);
      if (link) await revokeInTx(tx, link, by, now, 'resource_deleted');
    }
    await removeResource(tx, actor.workspaceId, type, id);
    await insertWorkspaceEvent(tx, actor.workspaceId, { type: 'deleted', actor: by, metadata: { resource_type: type, resource_id: id, revoked_links: linkIds.length } }, now);
    return { revokedLinks: linkIds.length };
  });
}
