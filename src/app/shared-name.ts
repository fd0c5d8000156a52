import type { Link } from '../domain/link.js';
import type { Executor } from '../storage/database.js';
import { findResource, resourceTypeOrDefault } from '../storage/resources.js';

/** What a link shares, for people reading a mail: the resource's title, or the type's label for a collection. */
export async function sharedName(db: Executor, link: Pick<Link, 'workspaceId' | 'resourceType' | 'resourceId'>): Promise<string> {
  if (link.resourceId === null) return (await resourceTypeOrDefault(db, link.workspaceId, link.resourceType)).label;
  return (await findResource(db, link.workspaceId, link.resourceType, link.resourceId))?.title ?? link.resourceId;
}
