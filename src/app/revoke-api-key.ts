import { actorRef, type Actor } from '../domain/actor.js';
import { notFound } from '../domain/errors.js';
import { authorize, canManageApiKeys } from '../domain/policies.js';
import { findApiKey, revokeApiKey as markRevoked, type ApiKey } from '../storage/accounts.js';
import { insertWorkspaceEvent } from '../storage/events.js';
import type { AppContext } from './context.js';

/** Revokes a key for good: its next request is unauthenticated. Revoking twice changes nothing. */
export async function revokeApiKey(ctx: AppContext, actor: Actor, id: string): Promise<ApiKey> {
  authorize(canManageApiKeys(actor), 'manage API keys');
  const { db } = ctx.database;
  const key = await findApiKey(db, actor.workspaceId, id);
  if (!key) throw notFound('API key');
  if (key.revokedAt !== null) return key;
  const now = ctx.now();
  await db.transaction().execute(async (tx) => {
    await markRevoked(tx, actor.workspaceId, id, now);
    await insertWorkspaceEvent(tx, actor.workspaceId, { type: 'revoked', actor: actorRef(actor), metadata: { object: 'api_key', key_id: id } }, now);
  });
  const revoked = await findApiKey(db, actor.workspaceId, id);
  if (!revoked) throw notFound('API key');
  return revoked;
}
