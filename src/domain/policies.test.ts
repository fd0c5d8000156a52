import { describe, expect, it } from 'vitest';
import { actorRef, memberRoles, type Actor, type MemberRole } from './actor.js';
import { AppError } from './errors.js';
import {
  authorize,
  canAssignRole,
  canCreateLink,
  canManageApiKeys,
  canManageMembers,
  canManagePolicy,
  canRevokeLink,
  canUpdateLink,
  canWriteResources,
  isWorkspaceAdmin,
  linkPermissionsFor,
} from './policies.js';

const user = (role: MemberRole, userId = `u-${role}`): Actor => ({ kind: 'user', workspaceId: 'w1', userId, role, email: `${userId}@example.test` });
const key = (role: MemberRole, appUser: string | null = null, keyId = 'k1'): Actor => ({ kind: 'api_key', workspaceId: 'w1', keyId, role, appUser });

describe('link policies: creator, admin or owner', () => {
  // [actor role, is the creator, may update/revoke]
  const matrix: Array<[MemberRole, boolean, boolean]> = [
    ['owner', true, true],
    ['owner', false, true],
    ['admin', true, true],
    ['admin', false, true],
    ['member', true, true],
    ['member', false, false],
  ];

  it.each(matrix)('a signed-in %s (creator: %s) may change and revoke: %s', (role, isCreator, allowed) => {
    const actor = user(role);
    const link = { createdBy: isCreator ? actorRef(actor) : 'user:someone-else' };
    expect(canUpdateLink(actor, link)).toBe(allowed);
    expect(canRevokeLink(actor, link)).toBe(allowed);
    expect(linkPermissionsFor(actor, link)).toEqual({ can_update: allowed, can_revoke: allowed });
  });

  it.each(matrix)('an API key with role %s (creator: %s) may change and revoke: %s', (role, isCreator, allowed) => {
    const actor = key(role);
    const link = { createdBy: isCreator ? 'key:k1' : 'key:k2' };
    expect(canUpdateLink(actor, link)).toBe(allowed);
    expect(canRevokeLink(actor, link)).toBe(allowed);
  });

  it('a member key acting for an app user owns what that app user created, not what the bare key did', () => {
    const actor = key('member', 'alice');
    expect(canUpdateLink(actor, { createdBy: 'app:alice' })).toBe(true);
    expect(canUpdateLink(actor, { createdBy: 'app:bob' })).toBe(false);
    expect(canUpdateLink(actor, { createdBy: 'key:k1' })).toBe(false);
  });

  it('a user id never matches a key or app user of the same name', () => {
    expect(canRevokeLink(user('member', 'x'), { createdBy: 'app:x' })).toBe(false);
    expect(canRevokeLink(user('member', 'x'), { createdBy: 'key:x' })).toBe(false);
  });

  it('anyone may create links and write resources', () => {
    for (const role of memberRoles) {
      expect(canCreateLink(user(role))).toBe(true);
      expect(canCreateLink(key(role))).toBe(true);
      expect(canWriteResources(user(role))).toBe(true);
    }
  });
});

describe('workspace management', () => {
  it.each([
    ['owner', true],
    ['admin', true],
    ['member', false],
  ] as Array<[MemberRole, boolean]>)('a %s may manage members, keys and policy: %s', (role, allowed) => {
    for (const actor of [user(role), key(role)]) {
      expect(isWorkspaceAdmin(actor)).toBe(allowed);
      expect(canManageMembers(actor)).toBe(allowed);
      expect(canManageApiKeys(actor)).toBe(allowed);
      expect(canManagePolicy(actor)).toBe(allowed);
    }
  });

  // [actor role, role to assign, allowed]
  it.each([
    ['owner', 'owner', true],
    ['owner', 'admin', true],
    ['owner', 'member', true],
    ['admin', 'owner', false],
    ['admin', 'admin', true],
    ['admin', 'member', true],
    ['member', 'owner', false],
    ['member', 'admin', false],
    ['member', 'member', false],
  ] as Array<[MemberRole, MemberRole, boolean]>)('a %s may assign the role %s: %s', (role, target, allowed) => {
    expect(canAssignRole(user(role), target)).toBe(allowed);
  });
});

describe('authorize', () => {
  it('passes when allowed and throws forbidden naming the action otherwise', () => {
    expect(() => authorize(true, 'revoke this link')).not.toThrow();
    try {
      authorize(false, 'revoke this link');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).reason).toBe('forbidden');
      expect((e as AppError).message).toBe('You are not allowed to revoke this link');
    }
  });
});
