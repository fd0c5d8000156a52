import { AppError } from './errors.js';
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
};

export const defaultWorkspacePolicy: Readonly<WorkspacePolicy> = Object.freeze({
  defaultExpiryDays: 7,
  maxExpiryDays: 365,
  allowNeverExpiring: false,
  allowAllFields: true,
  ipStorage: 'truncated',
  defaultSettings: { ...defaultLinkSettings },
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

/** Truncates an address as the policy asks: /24 for IPv4, /48 for IPv6, whole, or not at all. */
export function storedIp(ip: string | undefined, mode: IpStorageMode): string | null {
  if (!ip || mode === 'none') return null;
  if (mode === 'full') return ip;
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(v4)) return v4.split('.').slice(0, 3).join('.') + '.0';
  if (ip.includes(':')) {
    const [head] = ip.split('::');
    const groups = head.split(':').filter(Boolean);
    const full = ip.includes('::') ? groups : ip.split(':');
    return `${full.slice(0, 3).concat(['0', '0', '0']).slice(0, 3).join(':')}::`;
  }
  return null;
}
