import { isAppError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { generatePassword, hashPassword } from '../domain/passwords.js';
import { newApiKey, sha256 } from '../domain/tokens.js';
import { defaultWorkspacePolicy } from '../domain/workspace-policy.js';
import { insertApiKey, insertMember, insertUser } from '../storage/accounts.js';
import { countWorkspaces, insertWorkspace } from '../storage/workspaces.js';
import type { AppContext } from './context.js';

export type Credentials = { workspaceId: string; email: string; password: string; apiKey: string };

/**
 * Creates a workspace with an owner account and an API key. Used on first
 * start, by tests and by the CLI. Returns the secrets: the only time they exist in the clear.
 */
export async function createWorkspaceWithOwner(
  ctx: AppContext,
  input: { name: string; email: string; password?: string },
): Promise<Credentials> {
  const now = ctx.now();
  const password = input.password ?? generatePassword();
  const passwordHash = await hashPassword(password);
  const apiKey = newApiKey();
  const workspaceId = newId('wsp', now);
  const userId = newId('usr', now);
  await ctx.database.db.transaction().execute(async (tx) => {
    await insertWorkspace(tx, { id: workspaceId, name: input.name, policy: { ...defaultWorkspacePolicy }, createdAt: now, updatedAt: now });
    await insertUser(tx, { id: userId, email: input.email.toLowerCase(), name: null, passwordHash, createdAt: now });
    await insertMember(tx, { workspaceId, userId, role: 'owner', createdAt: now });
    await insertApiKey(
      tx,
      { id: newId('key', now), workspaceId, name: 'Default key', role: 'admin', prefix: apiKey.slice(0, 12), createdBy: `user:${userId}`, createdAt: now, lastUsedAt: null, revokedAt: null },
      sha256(apiKey),
    );
  });
  return { workspaceId, email: input.email.toLowerCase(), password, apiKey };
}

/**
 * On the very first start (no workspace yet) creates one and returns its
 * credentials; otherwise null. Instances starting at once on an empty
 * database all find it empty: the first to commit makes the workspace, and
 * the others, refused for its owner's address, start without making one.
 */
export async function bootstrapIfEmpty(ctx: AppContext): Promise<Credentials | null> {
  if ((await countWorkspaces(ctx.database.db)) > 0) return null;
  try {
    return await createWorkspaceWithOwner(ctx, { name: 'My workspace', email: 'owner@porthole.local' });
  } catch (e) {
    if (isAppError(e) && e.reason === 'conflict' && (await countWorkspaces(ctx.database.db)) > 0) return null;
    throw e;
  }
}
