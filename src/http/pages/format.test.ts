import { describe, expect, it } from 'vitest';
import { exactTime, formatValue, negotiateLocale, relativeTime, rowRange, safeHttpUrl, statusTone, viewsText } from './format.js';

describe('negotiateLocale', () => {
  it('takes the highest-q locale Node knows, falling back to en', () => {
    expect(negotiateLocale('fr-CH, fr;q=0.9, en;q=0.8')).toBe('fr-CH');
    expect(negotiateLocale('en;q=0.2, de-DE;q=0.9')).toBe('de-DE');
    expect(negotiateLocale(undefined)).toBe('en');
    expect(negotiateLocale('')).toBe('en');
    expect(negotiateLocale('*')).toBe('en');
    expect(negotiateLocale('"><script>, ;;;, q=1')).toBe('en');
    expect(negotiateLocale('de;q=0')).toBe('en');
  });
});

describe('statusTone', () => {
  it('colours common words and leaves the rest neutral', () => {
    for (const w of ['running', 'Active', 'OK', 'done', 'completed', 'passed']) expect(statusTone(w)).toBe('good');
    for (const w of ['failed', 'ERROR', 'blocked', 'critical']) expect(statusTone(w)).toBe('bad');
    for (const w of ['pending', 'queued', 'Draft', 'warning', 'in_progress']) expect(statusTone(w)).toBe('warn');
    for (const w of ['archived', 'unknown', '']) expect(statusTone(w)).toBe('neutral');
  });
});

describe('safeHttpUrl', () => {
  it('links http and https only', () => {
    expect(safeHttpUrl('https://example.com/a?b=1')).toBe('https://example.com/a?b=1');
    expect(safeHttpUrl(' http://example.com ')).toBe('http://example.com/');
    for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'data:text/html,<b>', 'vbscript:x', '//evil.example', '/relative', 'https://', 'ftp://x.example', 'java\tscript:alert(1)']) {
      expect(safeHttpUrl(bad)).toBeNull();
    }
  });
});

describe('formatValue', () => {
  it('shows null, undefined and blank strings as a gap', () => {
    expect(formatValue(null, 'text', 'en')).toEqual({ kind: 'gap' });
    expect(formatValue(undefined, 'date', 'en')).toEqual({ kind: 'gap' });
    expect(formatValue('  ', 'status', 'en')).toEqual({ kind: 'gap' });
  });

  it('formats dates and datetimes in the viewer’s locale, in UTC', () => {
    expect(formatValue('2026-12-01', 'date', 'en-US')).toEqual({ kind: 'time', text: 'Dec 1, 2026', iso: '2026-12-01' });
    expect(formatValue('2026-12-01', 'date', 'de-DE')).toEqual({ kind: 'time', text: '01.12.2026', iso: '2026-12-01' });
    expect(formatValue('2026-11-20T23:30:00-05:00', 'date', 'en-GB')).toMatchObject({ text: '21 Nov 2026' });
    expect(formatValue('2026-11-20T14:30:00Z', 'datetime', 'en-US')).toEqual({ kind: 'time', text: 'Nov 20, 2026, 2:30 PM UTC', iso: '2026-11-20T14:30:00.000Z' });
    expect(formatValue('next tuesday', 'date', 'en')).toEqual({ kind: 'text', text: 'next tuesday' });
  });

  it('turns status values into toned badges', () => {
    expect(formatValue('done', 'status', 'en')).toEqual({ kind: 'badge', text: 'done', tone: 'good' });
    expect(formatValue('blocked', 'status', 'en')).toEqual({ kind: 'badge', text: 'blocked', tone: 'bad' });
  });

  it('links only safe URLs and well-formed emails', () => {
    expect(formatValue('https://example.com', 'url', 'en')).toEqual({ kind: 'link', text: 'https://example.com', href: 'https://example.com/' });
    expect(formatValue('javascript:alert(1)', 'url', 'en')).toEqual({ kind: 'text', text: 'javascript:alert(1)' });
    expect(formatValue('ada@example.test', 'email', 'en')).toEqual({ kind: 'email', text: 'ada@example.test', href: 'mailto:ada@example.test' });
    expect(formatValue('ada@example.test?bcc=eve@example.test', 'email', 'en')).toEqual({ kind: 'text', text: 'ada@example.test?bcc=eve@example.test' });
    expect(formatValue('not an email', 'email', 'en')).toMatchObject({ kind: 'text' });
  });

  it('shows booleans as ticks, from booleans or their words', () => {
    expect(formatValue(true, 'text', 'en')).toEqual({ kind: 'bool', value: true });
    expect(formatValue('no', 'boolean', 'en')).toEqual({ kind: 'bool', value: false });
    expect(formatValue('maybe', 'boolean', 'en')).toEqual({ kind: 'text', text: 'maybe' });
  });

  it('formats numbers for the locale and leaves text alone', () => {
    expect(formatValue(1234.5, 'number', 'de-DE')).toEqual({ kind: 'number', text: '1.234,5' });
    expect(formatValue('42', 'number', 'en')).toEqual({ kind: 'number', text: '42' });
    expect(formatValue('n/a', 'number', 'en')).toEqual({ kind: 'text', text: 'n/a' });
    expect(formatValue('<b>hi</b>', 'text', 'en')).toEqual({ kind: 'text', text: '<b>hi</b>' });
  });
});

describe('chrome text', () => {
  const now = Date.UTC(2026, 10, 24, 12, 0, 0);
  it('says when a link expires, relatively and exactly', () => {
    expect(relativeTime(now + 3 * 86_400_000 - 1000, now)).toBe('in 3 days');
    expect(relativeTime(now + 86_400_000, now)).toBe('tomorrow');
    expect(relativeTime(now + 5 * 3_600_000, now)).toBe('in 5 hours');
    expect(relativeTime(now + 20_000, now)).toBe('in 1 minute');
    expect(relativeTime(now + 90 * 86_400_000, now)).toBe('in 3 months');
    expect(exactTime(now, 'en-US')).toBe('Tuesday, November 24, 2026 at 12:00 PM UTC');
  });

  it('counts views and rows', () => {
    expect(viewsText(12, 25)).toBe('12 of 25 views');
    expect(viewsText(1, null)).toBe('1 view');
    expect(viewsText(3, null)).toBe('3 views');
    expect(rowRange(100, 50, 150)).toBe('rows 101–150 of 150');
    expect(rowRange(0, 0, 0)).toBe('no rows');
  });
});
