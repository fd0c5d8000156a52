import type { Actor } from '../domain/actor.js';
import { COMMENT_PAGE_SIZE, type Comment } from '../domain/comment.js';
import { AppError } from '../domain/errors.js';
import type { Link } from '../domain/link.js';
import { listComments } from '../storage/comments.js';
import { decodeCursor, encodeCursor } from '../storage/json.js';
import { authorizePublic, type PublicRequest } from './authorize-public.js';
import type { AppContext } from './context.js';
import { loadLink } from './get-link.js';
import type { Page } from './list-links.js';
import { isInsideLink } from './shared-content.js';

/**
 * What a comment is on, checked against the link: on a single-resource link,
 * its resource (`recordId` absent or equal to it); on a collection link, the
 * collection as a whole (absent, null) or a row inside the link's filter, the
 * same check as opening that row as a record. Anything else is not found.
 */
export async function commentTarget(ctx: AppContext, link: Link, recordId: string | undefined): Promise<string | null> {
  if (recordId === undefined) return link.resourceId;
  if (!(await isInsideLink(ctx, link, recordId))) throw new AppError('not_found', 'This record is not part of this share link');
  return recordId;
}

/** Comment cursors name their link, so one from another link is refused. */
function readCursor(link: Pick<Link, 'id'>, cursor: string | undefined): { createdAt: number; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const key = decodeCursor(cursor, ['string', 'number', 'string']);
  if (!key || key[0] !== link.id) throw new AppError('invalid_cursor', 'This cursor does not belong to the comments of this link');
  return { createdAt: key[1] as number, id: key[2] as string };
}

async function commentPage(ctx: AppContext, link: Link, q: { recordId?: string | null; cursor?: string; limit: number }): Promise<Page<Comment>> {
  const after = readCursor(link, q.cursor);
  const rows = await listComments(ctx.database.db, link.workspaceId, link.id, { recordId: q.recordId, after, limit: q.limit + 1 });
  const items = rows.slice(0, q.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > q.limit && last ? encodeCursor([link.id, last.createdAt, last.id]) : null };
}

export type SharedCommentsInput = {
  /**
   * Whose comments: one record's (checked as `commentTarget` checks it), the
   * collection's own (null), or every comment of the link (absent).
   */
  recordId?: string | null;
  cursor?: string;
};

export type SharedComments = { page: Page<Comment>; grant: string | null; grantExpiresAt: number | null };

/**
 * A page of a link's comments (50, oldest first) for a link holder, through
 * the one gate as the `comment` action: viewer links are refused, and without
 * a grant the request counts a view and hands one out, as opening a record does.
 */
export async function listSharedComments(ctx: AppContext, req: PublicRequest, input: SharedCommentsInput): Promise<SharedComments> {
  let page!: Page<Comment>;
  const access = await authorizePublic(ctx, req, 'comment', {
    // An unknown record or a bad cursor burns no view.
    prepare: async (link) => {
      const recordId = input.recordId === undefined || input.recordId === null ? input.recordId : await commentTarget(ctx, link, input.recordId);
      page = await commentPage(ctx, link, { recordId, cursor: input.cursor, limit: COMMENT_PAGE_SIZE });
    },
  });
  return { page, grant: access.grant, grantExpiresAt: access.grantExpiresAt };
}

/** A link's comments for the workspace (oldest first); another workspace's link is not found. */
export async function listLinkComments(ctx: AppContext, actor: Actor, linkId: string, input: { cursor?: string; limit?: number }): Promise<Page<Comment>> {
  const link = await loadLink(ctx.database.db, actor, linkId);
  return commentPage(ctx, link, { cursor: input.cursor, limit: input.limit ?? COMMENT_PAGE_SIZE });
}
