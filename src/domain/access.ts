import type { ErrorReason } from './errors.js';
import type { GrantClaims } from './grants.js';
import { namesNoOne, type Link } from './link.js';

/** What a public request wants to do with a link. */
export type AccessAction = 'view' | 'meta' | 'verify' | 'record' | 'table' | 'export' | 'comment' | 'edit';

/** The outcome of checking a one-time code sent with this request: none sent, a wrong one, or the address it proved. */
export type EmailCodeCheck = 'none' | 'invalid' | { email: string };

export type AccessRequest = {
  action: AccessAction;
  now: number;
  /** The identifier had the shape of a token or short code (checked before any database access). */
  identifierValid: boolean;
  rateLimited: boolean;
  /** The link found for the identifier, or null. */
  link: Link | null;
  /** A grant whose signature was verified, or null. */
  grant: GrantClaims | null;
  /** The outcome of checking a password sent with this request. */
  password: 'none' | 'valid' | 'invalid';
  /** The outcome of checking a one-time code sent with this request (none when absent). */
  emailCode?: EmailCodeCheck;
  /**
   * The signed-in member of the link's workspace making this request, where
   * the gate looked (a link that requires proof and names no one). Passes
   * such a link as a proven address does; it passes no other.
   */
  member?: { userId: string; email: string } | null;
};

export type DenyReason = Extract<
  ErrorReason,
  | 'rate_limited'
  | 'invalid_token'
  | 'not_found'
  | 'revoked'
  | 'disabled'
  | 'expired'
  | 'max_views_reached'
  | 'password_required'
  | 'password_invalid'
  | 'auth_required'
  | 'code_invalid'
  | 'export_disabled'
  | 'records_disabled'
  | 'forbidden'
>;

export type AccessDecision =
  | {
      allow: true;
      /** This request is a new view: count it (atomically) and hand out a grant. */
      countsView: boolean;
      /** The grant in hand is valid for this link. */
      hasGrant: boolean;
      /** Who is proven to be reading: the verified email, if any. */
      email: string | null;
      passwordUnlocked: boolean;
      /** Set when it is the signed-in member who proved who is reading (a members-only link). */
      member?: { userId: string; email: string };
    }
  | { allow: false; reason: DenyReason };

const deny = (reason: DenyReason): AccessDecision => ({ allow: false, reason });

/** A grant counts only for its own link, under the link's current epoch, before it lapses. */
export function isGrantValid(grant: GrantClaims | null, link: Pick<Link, 'id' | 'grantEpoch'>, now: number): boolean {
  return grant !== null && grant.linkId === link.id && grant.epoch === link.grantEpoch && grant.expiresAt > now;
}

/**
 * The one evaluator of DESIGN §4. Every public surface (JSON, pages, records,
 * tables, exports, comments) asks it, and nothing else decides access.
 * The order of the checks is the contract: the first that fails names the reason.
 */
export function evaluateAccess(req: AccessRequest): AccessDecision {
  if (req.rateLimited) return deny('rate_limited');
  if (!req.identifierValid) return deny('invalid_token');
  const link = req.link;
  if (!link) return deny('not_found');
  if (link.revokedAt !== null) return deny('revoked');
  if (!link.enabled) return deny('disabled');
  if (link.expiresAt !== null && link.expiresAt <= req.now) return deny('expired');

  const hasGrant = isGrantValid(req.grant, link, req.now);
  // `meta` reports status only: it is never stopped by the view limit, a password or an identity check, and reveals no content.
  if (req.action === 'meta') {
    return { allow: true, countsView: false, hasGrant, email: null, passwordUnlocked: false };
  }
  if (!hasGrant && link.maxViews !== null && link.viewCount >= link.maxViews) return deny('max_views_reached');
  // Asking for a one-time code reveals no content and counts no view; the code is checked, and the password with it, when it is used.
  if (req.action === 'verify') {
    return { allow: true, countsView: false, hasGrant, email: null, passwordUnlocked: false };
  }
  const countsView = !hasGrant;

  const passwordUnlocked = (hasGrant && req.grant?.passwordUnlocked === true) || req.password === 'valid';
  if (link.passwordHash !== null && !passwordUnlocked) {
    return deny(req.password === 'invalid' ? 'password_invalid' : 'password_required');
  }
  const code = req.emailCode ?? 'none';
  const proven = (hasGrant ? (req.grant?.email ?? null) : null) ?? (typeof code === 'object' ? code.email : null);
  // A signed-in member passes a link for the workspace's members (one that names no one), and only such a link; a code sent is what is judged.
  const member = proven === null && code === 'none' && link.requiresAuth && req.member && namesNoOne(link) ? req.member : null;
  const email = proven ?? member?.email ?? null;
  if (link.requiresAuth && email === null) return deny(code === 'invalid' ? 'code_invalid' : 'auth_required');

  if (req.action === 'export' && !link.settings.allowExport) return deny('export_disabled');
  if (req.action === 'record' && !link.settings.allowOpenRecords) return deny('records_disabled');
  if (req.action === 'comment' && link.accessRole === 'viewer') return deny('forbidden');
  if (req.action === 'edit' && link.accessRole !== 'editor') return deny('forbidden');

  return member ? { allow: true, countsView, hasGrant, email, passwordUnlocked, member } : { allow: true, countsView, hasGrant, email, passwordUnlocked };
}
