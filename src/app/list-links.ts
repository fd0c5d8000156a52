import type { Actor } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import type { Link, LinkStatus } from '../domain/link.js';
import { decodeCursor, encodeCursor } from '../storage/json.js';
import { hasLinksOfType, listLinks as queryLinks } from '../storage/links.js';
import { isKnownType } from '../storage/resources.js';
import type { AppContext } from './context.js';

export type ListLinksInput = {
  resourceType?: string;
  resourceId?: string;
  collection?: boolean;
  status?: LinkStatus;
  createdBy?: string;
  includeRevoked?: boolean;
  cursor?: string;
  limit?: number;
};

export type Page<T> = { items: T[]; nextCursor: string | null };

/** Links of the workspace, newest first, with a cursor that stays stable as links are added. */
export async function listLinks(ctx: AppContext, actor: Actor, input: ListLinksInput): Promise<Page<Link>> {
  const { db } = ctx.database;
  const limit = input.limit ?? 50;
  let after: { createdAt: number; id: string } | undefined;
  if (input.cursor !== undefined) {
    const key = decodeCursor(input.cursor, ['number', 'string']);
    if (!key) throw new AppError('invalid_cursor', 'The cursor is not one this API handed out');
    after = { createdAt: key[0] as number, id: key[1] as string };
  }
  // A type whose last resource was deleted is still known through its (revoked) links.
  if (
    input.resourceType !== undefined &&
    !(await isKnownType(db, actor.workspaceId, input.resourceType)) &&
    !(await hasLinksOfType(db, actor.workspaceId, input.resourceType))
  ) {
    throw new AppError('unknown_resource_type', `No resource type ${input.resourceType} in this workspace`, { field: 'resource_type' });
  }
  if ((input.resourceId !== undefined || input.collection) && input.resourceType === undefined) {
    throw new AppError('invalid_request', 'Filtering by resource_id needs resource_type', { field: 'resource_type' });
  }
  const rows = await queryLinks(
    db,
    actor.workspaceId,
    {
      resourceType: input.resourceType,
      resourceId: input.collection ? null : input.resourceId,
      status: input.status,
      createdBy: input.createdBy,
      includeRevoked: input.includeRevoked ?? false,
      after,
      limit: limit + 1,
    },
    ctx.now(),
  );
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt, last.id]) : null };
}
