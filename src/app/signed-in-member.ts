import { AppError } from '../domain/errors.js';
import { authenticateSession } from './authenticate.js';
import type { AppContext } from './context.js';

/** Longer than any session id we hand out: not looked up. */
const MAX_SESSION_ID = 200;

/**
 * The dashboard member a session cookie signs in, if they are a member of
 * `workspaceId`: for the public gate, where a members-only link (one that
 * requires proof and names no one) lets its workspace's members in (DESIGN §4).
 * Anything else (no such session, ended, another workspace's, no longer a
 * member) is null: the link then asks for a code, as it would anyone.
 */
export async function signedInMember(ctx: AppContext, sessionId: string, workspaceId: string): Promise<{ userId: string; email: string } | null> {
  if (sessionId.length === 0 || sessionId.length > MAX_SESSION_ID) return null;
  try {
    const { actor } = await authenticateSession(ctx, sessionId, { stateChanging: false, csrfHeader: undefined });
    return actor.kind === 'user' && actor.workspaceId === workspaceId ? { userId: actor.userId, email: actor.email } : null;
  } catch (e) {
    if (e instanceof AppError) return null;
    throw e;
  }
}
