import { actorRef, type Actor } from '../domain/actor.js';
import type { Link } from '../domain/link.js';
import { authorize, canRevokeLink } from '../domain/policies.js';
import type { Tx } from '../storage/database.js';
import { appendLinkEvent } from '../storage/events.js';
import { updateLiveLink } from '../storage/links.js';
import type { AppContext } from './context.js';
import { loadLink } from './get-link.js';

/** Revokes a link for good and voids its grants. Revoking twice is harmless and writes nothing new. */
export async function revokeLink(ctx: AppContext, actor: Actor, id: string): Promise<Link> {
  const { db } = ctx.database;
  const link = await loadLink(db, actor, id);
  authorize(canRevokeLink(actor, link), 'revoke this link');
  if (link.revokedAt !== null) return link;
  await db.transaction().execute((tx) => revokeInTx(tx, link, actorRef(actor), ctx.now()));
  return loadLink(db, actor, id);
}

/**
 * The revoke itself, for callers that already hold a transaction (deleting a
 * resource). A link already revoked (perhaps by a concurrent request) is left
 * as it is, with no second event.
 */
export async function revokeInTx(
  tx: Tx,
  link: Pick<Link, 'id' | 'workspaceId'>,
  by: string,
  now: number,
  reason?: string,
): Promise<void> {
  const revoked = await updateLiveLink(tx, link.workspaceId, link.id, { revoked_at: now, revoked_by: by, updated_at: now }, { voidGrants: true });
  if (!revoked) return;
  await appendLinkEvent(tx, link, { type: 'revoked', actor: by, metadata: reason ? { reason } : {} }, now);
}
