import type { AccessAction } from '../domain/access.js';
import { AppError } from '../domain/errors.js';
import type { EventInput } from '../domain/event.js';
import type { Tx } from '../storage/database.js';
import { appendLiveLinkEvent } from '../storage/events.js';
import { authorizePublic, type PublicAccess, type PublicRequest } from './authorize-public.js';
import type { AppContext } from './context.js';

/**
 * Writes a change made through a link (a comment, an edit) in one transaction
 * that first chains its event onto the link, and only while the link still
 * passes: a change cannot land after the link was revoked, disabled, rotated
 * or expired between the gate and the write. When it no longer passes,
 * nothing is written, the gate runs again to name why (and records that
 * denial), and the caller gets that refusal.
 */
export async function writeThroughLink<T>(
  ctx: AppContext,
  req: PublicRequest,
  access: PublicAccess,
  action: AccessAction,
  event: EventInput,
  write: (tx: Tx) => Promise<T>,
): Promise<T> {
  const now = ctx.now();
  const written = await ctx.database.db.transaction().execute(async (tx) => {
    // The link row first, then the rest, as deleting a resource (which revokes its links) takes them: no lock cycle.
    if (!(await appendLiveLinkEvent(tx, access.link, event, now))) return null;
    return { value: await write(tx) };
  });
  if (written) return written.value;
  await authorizePublic(ctx, { ...req, grant: access.grant ?? req.grant }, action);
  throw new AppError('conflict', 'This share link changed while your change was being saved; open it again', { conflict: 'link_changed' });
}
