import type { Actor } from '../domain/actor.js';
import { authorize, canManageApiKeys } from '../domain/policies.js';
import { listApiKeys as queryApiKeys, type ApiKey } from '../storage/accounts.js';
import type { AppContext } from './context.js';

/** The workspace's keys, revoked ones included, newest first; the secret is never among them. */
export async function listApiKeys(ctx: AppContext, actor: Actor): Promise<ApiKey[]> {
  authorize(canManageApiKeys(actor), 'manage API keys');
  return queryApiKeys(ctx.database.db, actor.workspaceId);
}
