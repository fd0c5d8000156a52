import type { MemberRole } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import { violatedConstraint, type Executor } from './database.js';

export type User = { id: string; email: string; name: string | null; passwordHash: string; createdAt: number };
export type Member = { workspaceId: string; userId: string; email: string; name: string | null; role: MemberRole; createdAt: number };
export type ApiKey = {
  id: string;
  workspaceId: string;
  name: string;
  role: MemberRole;
  prefix: string;
  createdBy: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
};
export type Session = { idHash: string; userId: string; workspaceId: string; csrfToken: string; createdAt: number; expiresAt: number };

/** Inserts a user; an email already taken is a `conflict`, not a database error. */
export async function insertUser(db: Executor, u: User): Promise<void> {
  try {
    await db
      .insertInto('users')
      .values({ id: u.id, email: u.email, name: u.name, password_hash: u.passwordHash, created_at: u.createdAt })
      .execute();
  } catch (e) {
    if (violatedConstraint(e) === 'users_email_key') throw new AppError('conflict', `An account with the email ${u.email} already exists`);
    throw e;
  }
}

export async function findUserByEmail(db: Executor, email: string): Promise<User | null> {
  const r = await db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
  return r ? { id: r.id, email: r.email, name: r.name, passwordHash: r.password_hash, createdAt: r.created_at } : null;
}

export async function findUserById(db: Executor, id: string): Promise<User | null> {
  const r = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? { id: r.id, email: r.email, name: r.name, passwordHash: r.password_hash, createdAt: r.created_at } : null;
}

export async function updateUserPassword(db: Executor, id: string, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).execute();
}

export async function insertMember(db: Executor, m: Omit<Member, 'email' | 'name'>): Promise<void> {
  await db
    .insertInto('members')
    .values({ workspace_id: m.workspaceId, user_id: m.userId, role: m.role, created_at: m.createdAt })
    .execute();
}

const memberQuery = (db: Executor, workspaceId: string) =>
  db
    .selectFrom('members')
    .innerJoin('users', 'users.id', 'members.user_id')
    .select(['members.workspace_id', 'members.user_id', 'members.role', 'members.created_at', 'users.email', 'users.name'])
    .where('members.workspace_id', '=', workspaceId);

type MemberRow = { workspace_id: string; user_id: string; role: string; created_at: number; email: string; name: string | null };
const toMember = (r: MemberRow): Member => ({
  workspaceId: r.workspace_id,
  userId: r.user_id,
  email: r.email,
  name: r.name,
  role: r.role as MemberRole,
  createdAt: r.created_at,
});

export async function listMembers(db: Executor, workspaceId: string): Promise<Member[]> {
  const rows = await memberQuery(db, workspaceId).orderBy('members.created_at').orderBy('members.user_id').execute();
  return rows.map(toMember);
}

export async function findMember(db: Executor, workspaceId: string, userId: string): Promise<Member | null> {
  const r = await memberQuery(db, workspaceId).where('members.user_id', '=', userId).executeTakeFirst();
  return r ? toMember(r) : null;
}

/** The workspace a user signs in to: their oldest membership. */
export async function firstMembership(db: Executor, userId: string): Promise<Member | null> {
  const r = await db
    .selectFrom('members')
    .innerJoin('users', 'users.id', 'members.user_id')
    .select(['members.workspace_id', 'members.user_id', 'members.role', 'members.created_at', 'users.email', 'users.name'])
    .where('members.user_id', '=', userId)
    .orderBy('members.created_at')
    .executeTakeFirst();
  return r ? toMember(r) : null;
}

export async function updateMemberRole(db: Executor, workspaceId: string, userId: string, role: MemberRole): Promise<void> {
  await db.updateTable('members').set({ role }).where('workspace_id', '=', workspaceId).where('user_id', '=', userId).execute();
}

export async function deleteMember(db: Executor, workspaceId: string, userId: string): Promise<void> {
  await db.deleteFrom('members').where('workspace_id', '=', workspaceId).where('user_id', '=', userId).execute();
  await db.deleteFrom('sessions').where('workspace_id', '=', workspaceId).where('user_id', '=', userId).execute();
}

export async function countOwners(db: Executor, workspaceId: string): Promise<number> {
  const r = await db
    .selectFrom('members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function insertSession(db: Executor, s: Session): Promise<void> {
  await db
    .insertInto('sessions')
    .values({
      id_hash: s.idHash,
      user_id: s.userId,
      workspace_id: s.workspaceId,
      csrf_token: s.csrfToken,
      created_at: s.createdAt,
      expires_at: s.expiresAt,
    })
    .execute();
}

export async function findSession(db: Executor, idHash: string, now: number): Promise<Session | null> {
  const r = await db
    .selectFrom('sessions')
    .selectAll()
    .where('id_hash', '=', idHash)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return r
    ? { idHash: r.id_hash, userId: r.user_id, workspaceId: r.workspace_id, csrfToken: r.csrf_token, createdAt: r.created_at, expiresAt: r.expires_at }
    : null;
}

export async function deleteSession(db: Executor, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

type KeyRow = {
  id: string;
  workspace_id: string;
  name: string;
  role: string;
  prefix: string;
  created_by: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
};
const toKey = (r: KeyRow): ApiKey => ({
  id: r.id,
  workspaceId: r.workspace_id,
  name: r.name,
  role: r.role as MemberRole,
  prefix: r.prefix,
  createdBy: r.created_by,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export async function insertApiKey(db: Executor, k: ApiKey, keyHash: string): Promise<void> {
  await db
    .insertInto('api_keys')
    .values({
      id: k.id,
      workspace_id: k.workspaceId,
      name: k.name,
      role: k.role,
      prefix: k.prefix,
      key_hash: keyHash,
      created_by: k.createdBy,
      created_at: k.createdAt,
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
}

/** A live key by the hash of its secret. */
export async function findApiKeyByHash(db: Executor, keyHash: string): Promise<ApiKey | null> {
  const r = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('key_hash', '=', keyHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return r ? toKey(r) : null;
}

export async function listApiKeys(db: Executor, workspaceId: string): Promise<ApiKey[]> {
  const rows = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toKey);
}

export async function findApiKey(db: Executor, workspaceId: string, id: string): Promise<ApiKey | null> {
  const r = await db.selectFrom('api_keys').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  return r ? toKey(r) : null;
}

export async function revokeApiKey(db: Executor, workspaceId: string, id: string, now: number): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Records use at most once a minute per key, so the hot path is not a write per request. */
export async function touchApiKey(db: Executor, id: string, now: number): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', now - 60_000)]))
    .execute();
}

/**
 * Inserts a user unless the email is taken (concurrently, say); returns whether it did.
 * ON CONFLICT DO NOTHING keeps a PostgreSQL transaction usable where a unique violation would abort it.
 */
export async function insertUserIfAbsent(db: Executor, u: User): Promise<boolean> {
  const r = await db
    .insertInto('users')
    .values({ id: u.id, email: u.email, name: u.name, password_hash: u.passwordHash, created_at: u.createdAt })
    .onConflict((oc) => oc.column('email').doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Adds a membership unless the user already has one in the workspace; returns whether it did. */
export async function insertMemberIfAbsent(db: Executor, m: Omit<Member, 'email' | 'name'>): Promise<boolean> {
  const r = await db
    .insertInto('members')
    .values({ workspace_id: m.workspaceId, user_id: m.userId, role: m.role, created_at: m.createdAt })
    .onConflict((oc) => oc.columns(['workspace_id', 'user_id']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Drops a user's sessions that have run out, so the table does not grow with every sign-in. */
export async function deleteExpiredSessions(db: Executor, userId: string, now: number): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).where('expires_at', '<=', now).execute();
}
