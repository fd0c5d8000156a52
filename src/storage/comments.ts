import type { Selectable } from 'kysely';
import type { Comment } from '../domain/comment.js';
import type { Executor } from './database.js';
import type { CommentsTable } from './schema.js';

/**
 * The `resource_id` stored for a comment on a collection link as a whole. A
 * slash can never be part of a resource id (`resourceIdParam` refuses it), so
 * this names no resource and cannot be mistaken for a comment on one.
 */
export const COLLECTION_TARGET = '/';

/** Row → domain: the collection marker becomes `recordId: null`. */
export function toComment(r: Selectable<CommentsTable>): Comment {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    linkId: r.link_id,
    resourceType: r.resource_type,
    recordId: r.resource_id === COLLECTION_TARGET ? null : r.resource_id,
    authorEmail: r.author_email,
    authorName: r.author_name,
    body: r.body,
    createdAt: r.created_at,
  };
}

export async function insertComment(db: Executor, c: Comment): Promise<void> {
  await db
    .insertInto('comments')
    .values({
      id: c.id,
      workspace_id: c.workspaceId,
      link_id: c.linkId,
      resource_type: c.resourceType,
      resource_id: c.recordId ?? COLLECTION_TARGET,
      author_email: c.authorEmail,
      author_name: c.authorName,
      body: c.body,
      created_at: c.createdAt,
    })
    .execute();
}

export type CommentQuery = {
  /** Only the comments on this resource (a string), or on the collection as a whole (null); all of the link's when absent. */
  recordId?: string | null;
  /** Keyset: comments after this one, in (created_at, id) order. */
  after?: { createdAt: number; id: string };
  limit: number;
};

/** A link's comments, oldest first (the `(link_id, created_at, id)` index). */
export async function listComments(db: Executor, workspaceId: string, linkId: string, q: CommentQuery): Promise<Comment[]> {
  let query = db.selectFrom('comments').selectAll().where('workspace_id', '=', workspaceId).where('link_id', '=', linkId);
  if (q.recordId !== undefined) query = query.where('resource_id', '=', q.recordId ?? COLLECTION_TARGET);
  if (q.after) {
    const { createdAt, id } = q.after;
    query = query.where((eb) => eb.or([eb('created_at', '>', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '>', id)])]));
  }
  const rows = await query.orderBy('created_at').orderBy('id').limit(q.limit).execute();
  return rows.map(toComment);
}
