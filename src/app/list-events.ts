import type { Actor } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import type { AuditEvent, EventType } from '../domain/event.js';
import { decodeCursor, encodeCursor } from '../storage/json.js';
import { listEvents as queryEvents } from '../storage/events.js';
import type { AppContext } from './context.js';
import { loadLink } from './get-link.js';
import type { Page } from './list-links.js';

export type ListEventsInput = {
  linkId?: string;
  types?: EventType[];
  since?: number;
  until?: number;
  cursor?: string;
  limit?: number;
};

/** The audit trail of one link or of the whole workspace, newest first. */
export async function listEvents(ctx: AppContext, actor: Actor, input: ListEventsInput): Promise<Page<AuditEvent>> {
  const { db } = ctx.database;
  if (input.linkId !== undefined) await loadLink(db, actor, input.linkId);
  if (input.since !== undefined && input.until !== undefined && input.since >= input.until) {
    throw new AppError('invalid_request', 'since must be before until', { field: 'since' });
  }
  let after: { createdAt: number; id: string } | undefined;
  if (input.cursor !== undefined) {
    const key = decodeCursor(input.cursor, ['number', 'string']);
    if (!key) throw new AppError('invalid_cursor', 'The cursor is not one this API handed out');
    after = { createdAt: key[0] as number, id: key[1] as string };
  }
  const limit = input.limit ?? 100;
  const rows = await queryEvents(db, actor.workspaceId, { linkId: input.linkId, types: input.types, since: input.since, until: input.until, after, limit: limit + 1 });
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt, last.id]) : null };
}

/** Every matching event, a page at a time, for CSV downloads of any length. */
export async function* allEvents(ctx: AppContext, actor: Actor, input: Omit<ListEventsInput, 'cursor' | 'limit'>): AsyncIterable<AuditEvent> {
  let cursor: string | undefined;
  do {
    const page = await listEvents(ctx, actor, { ...input, cursor, limit: 500 });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
