import { randomBytes } from 'node:crypto';
import { AppError, notFound } from '../domain/errors.js';
import { hashPassword, verifyPassword } from '../domain/passwords.js';
import { sha256 } from '../domain/tokens.js';
import { deleteExpiredSessions, deleteSession, findUserByEmail, firstMembership, insertSession } from '../storage/accounts.js';
import { findWorkspace } from '../storage/workspaces.js';
import type { AppContext } from './context.js';
import type { LoginBody } from './account-inputs.js';
import type { SignedIn } from './get-me.js';
import { limitedClient } from '../domain/ip.js';

export const SESSION_TTL_MS = 30 * 86_400_000;

const WRONG = 'The email or password is incorrect';

/**
 * A hash of nothing anyone knows, checked when the email is unknown so that an
 * unknown address costs the same scrypt as a wrong password and timing does not tell them apart.
 */
let dummyHash: Promise<string> | undefined;
const dummy = (): Promise<string> => (dummyHash ??= hashPassword(randomBytes(16).toString('hex')));

export type LoggedIn = SignedIn & { sessionId: string; expiresAt: number };

/**
 * Checks an email and password and opens a 30-day session in the user's
 * first workspace. Only the session id's SHA-256 is stored; the id itself
 * exists once, in the cookie. A session presented with the request is ended, so signing in again never leaves two.
 * Failed attempts count against the client and the email in the shared miss limiter (429 once over).
 */
export async function login(
  ctx: AppContext,
  body: LoginBody,
  request: { client: string; previousSessionId?: string },
): Promise<LoggedIn> {
  const { db } = ctx.database;
  const now = ctx.now();
  // Guessing is throttled per client and per account, before any password is checked.
  const throttleKeys = [`login:client:${limitedClient(request.client)}`, `login:email:${body.email.toLowerCase()}`];
  const retryAfter = Math.max(...throttleKeys.map((k) => ctx.misses.retryAfter(k, now)));
  if (retryAfter > 0) throw new AppError('rate_limited', 'Too many failed sign-ins; try again later', { retryAfter });
  const refuse = (): never => {
    for (const k of throttleKeys) ctx.misses.recordMiss(k, now);
    throw new AppError('invalid_credentials', WRONG);
  };

  const user = await findUserByEmail(db, body.email);
  const passwordMatches = await verifyPassword(body.password, user?.passwordHash ?? (await dummy()));
  if (!user || !passwordMatches) return refuse();
  const membership = await firstMembership(db, user.id);
  // Same answer as a wrong password: a former member learns nothing from signing in.
  if (!membership) return refuse();
  const workspace = await findWorkspace(db, membership.workspaceId);
  if (!workspace) throw notFound('Workspace');

  const sessionId = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const expiresAt = now + SESSION_TTL_MS;
  await db.transaction().execute(async (tx) => {
    if (request.previousSessionId) await deleteSession(tx, sha256(request.previousSessionId));
    await deleteExpiredSessions(tx, user.id, now);
    await insertSession(tx, { idHash: sha256(sessionId), userId: user.id, workspaceId: workspace.id, csrfToken, createdAt: now, expiresAt });
  });
  return {
    sessionId,
    expiresAt,
    user: { id: user.id, email: user.email, name: user.name },
    workspace: { id: workspace.id, name: workspace.name },
    role: membership.role,
    csrfToken,
  };
}
