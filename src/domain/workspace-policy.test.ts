import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { defaultLinkSettings } from './link.js';
import {
  checkFieldSelection,
  checkPolicy,
  defaultWorkspacePolicy,
  resolveExpiry,
  storedIp,
  type ExpiryRequest,
  type WorkspacePolicy,
} from './workspace-policy.js';

const NOW = Date.UTC(2026, 0, 15, 12);
const DAY = 86_400_000;
const policy = (over: Partial<WorkspacePolicy> = {}): WorkspacePolicy => ({ ...defaultWorkspacePolicy, ...over });

/** The AppError a call throws, so a test can check its reason and details. */
function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an AppError');
}

describe('resolveExpiry', () => {
  it('defaults to now + the policy default (7 days out of the box)', () => {
    expect(resolveExpiry(policy(), { kind: 'default' }, NOW)).toBe(NOW + 7 * DAY);
    expect(resolveExpiry(policy({ defaultExpiryDays: 2 }), { kind: 'default' }, NOW)).toBe(NOW + 2 * DAY);
  });

  it('takes a number of days or an instant', () => {
    expect(resolveExpiry(policy(), { kind: 'days', days: 30 }, NOW)).toBe(NOW + 30 * DAY);
    expect(resolveExpiry(policy(), { kind: 'at', at: NOW + 3_600_000 }, NOW)).toBe(NOW + 3_600_000);
  });

  it('refuses never-expiring links unless the workspace allows them', () => {
    const e = thrown(() => resolveExpiry(policy(), { kind: 'never' }, NOW));
    expect(e.reason).toBe('policy_violation');
    expect(e.details).toEqual({ rule: 'allow_never_expiring' });
    expect(resolveExpiry(policy({ allowNeverExpiring: true }), { kind: 'never' }, NOW)).toBeNull();
  });

  it.each<[string, ExpiryRequest]>([
    ['days', { kind: 'days', days: 366 }],
    ['at', { kind: 'at', at: NOW + 366 * DAY }],
  ])('refuses a lifetime beyond max_expiry_days (%s)', (_kind, req) => {
    const e = thrown(() => resolveExpiry(policy(), req, NOW));
    expect(e.reason).toBe('policy_violation');
    expect(e.details).toEqual({ rule: 'max_expiry_days' });
    expect(e.message).toContain('365 days');
  });

  it('allows exactly the maximum, with a minute of slack for clock skew between client and server', () => {
    expect(resolveExpiry(policy(), { kind: 'days', days: 365 }, NOW)).toBe(NOW + 365 * DAY);
    expect(resolveExpiry(policy(), { kind: 'at', at: NOW + 365 * DAY + 59_000 }, NOW)).toBe(NOW + 365 * DAY + 59_000);
    expect(() => resolveExpiry(policy(), { kind: 'at', at: NOW + 365 * DAY + 61_000 }, NOW)).toThrow(AppError);
  });

  it('has no upper bound when max_expiry_days is null', () => {
    expect(resolveExpiry(policy({ maxExpiryDays: null }), { kind: 'days', days: 36_500 }, NOW)).toBe(NOW + 36_500 * DAY);
  });

  it('applies a tightened maximum to the request', () => {
    const tight = policy({ defaultExpiryDays: 1, maxExpiryDays: 3 });
    expect(resolveExpiry(tight, { kind: 'days', days: 3 }, NOW)).toBe(NOW + 3 * DAY);
    expect(thrown(() => resolveExpiry(tight, { kind: 'days', days: 4 }, NOW)).details).toEqual({ rule: 'max_expiry_days' });
  });

  it.each([
    ['in the past', NOW - 1],
    ['right now', NOW],
  ])('refuses an expiry %s, naming the field', (_when, at) => {
    const e = thrown(() => resolveExpiry(policy(), { kind: 'at', at }, NOW));
    expect(e.reason).toBe('invalid_request');
    expect(e.details).toEqual({ field: 'expires_at' });
  });
});

describe('field selection and policy coherence', () => {
  it('refuses fields: all where the workspace forbids it', () => {
    const settings = { ...defaultLinkSettings, fields: 'all' as const };
    expect(() => checkFieldSelection(policy(), settings)).not.toThrow();
    expect(thrown(() => checkFieldSelection(policy({ allowAllFields: false }), settings)).details).toEqual({ rule: 'allow_all_fields' });
    expect(() => checkFieldSelection(policy({ allowAllFields: false }), { ...defaultLinkSettings, fields: ['title'] })).not.toThrow();
  });

  it('refuses a default expiry beyond the maximum', () => {
    expect(() => checkPolicy(policy())).not.toThrow();
    expect(() => checkPolicy(policy({ defaultExpiryDays: 400, maxExpiryDays: null }))).not.toThrow();
    expect(thrown(() => checkPolicy(policy({ defaultExpiryDays: 30, maxExpiryDays: 10 }))).details).toEqual({ field: 'default_expiry_days' });
  });
});

describe('storedIp', () => {
  it.each([
    ['IPv4 to its /24', '203.0.113.77', '203.0.113.0'],
    ['IPv4-mapped IPv6 to the IPv4 /24', '::ffff:198.51.100.9', '198.51.100.0'],
    ['IPv4-mapped IPv6 in hex to the IPv4 /24', '::ffff:c633:6409', '198.51.100.0'],
    ['full IPv6 to its /48, canonical', '2001:0db8:85a3:0000:0000:8a2e:0370:7334', '2001:db8:85a3::'],
    ['compressed IPv6 to its /48', '2001:db8:abcd:12:34::1', '2001:db8:abcd::'],
    ['IPv6 compressed inside the /48', '2001:db8::1', '2001:db8::'],
    ['upper-case IPv6', '2001:DB8:ABCD:0012::1', '2001:db8:abcd::'],
    ['IPv6 with a zone', 'fe80::1%eth0', 'fe80::'],
    ['IPv6 ending in dotted IPv4', '64:ff9b:1::198.51.100.9', '64:ff9b:1::'],
    ['loopback IPv6', '::1', '::'],
  ])('truncates %s', (_what, ip, expected) => {
    expect(storedIp(ip, 'truncated')).toBe(expected);
  });

  it('writes one network one way, however the address was spelt', () => {
    const spellings = ['2001:db8:0:1::5', '2001:0DB8:0000:0001:0000:0000:0000:0005', '2001:db8::1:0:0:0:5', '2001:db8:0:1:0::5'];
    expect(new Set(spellings.map((ip) => storedIp(ip, 'truncated')))).toEqual(new Set(['2001:db8::']));
  });

  it('keeps the whole address in full mode, canonical, and nothing in none mode', () => {
    for (const [ip, full] of [
      ['203.0.113.77', '203.0.113.77'],
      ['2001:db8::1', '2001:db8::1'],
      ['2001:0DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['::ffff:198.51.100.9', '198.51.100.9'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ]) {
      expect(storedIp(ip, 'full')).toBe(full);
      expect(storedIp(ip, 'none')).toBeNull();
    }
  });

  it('stores nothing for a missing or unrecognisable address, in any mode', () => {
    expect(storedIp(undefined, 'truncated')).toBeNull();
    expect(storedIp('', 'full')).toBeNull();
    for (const text of ['not-an-ip', 'unknown', '1.2.3', '256.1.1.1', '2001:db8:1:2:3:4:5:6:7', '1.2.3.4, 5.6.7.8', ':::', '<script>']) {
      expect(storedIp(text, 'truncated'), text).toBeNull();
      expect(storedIp(text, 'full'), text).toBeNull();
    }
  });

  it('defaults to truncation', () => {
    expect(defaultWorkspacePolicy.ipStorage).toBe('truncated');
  });
});
