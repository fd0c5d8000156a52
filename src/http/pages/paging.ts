import { PAGE_SIZE } from '../../app/shared-content.js';

/**
 * Where a reader is in a forward-only listing. Cursors only go forward, so the
 * way back travels in the URL: `prev` holds the cursors of the pages before
 * (joined with `.`, which base64url never uses) and `n` the page number.
 */
export type PageState = { cursor: string | undefined; trail: string[]; number: number };

export type PageQuery = { cursor?: string; prev?: string; n?: number };

export type Paging = {
  /** Rows before this page, for "rows 101–200 of 250". */
  offset: number;
  previous: string | null;
  /** Shown instead of "Previous" when the way back was too long to carry. */
  first: string | null;
  next: string | null;
};

// Longer trails are dropped (the reader then gets "First page" instead of "Previous"), so URLs stay short.
const MAX_TRAIL_CHARS = 2000;
const CURSOR = /^[A-Za-z0-9_-]{1,512}$/;

export function readPageState(q: PageQuery): PageState {
  const cursor = q.cursor ? q.cursor : undefined;
  if (cursor === undefined) return { cursor, trail: [], number: 1 };
  const trail = (q.prev ?? '').split('.').filter((c) => CURSOR.test(c));
  const number = Math.max(2, q.n ?? trail.length + 2);
  return { cursor, trail, number };
}

function href(path: string, params: Record<string, string | undefined>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') qs.set(k, v);
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

/** The links of a page's pager: previous (or first), next. */
export function pagingLinks(path: string, state: PageState, nextCursor: string | null): Paging {
  const offset = (state.number - 1) * PAGE_SIZE;
  let previous: string | null = null;
  let first: string | null = null;
  if (state.number === 2) previous = path;
  else if (state.number > 2 && state.trail.length > 0) {
    const back = state.trail[state.trail.length - 1];
    previous = href(path, { cursor: back, prev: state.trail.slice(0, -1).join('.'), n: String(state.number - 1) });
  } else if (state.number > 2) first = path;

  let next: string | null = null;
  if (nextCursor) {
    let trail = state.cursor ? [...state.trail, state.cursor] : [];
    if (trail.join('.').length > MAX_TRAIL_CHARS) trail = [];
    next = href(path, { cursor: nextCursor, prev: trail.join('.'), n: String(state.number + 1) });
  }
  return { offset, previous, first, next };
}
