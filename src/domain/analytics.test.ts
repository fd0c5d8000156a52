import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { analyticsRange, dayNumber, usageReport } from './analytics.js';
import { createSecretBox } from './tokens.js';
import { viewerIds } from './viewer.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 2, 15, 23, 59);

const fieldOf = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e instanceof AppError ? e.details?.field : e;
  }
  return undefined;
};

describe('analyticsRange', () => {
  it('takes whole UTC days, both ends included, and defaults to the 30 days up to today', () => {
    expect(analyticsRange({}, NOW)).toEqual({ fromDay: dayNumber('2026-02-14'), toDay: dayNumber('2026-03-15'), since: Date.UTC(2026, 1, 14), until: Date.UTC(2026, 2, 16) });
    expect(analyticsRange({ to: '2026-01-31' }, NOW).fromDay).toBe(dayNumber('2026-01-02'));
    expect(analyticsRange({ from: '2024-02-29', to: '2025-02-28' }, NOW).until - Date.UTC(2024, 1, 29)).toBe(366 * DAY);
  });

  it('refuses what is not a calendar day, a reversed range and more than 366 days, naming the field', () => {
    expect(fieldOf(() => analyticsRange({ from: '2026-02-29' }, NOW))).toBe('query.from');
    expect(fieldOf(() => analyticsRange({ to: '2026-1-1' }, NOW))).toBe('query.to');
    expect(fieldOf(() => analyticsRange({ from: '2026-03-02', to: '2026-03-01' }, NOW))).toBe('query.to');
    expect(fieldOf(() => analyticsRange({ from: '2026-03-16' }, NOW))).toBe('query.from');
    expect(fieldOf(() => analyticsRange({ from: '2025-03-14' }, NOW))).toBe('query.from');
    expect(fieldOf(() => analyticsRange({ from: '2025-03-15' }, NOW))).toBeUndefined();
  });
});

describe('usageReport', () => {
  it('has every day, sums unique viewers over days, and names expiry as a denial reason', () => {
    const range = analyticsRange({ from: '2026-03-01', to: '2026-03-03' }, NOW);
    const d = range.fromDay;
    const report = usageReport(range, [
      { day: d, type: 'viewed', reason: null, events: 5, viewers: 2 },
      { day: d + 2, type: 'viewed', reason: null, events: 1, viewers: 1 },
      { day: d + 2, type: 'downloaded', reason: null, events: 2, viewers: 1 },
      { day: d + 2, type: 'access_denied', reason: 'password_invalid', events: 3, viewers: 0 },
      { day: d + 2, type: 'expired', reason: 'expired', events: 1, viewers: 0 },
    ]);
    expect(report.totals).toEqual({ views: 6, uniqueViewers: 3, downloads: 2, denials: { password_invalid: 3, expired: 1 } });
    expect(report.days.map((x) => [x.date, x.views])).toEqual([['2026-03-01', 5], ['2026-03-02', 0], ['2026-03-03', 1]]);
  });
});

describe('viewerIds', () => {
  it('is the same client all day in a workspace, another the next day or in another workspace, and never shows the address', () => {
    const ids = viewerIds(createSecretBox('11'.repeat(32)));
    const a = ids('wsp_1', '203.0.113.9', 'UA', NOW - 1000);
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(ids('wsp_1', '203.0.113.9', 'UA', NOW)).toBe(a);
    expect(ids('wsp_1', '203.0.113.9', 'UA', NOW + 60_000)).not.toBe(a);
    expect(ids('wsp_1', '203.0.113.9', 'UA', NOW - 1000)).toBe(a);
    expect(ids('wsp_1', '203.0.113.8', 'UA', NOW)).not.toBe(a);
    expect(ids('wsp_1', '203.0.113.9', 'UA2', NOW)).not.toBe(a);
    // Another workspace sees another viewer: no following a client across tenants.
    expect(ids('wsp_2', '203.0.113.9', 'UA', NOW)).not.toBe(a);
    expect(viewerIds(createSecretBox('22'.repeat(32)))('wsp_1', '203.0.113.9', 'UA', NOW)).not.toBe(a);
  });
});
