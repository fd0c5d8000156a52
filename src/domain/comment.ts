/**
 * A recipient's comment through a share link (DESIGN §3 `commenter`): on the
 * link's resource, on one row of a collection link, or on the collection as a whole.
 */
export type Comment = {
  id: string;
  workspaceId: string;
  linkId: string;
  resourceType: string;
  /** The resource commented on; null for a comment on a collection link as a whole. */
  recordId: string | null;
  /** The address the commenter proved with a one-time code, when the grant carried one. */
  authorEmail: string | null;
  /** The name the commenter typed, if any: unverified. */
  authorName: string | null;
  body: string;
  createdAt: number;
};

/** Characters of a comment's text, after trimming. */
export const COMMENT_MAX_LENGTH = 5000;
/** Characters of the optional author name. */
export const AUTHOR_NAME_MAX_LENGTH = 100;
/** Comments in one page of a listing, public or management (the default there). */
export const COMMENT_PAGE_SIZE = 50;
