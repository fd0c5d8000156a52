export const memberRoles = ['owner', 'admin', 'member'] as const;
export type MemberRole = (typeof memberRoles)[number];

/**
 * Who is making a management request: a signed-in member, or an API key,
 * optionally acting for an app-side user named in `X-Porthole-Actor`.
 */
export type Actor =
  | { kind: 'user'; workspaceId: string; userId: string; role: MemberRole; email: string }
  | { kind: 'api_key'; workspaceId: string; keyId: string; role: MemberRole; appUser: string | null };

/** A member as an event's actor or a link's `created_by`: `user:<id>`. */
export const userRef = (userId: string): string => `user:${userId}`;

/** The string recorded as `created_by` and as an event's actor. */
export function actorRef(actor: Actor): string {
  if (actor.kind === 'user') return userRef(actor.userId);
  return actor.appUser ? `app:${actor.appUser}` : `key:${actor.keyId}`;
}

/** The member a recorded actor names (`user:<id>` → the user's id), or null for API keys and app users. */
export const memberOf = (ref: string): string | null => (ref.startsWith('user:') ? ref.slice('user:'.length) : null);
