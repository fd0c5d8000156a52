/** The link as the application sees it; secrets (token, code, password) never live here in the clear. */
export const accessRoles = ['viewer', 'commenter', 'editor'] as const;
export type AccessRole = (typeof accessRoles)[number];

export const linkStatuses = ['active', 'disabled', 'expired', 'revoked', 'exhausted'] as const;
export type LinkStatus = (typeof linkStatuses)[number];

export type FieldSelection = 'default' | 'all' | string[];

export type LinkSettings = {
  fields: FieldSelection;
  allowExport: boolean;
  allowOpenRecords: boolean;
  displayToolbar: boolean;
  notifyOnView: boolean;
};

export const defaultLinkSettings: Readonly<LinkSettings> = Object.freeze({
  fields: 'default',
  allowExport: true,
  allowOpenRecords: false,
  displayToolbar: true,
  notifyOnView: false,
});

/** A collection filter: every key must equal the value (or one of the values) of that resource field. */
export type LinkFilter = Record<string, string | number | boolean | Array<string | number | boolean>>;

export type Link = {
  id: string;
  workspaceId: string;
  resourceType: string;
  resourceId: string | null;
  filter: LinkFilter | null;
  pinnedVersion: number | null;
  accessRole: AccessRole;
  passwordHash: string | null;
  requiresAuth: boolean;
  recipientEmail: string | null;
  recipientContactId: string | null;
  allowedEmails: string[];
  allowedDomains: string[];
  expiresAt: number | null;
  maxViews: number | null;
  viewCount: number;
  downloadCount: number;
  firstViewedAt: number | null;
  lastViewedAt: number | null;
  enabled: boolean;
  revokedAt: number | null;
  revokedBy: string | null;
  settings: LinkSettings;
  label: string | null;
  metadata: Record<string, unknown>;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  /** Bumped whenever every outstanding grant must die (revoke, disable, rotate, password change). */
  grantEpoch: number;
  /** The chain head as last read: the sequence number and hash of the link's latest event. */
  eventSeq: number;
  lastEventHash: string | null;
  tokenSealed: string;
  shortCodeSealed: string;
};

export const isCollection = (link: Pick<Link, 'resourceId'>): boolean => link.resourceId === null;

/** The one status shown everywhere; the order matches the resolve order of DESIGN §4. */
export function linkStatus(
  link: Pick<Link, 'revokedAt' | 'enabled' | 'expiresAt' | 'maxViews' | 'viewCount'>,
  now: number,
): LinkStatus {
  if (link.revokedAt !== null) return 'revoked';
  if (!link.enabled) return 'disabled';
  if (link.expiresAt !== null && link.expiresAt <= now) return 'expired';
  if (link.maxViews !== null && link.viewCount >= link.maxViews) return 'exhausted';
  return 'active';
}

/**
 * A link that requires proof of identity and names no recipient, allowed
 * address or domain is for the workspace's members only (DESIGN §4): a member
 * proves who they are by a one-time code, or by being signed in.
 */
export const namesNoOne = (link: Pick<Link, 'recipientEmail' | 'allowedEmails' | 'allowedDomains'>): boolean =>
  !link.recipientEmail && link.allowedEmails.length === 0 && link.allowedDomains.length === 0;

/**
 * Whether an address may receive a one-time code for a link that requires
 * proof of identity: `listed` when the link's recipient, allowed addresses
 * or allowed domains name it, `not_listed` when they name others, and
 * `members_only` when the link names no one (then only the workspace's
 * members pass, which the caller checks). Addresses compare case-insensitively;
 * a domain allows that exact domain.
 */
export function emailAllowance(link: Pick<Link, 'recipientEmail' | 'allowedEmails' | 'allowedDomains'>, email: string): 'listed' | 'not_listed' | 'members_only' {
  if (namesNoOne(link)) return 'members_only';
  const named = [...(link.recipientEmail ? [link.recipientEmail] : []), ...link.allowedEmails];
  const address = email.toLowerCase();
  if (named.some((e) => e.toLowerCase() === address)) return 'listed';
  const domain = address.slice(address.lastIndexOf('@') + 1);
  return link.allowedDomains.some((d) => d.toLowerCase() === domain) ? 'listed' : 'not_listed';
}
