import { z } from 'zod';
import type { Comment } from '../../domain/comment.js';
import { iso } from './common.js';

/**
 * A comment as link holders see it: the name its author typed (unverified)
 * and whether they had proved an address, but not the address itself, which
 * other holders of the link have no business learning.
 */
export const sharedCommentSchema = z.object({
  id: z.string(),
  record_id: z.string().nullable().describe("The record commented on; null for a comment on a collection link's list as a whole"),
  author_name: z.string().nullable(),
  author_verified: z.boolean().describe('The author had proved an email address with a one-time code'),
  body: z.string(),
  created_at: z.string(),
});

/** A comment as the workspace sees it: also the link, the type and the proven address. */
export const commentSchema = sharedCommentSchema.extend({
  link_id: z.string(),
  resource_type: z.string(),
  author_email: z.string().nullable(),
});

export const presentSharedComment = (c: Comment): z.infer<typeof sharedCommentSchema> => ({
  id: c.id,
  record_id: c.recordId,
  author_name: c.authorName,
  author_verified: c.authorEmail !== null,
  body: c.body,
  created_at: iso(c.createdAt) as string,
});

export const presentComment = (c: Comment): z.infer<typeof commentSchema> => ({
  ...presentSharedComment(c),
  link_id: c.linkId,
  resource_type: c.resourceType,
  author_email: c.authorEmail,
});
