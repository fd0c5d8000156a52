import { z } from 'zod';
import { AUTHOR_NAME_MAX_LENGTH, COMMENT_MAX_LENGTH } from '../domain/comment.js';
import { resourceIdParam } from './link-inputs.js';

/** Text may hold tabs and line breaks, no other control character (PostgreSQL refuses NUL in text outright). */
const TEXT_CHARS = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/;
/** A name is one line. */
const NAME_CHARS = /^[^\u0000-\u001f\u007f]*$/;

/**
 * A comment's text: line breaks as `\n` (a browser's form sends `\r\n`, which
 * would count twice), trimmed, 1 to 5000 characters. The length is checked
 * after that, so the document shows no maxLength: the description says it;
 * the body limit bounds what is read at all.
 */
export const commentText = z
  .string()
  .transform((s) => s.replace(/\r\n?/g, '\n'))
  .pipe(
    z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(COMMENT_MAX_LENGTH, `must be at most ${COMMENT_MAX_LENGTH} characters`)
      .regex(TEXT_CHARS, 'must not contain control characters'),
  );

/** The name a commenter may give; empty means none. */
export const authorName = z
  .string()
  .trim()
  .max(AUTHOR_NAME_MAX_LENGTH, `must be at most ${AUTHOR_NAME_MAX_LENGTH} characters`)
  .regex(NAME_CHARS, 'must not contain control characters');

const commentFields = {
  body: commentText.describe('The comment, 1 to 5000 characters once trimmed'),
  author_name: authorName.nullable().optional().describe('A name to show with the comment (not verified); at most 100 characters'),
  record_id: resourceIdParam
    .optional()
    .describe("The record commented on: a row inside a collection link's filter; absent for the collection as a whole. On a single-resource link, absent or the link's own resource."),
};

/** `POST /v1/shared/{id}/comments`. */
export const addCommentBody = z.object(commentFields).strict();
export type AddCommentBody = z.infer<typeof addCommentBody>;

/** The page's comment form: the same fields, and whatever else a browser adds is ignored. */
export const commentForm = z.object(commentFields);
