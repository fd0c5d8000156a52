import { actorRef, type Actor } from '../domain/actor.js';
import { newId } from '../domain/ids.js';
import { authorize, canAssignRole, canManageApiKeys } from '../domain/policies.js';
import { newApiKey, sha256 } from '../domain/tokens.js';
import { insertApiKey, type ApiKey } from '../storage/accounts.js';
import { insertWorkspaceEvent } from '../storage/events.js';
import type { AppContext } from './context.js';
import type { CreateApiKeyBody } from './account-inputs.js';

/** Shown in lists so a person can tell keys apart: `phk_` and the first 8 characters of the secret. */
const PREFIX_LENGTH = 12;

/** Creates a key. The returned secret exists only in this answer; the database keeps its SHA-256. */
export async function createApiKey(ctx: AppContext, actor: Actor, body: CreateApiKeyBody): Promise<{ apiKey: ApiKey; secret: string }> {
  authorize(canManageApiKeys(actor), 'manage API keys');
  authorize(canAssignRole(actor, body.role), `create ${body.role} keys`);
  const now = ctx.now();
  const secret = newApiKey();
  const apiKey: ApiKey = {
    id: newId('key', now),
    workspaceId: actor.workspaceId,
    name: body.name,
    role: body.role,
    prefix: secret.slice(0, PREFIX_LENGTH),
    createdBy: actorRef(actor),
    createdAt: now,
    lastUsedAt: null,
    revokedAt: null,
  };
  await ctx.database.db.transaction().execute(async (tx) => {
    await insertApiKey(tx, apiKey, sha256(secret));
    await insertWorkspaceEvent(
      tx,
      actor.workspaceId,
      { type: 'created', actor: apiKey.createdBy, metadata: { object: 'api_key', key_id: apiKey.id, role: apiKey.role } },
      now,
    );
  });
  return { apiKey, secret };
}
