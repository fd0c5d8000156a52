import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultLinkSettings, emailAllowance, isCollection, linkStatus, linkStatuses } from './link.js';

const NOW = Date.UTC(2026, 0, 15, 12);
const active = { revokedAt: null, enabled: true, expiresAt: NOW + 60_000, maxViews: null, viewCount: 0 } as const;

describe('linkStatus', () => {
  it('is active when nothing stops the link', () => {
    expect(linkStatus(active, NOW)).toBe('active');
    expect(linkStatus({ ...active, expiresAt: null }, NOW)).toBe('active');
    expect(linkStatus({ ...active, maxViews: 3, viewCount: 2 }, NOW)).toBe('active');
  });

  it('is revoked once revoked_at is set', () => {
    expect(linkStatus({ ...active, revokedAt: NOW - 1 }, NOW)).toBe('revoked');
  });

  it('is disabled when switched off', () => {
    expect(linkStatus({ ...active, enabled: false }, NOW)).toBe('disabled');
  });

  it('is expired from the expiry instant on, not a millisecond later', () => {
    expect(linkStatus({ ...active, expiresAt: NOW + 1 }, NOW)).toBe('active');
    expect(linkStatus({ ...active, expiresAt: NOW }, NOW)).toBe('expired');
    expect(linkStatus({ ...active, expiresAt: NOW - 1 }, NOW)).toBe('expired');
  });

  it('is exhausted when the view count reaches (or passes) the limit', () => {
    expect(linkStatus({ ...active, maxViews: 3, viewCount: 3 }, NOW)).toBe('exhausted');
    expect(linkStatus({ ...active, maxViews: 3, viewCount: 4 }, NOW)).toBe('exhausted');
  });

  it('applies the resolve order: revoked beats disabled beats expired beats exhausted', () => {
    const everything = { revokedAt: NOW - 5, enabled: false, expiresAt: NOW - 1, maxViews: 1, viewCount: 1 };
    expect(linkStatus(everything, NOW)).toBe('revoked');
    expect(linkStatus({ ...everything, revokedAt: null }, NOW)).toBe('disabled');
    expect(linkStatus({ ...everything, revokedAt: null, enabled: true }, NOW)).toBe('expired');
    expect(linkStatus({ ...everything, revokedAt: null, enabled: true, expiresAt: null }, NOW)).toBe('exhausted');
  });

  it('is always the first condition that holds, in the fixed order (property)', () => {
    const state = fc.record({
      revokedAt: fc.option(fc.integer({ min: 0, max: NOW }), { nil: null }),
      enabled: fc.boolean(),
      expiresAt: fc.option(fc.integer({ min: NOW - 1000, max: NOW + 1000 }), { nil: null }),
      maxViews: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
      viewCount: fc.integer({ min: 0, max: 6 }),
    });
    fc.assert(
      fc.property(state, (s) => {
        const expected =
          s.revokedAt !== null
            ? 'revoked'
            : !s.enabled
              ? 'disabled'
              : s.expiresAt !== null && s.expiresAt <= NOW
                ? 'expired'
                : s.maxViews !== null && s.viewCount >= s.maxViews
                  ? 'exhausted'
                  : 'active';
        expect(linkStatus(s, NOW)).toBe(expected);
        expect(linkStatuses).toContain(linkStatus(s, NOW));
      }),
    );
  });
});

describe('link shape', () => {
  it('a link without a resource id is a collection', () => {
    expect(isCollection({ resourceId: null })).toBe(true);
    expect(isCollection({ resourceId: 'job-1' })).toBe(false);
  });

  it('defaults to the settings of DESIGN §3 and cannot be changed by accident', () => {
    expect(defaultLinkSettings).toEqual({ fields: 'default', allowExport: true, allowOpenRecords: false, displayToolbar: true, notifyOnView: false });
    expect(Object.isFrozen(defaultLinkSettings)).toBe(true);
  });
});

describe('emailAllowance', () => {
  const none = { recipientEmail: null, allowedEmails: [], allowedDomains: [] };
  it('names the recipient, listed addresses and domains, case-insensitively', () => {
    const l = { recipientEmail: 'Ana@Client.example', allowedEmails: ['bo@other.example'], allowedDomains: ['Partner.example'] };
    expect(emailAllowance(l, 'ana@client.example')).toBe('listed');
    expect(emailAllowance(l, 'BO@other.example')).toBe('listed');
    expect(emailAllowance(l, 'cy@partner.EXAMPLE')).toBe('listed');
    expect(emailAllowance(l, 'cy@client.example')).toBe('not_listed');
    // A domain allows that domain, not its look-alikes or subdomains.
    expect(emailAllowance(l, 'cy@evil-partner.example')).toBe('not_listed');
    expect(emailAllowance(l, 'cy@sub.partner.example')).toBe('not_listed');
    expect(emailAllowance(l, 'cy@partner.example.evil')).toBe('not_listed');
  });
  it('with no one named, leaves it to workspace membership', () => {
    expect(emailAllowance(none, 'anyone@example.test')).toBe('members_only');
    expect(emailAllowance({ ...none, allowedDomains: ['x.example'] }, 'anyone@example.test')).toBe('not_listed');
  });
});
