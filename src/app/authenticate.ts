import type { Actor } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import { isApiKey, safeEqual, sha256 } from '../domain/tokens.js';
import { findApiKeyByHash, findMember, findSession, touchApiKey } from '../storage/accounts.js';
import type { AppContext } from './context.js';

const ACTOR_RE = /^[\w.@:+-]{1,200}$/;

/** Resolves `Authorization: Bearer phk_…` (with an optional `X-Porthole-Actor`) to an actor. */
export async function authenticateApiKey(ctx: AppContext, key: string, appUser: string | undefined): Promise<Actor> {
  if (!isApiKey(key)) throw new AppError('unauthenticated', 'The API key is malformed');
  const found = await findApiKeyByHash(ctx.database.db, sha256(key));
  if (!found) throw new AppError('unauthenticated', 'The API key is unknown or revoked');
  if (appUser !== undefined && !ACTOR_RE.test(appUser)) {
    throw new AppError('invalid_request', 'X-Porthole-Actor must be 1-200 characters of letters, digits and . @ : + - _', {
      field: 'X-Porthole-Actor',
    });
  }
  await touchApiKey(ctx.database.db, found.id, ctx.now());
  return { kind: 'api_key', workspaceId: found.workspaceId, keyId: found.id, role: found.role, appUser: appUser ?? null };
}

/**
 * Resolves a session cookie to an actor. State-changing requests must echo the
 * session's CSRF token in `X-CSRF-Token`.
 */
export async function authenticateSession(
  ctx: AppContext,
  sessionId: string,
  opts: { stateChanging: boolean; csrfHeader: string | undefined },
): Promise<{ actor: Actor; csrfToken: string; sessionHash: string }> {
  const session = await findSession(ctx.database.db, sha256(sessionId), ctx.now());
  if (!session) throw new AppError('unauthenticated', 'Your session has ended; sign in again');
  if (opts.stateChanging && !(opts.csrfHeader && safeEqual(opts.csrfHeader, session.csrfToken))) {
    throw new AppError('csrf_required', 'This request needs the X-CSRF-Token header of your session');
  }
  const member = await findMember(ctx.database.db, session.workspaceId, session.userId);
  if (!member) throw new AppError('unauthenticated', 'You are no longer a member of this workspace');
  return {
    actor: { kind: 'user', workspaceId: member.workspaceId, userId: member.userId, role: member.role, email: member.email },
    csrfToken: session.csrfToken,
    sessionHash: session.idHash,
  };
}
