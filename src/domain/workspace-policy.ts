import { AppError } from './errors.js';
import { formatIp, ipPrefix, parseIp, type Ip } from './ip.js';
import { defaultLinkSettings, type LinkSettings } from './link.js';

export const ipStorageModes = ['truncated', 'full', 'none'] as const;
export type IpStorageMode = (typeof ipStorageModes)[number];

export type WorkspacePolicy = {
  defaultExpiryDays: number;
  /** `null`: no upper bound on a link's lifetime. */
  maxExpiryDays: number | null;
  allowNeverExpiring: boolean;
  allowAllFields: boolean;
  ipStorage: IpStorageMode;
  defaultSettings: LinkSettings;
  /** Days a link stays after it expired or was revoked, before cleanup deletes it. */
  linkRetentionDays: number;
  /** Days an event is kept (by its time), links' chains and workspace events alike. */
  eventRetentionDays: number;
};

/** The bounds of the two retention settings, in days (DESIGN §6: 30 and 365 by default). */
export const retentionBounds = {
  linkRetentionDays: { min: 1, max: 3650 },
  eventRetentionDays: { min: 30, max: 3650 },
} as const;

export const defaultWorkspacePolicy: Readonly<WorkspacePolicy> = Object.freeze({
  defaultExpiryDays: 7,
  maxExpiryDays: 365,
  allowNeverExpiring: false,
  allowAllFields: true,
  ipStorage: 'truncated',
  defaultSettings: { ...defaultLinkSettings },
  linkRetentionDays: 30,
  eventRetentionDays: 365,
});

const DAY = 86_400_000;

/** What a create or patch asks for, before the policy fills the gaps. */
export type ExpiryRequest =
  | { kind: 'default' }
  | { kind: 'days'; days: number }
  | { kind: 'at'; at: number }
  | { kind: 'never' };

/** Turns an expiry request into `expires_at` under the policy, or refuses naming the rule. */
export function resolveExpiry(policy: WorkspacePolicy, req: ExpiryRequest, now: number): number | null {
  if (req.kind === 'never') {
    if (!policy.allowNeverExpiring) {
      throw new AppError('policy_violation', 'This workspace does not allow links that never expire', {
        rule: 'allow_never_expiring',
      });
    }
    return null;
  }
  const at =
    req.kind === 'default' ? now + policy.defaultExpiryDays * DAY : req.kind === 'days' ? now + req.days * DAY : req.at;
  if (at <= now) throw new AppError('invalid_request', 'The expiry must be in the future', { field: 'expires_at' });
  if (policy.maxExpiryDays !== null && at > now + policy.maxExpiryDays * DAY + 60_000) {
    throw new AppError(
      'policy_violation',
      `This workspace allows links to live at most ${policy.maxExpiryDays} days`,
      { rule: 'max_expiry_days' },
    );
  }
  return at;
}

/** Refuses `fields: "all"` where the workspace forbids sharing every field. */
export function checkFieldSelection(policy: WorkspacePolicy, settings: LinkSettings): void {
  if (settings.fields === 'all' && !policy.allowAllFields) {
    throw new AppError('policy_violation', 'This workspace does not allow sharing all fields', {
      rule: 'allow_all_fields',
    });
  }
}

/** Checks a policy is coherent with itself (a default beyond the maximum is refused). */
export function checkPolicy(policy: WorkspacePolicy): void {
  if (policy.maxExpiryDays !== null && policy.defaultExpiryDays > policy.maxExpiryDays) {
    throw new AppError('invalid_request', 'default_expiry_days cannot exceed max_expiry_days', {
      field: 'default_expiry_days',
    });
  }
}

/**
 * An address as the policy keeps it: its network (/24 for IPv4, /48 for
 * IPv6), whole, or not at all. Kept in canonical form (IPv4-mapped IPv6 as
 * IPv4, RFC 5952 for IPv6), so one network is always written the same way.
 * What is not an address (a proxy's `unknown`) is not kept. `ip` is `text`
 * parsed, for a caller that has already parsed it.
 */
export function storedIp(text: string | undefined, mode: IpStorageMode, ip: Ip | null = text && mode !== 'none' ? parseIp(text) : null): string | null {
  if (!text || mode === 'none' || !ip) return null;
  return formatIp(mode === 'full' ? ip : ipPrefix(ip, ip.v === 4 ? 24 : 48));
}
