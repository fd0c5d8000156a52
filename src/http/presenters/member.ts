import { z } from 'zod';
import type { SignedIn } from '../../app/get-me.js';
import { memberRoles, type Actor } from '../../domain/actor.js';
import { canAssignRole, canManageMembers } from '../../domain/policies.js';
import type { Member } from '../../storage/accounts.js';
import { iso } from './common.js';

export const memberSchema = z.object({
  user_id: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  role: z.enum(memberRoles),
  created_at: z.string(),
  permissions: z.object({ can_update: z.boolean(), can_remove: z.boolean() }),
});
export type MemberView = z.infer<typeof memberSchema>;

/** A member as the workspace sees them, with what the actor may do to them so the dashboard can hide the rest. */
export function presentMember(actor: Actor, m: Member): MemberView {
  const allowed = canManageMembers(actor) && (m.role !== 'owner' || canAssignRole(actor, 'owner'));
  return {
    user_id: m.userId,
    email: m.email,
    name: m.name,
    role: m.role,
    created_at: iso(m.createdAt) as string,
    permissions: { can_update: allowed, can_remove: allowed },
  };
}

export const addedMemberSchema = memberSchema.extend({
  password: z.string().nullable().describe('The generated password of a new account, shown this once; null otherwise'),
});

/** The signed-in member, as login and /v1/auth/me answer. */
export const signedInSchema = z.object({
  user: z.object({ id: z.string(), email: z.string(), name: z.string().nullable() }),
  workspace: z.object({ id: z.string(), name: z.string() }),
  role: z.enum(memberRoles),
  csrf_token: z.string().describe('Echo in X-CSRF-Token on every POST, PATCH, PUT and DELETE made with the session cookie'),
});

export const presentSignedIn = (s: SignedIn): z.infer<typeof signedInSchema> => ({
  user: { id: s.user.id, email: s.user.email, name: s.user.name },
  workspace: { id: s.workspace.id, name: s.workspace.name },
  role: s.role,
  csrf_token: s.csrfToken,
});
