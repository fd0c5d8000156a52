import { memberOf } from '../domain/actor.js';
import type { Comment } from '../domain/comment.js';
import { newId } from '../domain/ids.js';
import type { Link } from '../domain/link.js';
import { findUserById } from '../storage/accounts.js';
import { insertComment } from '../storage/comments.js';
import { enqueueMail, type OutgoingMail } from '../storage/outbox.js';
import { findResource } from '../storage/resources.js';
import { authorizePublic, type PublicRequest } from './authorize-public.js';
import type { AppContext } from './context.js';
import { commentTarget } from './list-comments.js';
import { sharedName } from './shared-name.js';
import { writeThroughLink } from './write-through-link.js';
import { oneLine } from './mail-text.js';

export type AddCommentInput = {
  /** Already validated (comment-inputs.ts): trimmed, 1 to 5000 characters. */
  body: string;
  authorName: string | null;
  /** The record commented on; absent for the link's own resource or the collection as a whole. */
  recordId?: string;
};

export type AddedComment = { comment: Comment; grant: string | null; grantExpiresAt: number | null };

/**
 * A link holder comments. The one gate decides (`comment`: viewer links are
 * refused) and limits posts per link and client; without a grant the request
 * counts a view and hands one out. The comment, its `commented` event (never
 * its text) and the owner's notice are written in one transaction.
 */
export async function addComment(ctx: AppContext, req: PublicRequest, input: AddCommentInput): Promise<AddedComment> {
  let recordId!: string | null;
  const access = await authorizePublic(ctx, req, 'comment', {
    throttle: ctx.commentPosts,
    // A record outside the link is refused before anything is counted.
    prepare: async (link) => {
      recordId = await commentTarget(ctx, link, input.recordId);
    },
  });
  const { link } = access;
  const now = ctx.now();
  const comment: Comment = {
    id: newId('cmt', now),
    workspaceId: link.workspaceId,
    linkId: link.id,
    resourceType: link.resourceType,
    recordId,
    authorEmail: access.email,
    authorName: input.authorName || null,
    body: input.body,
    createdAt: now,
  };
  // Read before the transaction, so it holds the write lock only for the writes.
  const notice = await ownerNotice(ctx, link, comment);
  await writeThroughLink(
    ctx,
    req,
    access,
    'comment',
    // Who and from where as the gate's own events record it (IP per the workspace's policy, the proven email as actor); never the text.
    { ...access.events, type: 'commented', metadata: { comment_id: comment.id, record_id: comment.recordId } },
    async (tx) => {
      await insertComment(tx, comment);
      if (notice) await enqueueMail(tx, notice, now);
    },
  );
  if (notice) ctx.mail.kick();
  return { comment, grant: access.grant, grantExpiresAt: access.grantExpiresAt };
}


/**
 * The mail to the member who created the link: which link (its label, else
 * what it shares), who wrote, and the comment quoted. It carries no token,
 * short code or grant: the owner reads comments in the dashboard or the API.
 */
async function ownerNotice(ctx: AppContext, link: Link, comment: Comment): Promise<OutgoingMail | null> {
  const userId = memberOf(link.createdBy);
  if (!userId) return null;
  const db = ctx.database.db;
  const owner = await findUserById(db, userId);
  if (!owner) return null;
  const shared = await sharedName(db, link);
  const name = link.label ?? shared;
  const record = comment.recordId !== null && link.resourceId === null ? await findResource(db, link.workspaceId, link.resourceType, comment.recordId) : null;
  const verified = comment.authorEmail ? `${comment.authorEmail}, verified` : null;
  const who = comment.authorName ? `${comment.authorName}${verified ? ` (${verified})` : ''}` : verified ? `${comment.authorEmail} (verified)` : 'Someone';
  const on = record ? ` on “${record.title}”` : comment.recordId !== null && link.resourceId === null ? ` on record ${comment.recordId}` : '';
  const quoted = comment.body
    .split('\n')
    .map((line) => (line ? `> ${line}` : '>'))
    .join('\n');
  const text = [
    `${who} commented${on} through your share link “${name}”${link.label ? ` (${shared})` : ''}:`,
    '',
    quoted,
    '',
    `Every comment on this link is listed in the Porthole dashboard and at ${ctx.config.publicUrl}/v1/links/${link.id}/comments.`,
    '',
  ].join('\n');
  return { workspaceId: link.workspaceId, kind: 'comment_notice', to: owner.email, subject: oneLine(`New comment on “${name}”`, 200), text };
}
