import { actorRef, type Actor } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import type { Link } from '../domain/link.js';
import { authorize, canUpdateLink } from '../domain/policies.js';
import { newLinkToken, newShortCode, sha256 } from '../domain/tokens.js';
import { appendLinkEvent } from '../storage/events.js';
import { updateLiveLink } from '../storage/links.js';
import type { AppContext } from './context.js';
import { loadLink } from './get-link.js';

/** Gives a link a new token and short code; the old ones and every grant die in the same commit. */
export async function rotateLink(ctx: AppContext, actor: Actor, id: string): Promise<Link> {
  const { db } = ctx.database;
  const now = ctx.now();
  const link = await loadLink(db, actor, id);
  authorize(canUpdateLink(actor, link), 'rotate this link');
  if (link.revokedAt !== null) throw new AppError('conflict', 'A revoked link cannot be rotated');
  const token = newLinkToken();
  const code = newShortCode();
  await db.transaction().execute(async (tx) => {
    const rotated = await updateLiveLink(
      tx,
      actor.workspaceId,
      id,
      { token_hash: sha256(token), short_code_hash: sha256(code), token_sealed: ctx.box.seal(token), short_code_sealed: ctx.box.seal(code), updated_at: now },
      { voidGrants: true },
    );
    // Revoked since it was read: the transaction rolls back and nothing is written.
    if (!rotated) throw new AppError('conflict', 'A revoked link cannot be rotated');
    await appendLinkEvent(tx, link, { type: 'rotated', actor: actorRef(actor) }, now);
  });
  return loadLink(db, actor, id);
}
