import type { Comment } from '../../../domain/comment.js';
import { AUTHOR_NAME_MAX_LENGTH, COMMENT_MAX_LENGTH } from '../../../domain/comment.js';
import { formatValue } from '../format.js';
import type { Chrome } from './toolbar.js';

export type CommentsBlock = {
  items: Comment[];
  /** The page with the comments after these, when there are more. */
  later: string | null;
  /** The first page of comments, when this is a later one. */
  first: string | null;
  /** Where the form posts (`…/comments`). */
  action: string;
  /** The record a comment from this page is on, for a row of a collection. */
  recordId?: string;
};

function CommentItem({ comment, locale }: { comment: Comment; locale: string }) {
  const when = formatValue(comment.createdAt, 'datetime', locale);
  return (
    <li className="comment">
      <p className="comment-meta">
        <span className="comment-author">{comment.authorName ?? 'Anonymous'}</span>
        {comment.authorEmail !== null ? <span className="chip">verified email</span> : null}
        {when.kind === 'time' ? <time dateTime={when.iso}>{when.text}</time> : null}
      </p>
      <p className="comment-body">{comment.body}</p>
    </li>
  );
}

/**
 * The comments of a commenter or editor link under what they are about, oldest
 * first, and a plain form to add one: it posts without script and the server
 * sends the reader back here. Every string is escaped by React.
 */
export function CommentsSection({ chrome, block }: { chrome: Chrome; block: CommentsBlock }) {
  return (
    <section className="card comments" id="comments" aria-labelledby="comments-heading">
      <div className="section-head">
        <h2 id="comments-heading">Comments</h2>
        {block.first ? (
          <a className="small-link" href={block.first}>
            First comments
          </a>
        ) : null}
      </div>
      {block.items.length === 0 ? (
        <p className="empty">{block.first ? 'No more comments.' : 'No comments yet.'}</p>
      ) : (
        <ol className="comment-list">
          {block.items.map((c) => (
            <CommentItem key={c.id} comment={c} locale={chrome.locale} />
          ))}
        </ol>
      )}
      {block.later ? (
        <p className="comment-more">
          <a className="button secondary" href={block.later}>
            Later comments
          </a>
        </p>
      ) : null}
      <form className="form comment-form" method="post" action={block.action}>
        {block.recordId !== undefined ? <input type="hidden" name="record_id" value={block.recordId} /> : null}
        <label htmlFor="comment-body">Add a comment</label>
        <textarea id="comment-body" name="body" required rows={4} maxLength={COMMENT_MAX_LENGTH} />
        <label htmlFor="comment-name">
          Your name <span className="optional">(optional)</span>
        </label>
        <input id="comment-name" name="author_name" type="text" autoComplete="name" maxLength={AUTHOR_NAME_MAX_LENGTH} />
        <button type="submit">Post comment</button>
      </form>
    </section>
  );
}
