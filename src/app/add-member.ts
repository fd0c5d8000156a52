import { actorRef, type Actor } from '../domain/actor.js';
import { AppError, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { generatePassword, hashPassword } from '../domain/passwords.js';
import { authorize, canAssignRole, canManageMembers } from '../domain/policies.js';
import { findMember, findUserByEmail, insertMemberIfAbsent, insertUserIfAbsent, type Member } from '../storage/accounts.js';
import { insertWorkspaceEvent } from '../storage/events.js';
import type { AppContext } from './context.js';
import type { AddMemberBody } from './account-inputs.js';

export type AddedMember = {
  member: Member;
  /** The generated password of a new account: returned this once, never stored in the clear. */
  generatedPassword: string | null;
};

/**
 * Adds a person to the workspace: an existing account joins as it is (its
 * password stays its owner's), an unknown email gets a new account with the
 * given password or a generated one.
 */
export async function addMember(ctx: AppContext, actor: Actor, body: AddMemberBody): Promise<AddedMember> {
  authorize(canManageMembers(actor), 'manage members');
  authorize(canAssignRole(actor, body.role), `grant the ${body.role} role`);
  const { db } = ctx.database;
  const email = body.email.toLowerCase();
  const now = ctx.now();

  const existing = await findUserByEmail(db, email);
  if (existing && body.password !== undefined) {
    throw new AppError('conflict', 'This person already has an account; add them without a password, theirs stays as it is', {
      field: 'password',
    });
  }
  const generatedPassword = existing || body.password !== undefined ? null : generatePassword();
  const passwordHash = existing ? null : await hashPassword(body.password ?? (generatedPassword as string));

  const userId = await db.transaction().execute(async (tx) => {
    let id = existing?.id;
    if (!id) {
      id = newId('usr', now);
      const inserted = await insertUserIfAbsent(tx, { id, email, name: null, passwordHash: passwordHash as string, createdAt: now });
      if (!inserted) throw new AppError('conflict', 'An account for this email was created at the same moment; try again');
    }
    if (!(await insertMemberIfAbsent(tx, { workspaceId: actor.workspaceId, userId: id, role: body.role, createdAt: now }))) {
      throw new AppError('conflict', 'This person is already a member of the workspace', { field: 'email' });
    }
    await insertWorkspaceEvent(
      tx,
      actor.workspaceId,
      { type: 'created', actor: actorRef(actor), metadata: { object: 'member', user_id: id, role: body.role, new_account: !existing } },
      now,
    );
    return id;
  });
  const member = await findMember(db, actor.workspaceId, userId);
  if (!member) throw notFound('Member');
  return { member, generatedPassword };
}
