import type { Actor } from '../domain/actor.js';
import { sha256 } from '../domain/tokens.js';
import { deleteSession } from '../storage/accounts.js';
import type { AppContext } from './context.js';

/** Ends the caller's session: its row is deleted, so the cookie is worthless even if kept. */
export async function logout(ctx: AppContext, actor: Actor, sessionId: string | undefined): Promise<void> {
  // A request authenticated by an API key did not prove the cookie it carries; leave that session alone.
  if (actor.kind !== 'user' || !sessionId) return;
  await deleteSession(ctx.database.db, sha256(sessionId));
}
