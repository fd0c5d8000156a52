import { authorizePublic, type PublicRequest } from './authorize-public.js';
import type { AppContext } from './context.js';
import { findResourceAtVersion } from '../storage/resources.js';
import { linkStatus } from '../domain/link.js';

export type SharedLinkMeta = {
  status: ReturnType<typeof linkStatus>;
  title: string | null;
  expiresAt: number | null;
  requiresPassword: boolean;
  requiresAuth: boolean;
};

/**
 * Status and title without counting a view. The title is withheld while a
 * password or identity check stands in front of the content.
 */
export async function sharedLinkMeta(ctx: AppContext, req: PublicRequest): Promise<SharedLinkMeta> {
  const { link, hints } = await authorizePublic(ctx, req, 'meta');
  const guarded = link.passwordHash !== null || link.requiresAuth;
  let title: string | null = null;
  if (!guarded) {
    // A collection is titled as its page and JSON are: by its type's declared label.
    if (link.resourceId === null) title = (await ctx.contentCache.type(ctx.database.db, link.workspaceId, link.resourceType, hints.typeStamp)).label;
    else {
      const at = await findResourceAtVersion(ctx.database.db, { workspaceId: link.workspaceId, type: link.resourceType, id: link.resourceId }, link.pinnedVersion);
      title = at?.title ?? null;
    }
  }
  return { status: linkStatus(link, ctx.now()), title, expiresAt: link.expiresAt, requiresPassword: link.passwordHash !== null, requiresAuth: link.requiresAuth };
}
