import type { Actor, MemberRole } from '../domain/actor.js';
import { AppError, notFound } from '../domain/errors.js';
import { sha256 } from '../domain/tokens.js';
import { findSession, findUserById, type User } from '../storage/accounts.js';
import { findWorkspace } from '../storage/workspaces.js';
import type { AppContext } from './context.js';

/** Who is signed in, where, as what, and the CSRF token the dashboard echoes on writes. */
export type SignedIn = {
  user: Pick<User, 'id' | 'email' | 'name'>;
  workspace: { id: string; name: string };
  role: MemberRole;
  csrfToken: string;
};

/**
 * The signed-in member behind a session cookie. API keys have no session: a
 * key asking is refused rather than shown a made-up user.
 */
export async function getMe(ctx: AppContext, actor: Actor, sessionId: string | undefined): Promise<SignedIn> {
  if (actor.kind !== 'user' || !sessionId) {
    throw new AppError('forbidden', 'Only a signed-in member has a session; API keys do not');
  }
  const { db } = ctx.database;
  const session = await findSession(db, sha256(sessionId), ctx.now());
  if (!session || session.userId !== actor.userId) throw new AppError('unauthenticated', 'Your session has ended; sign in again');
  const [user, workspace] = await Promise.all([findUserById(db, actor.userId), findWorkspace(db, actor.workspaceId)]);
  if (!user) throw new AppError('unauthenticated', 'Your session has ended; sign in again');
  if (!workspace) throw notFound('Workspace');
  return {
    user: { id: user.id, email: user.email, name: user.name },
    workspace: { id: workspace.id, name: workspace.name },
    role: actor.role,
    csrfToken: session.csrfToken,
  };
}
