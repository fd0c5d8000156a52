import type { Actor } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import { decodeCursor, encodeCursor } from '../storage/json.js';
import { listResources as queryResources, type StoredResource } from '../storage/resources.js';
import type { AppContext } from './context.js';
import type { Page } from './list-links.js';

/** Resources of the workspace in (type, id) order. */
export async function listResources(
  ctx: AppContext,
  actor: Actor,
  input: { type?: string; cursor?: string; limit?: number },
): Promise<Page<StoredResource>> {
  const limit = input.limit ?? 50;
  let after: { type: string; id: string } | undefined;
  if (input.cursor !== undefined) {
    const key = decodeCursor(input.cursor, ['string', 'string']);
    if (!key) throw new AppError('invalid_cursor', 'The cursor is not one this API handed out');
    after = { type: key[0] as string, id: key[1] as string };
  }
  const rows = await queryResources(ctx.database, ctx.database.db, actor.workspaceId, { type: input.type, after, limit: limit + 1 });
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.type, last.id]) : null };
}
