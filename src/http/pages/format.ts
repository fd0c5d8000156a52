import { PLAIN_EMAIL, type FieldFormat, type FieldValue } from '../../domain/resource.js';

/**
 * How a value is shown on a share page, decided without any markup: the
 * components turn each kind into elements and React escapes every string.
 */
export type Shown =
  | { kind: 'gap' }
  | { kind: 'text'; text: string }
  | { kind: 'number'; text: string }
  | { kind: 'time'; text: string; iso: string }
  | { kind: 'badge'; text: string; tone: Tone }
  | { kind: 'bool'; value: boolean }
  | { kind: 'link'; text: string; href: string }
  | { kind: 'email'; text: string; href: string };

export type Tone = 'good' | 'bad' | 'warn' | 'neutral';

/** The language chrome text is written in; dates and numbers follow the viewer. */
export const FALLBACK_LOCALE = 'en';

const TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;

/**
 * Picks the viewer's locale from Accept-Language (highest q first) among the
 * locales this Node knows; `en` when none fits or the header is garbage.
 */
export function negotiateLocale(acceptLanguage: string | undefined): string {
  if (!acceptLanguage) return FALLBACK_LOCALE;
  const wanted = acceptLanguage
    .slice(0, 500)
    .split(',')
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(';');
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const q = qParam ? Number(qParam.slice(2)) : 1;
      return { tag: tag.trim(), q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((w) => w.q > 0 && TAG.test(w.tag))
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of wanted) {
    try {
      const [supported] = Intl.DateTimeFormat.supportedLocalesOf(tag);
      if (supported) return supported;
    } catch {
      // Not a well-formed BCP 47 tag after all: try the next one.
    }
  }
  return FALLBACK_LOCALE;
}

const GOOD = new Set(['running', 'active', 'ok', 'done', 'completed', 'complete', 'passed', 'pass', 'success', 'succeeded', 'healthy', 'approved', 'resolved']);
const BAD = new Set(['failed', 'fail', 'failure', 'error', 'errored', 'blocked', 'critical', 'rejected', 'down']);
const WARN = new Set(['pending', 'queued', 'draft', 'warning', 'warn', 'waiting', 'paused', 'in progress', 'in review', 'review', 'degraded']);

/** The colour family of a status word: green-ish, red, amber or neutral. */
export function statusTone(value: string): Tone {
  const word = value.trim().toLowerCase().replace(/[_-]+/g, ' ').replace(/\s+/g, ' ');
  if (GOOD.has(word)) return 'good';
  if (BAD.has(word)) return 'bad';
  if (WARN.has(word)) return 'warn';
  return 'neutral';
}

/** A link target only when it is an absolute http(s) URL; `javascript:`, `data:` and friends are never links. */
export function safeHttpUrl(value: string): string | null {
  const trimmed = value.trim();
  if (!/^https?:\/\//i.test(trimmed)) return null;
  try {
    const url = new URL(trimmed);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}


const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

function formatTime(value: string | number, format: 'date' | 'datetime', locale: string): Shown {
  const raw = String(value).trim();
  const date = typeof value === 'number' ? new Date(value) : new Date(DATE_ONLY.test(raw) ? `${raw}T00:00:00Z` : raw);
  if (Number.isNaN(date.getTime())) return { kind: 'text', text: raw };
  // Stored values carry no viewer time zone; UTC is shown and said, so nobody reads a shifted day.
  const showTime = format === 'datetime' && !DATE_ONLY.test(raw);
  const text = showTime
    ? `${new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(date)} UTC`
    : new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(date);
  return { kind: 'time', text, iso: showTime ? date.toISOString() : date.toISOString().slice(0, 10) };
}

/** Decides how one field or cell value is shown, by its declared format, in the viewer's locale. */
export function formatValue(value: FieldValue | undefined, format: FieldFormat, locale: string): Shown {
  if (value === null || value === undefined) return { kind: 'gap' };
  if (typeof value === 'string' && value.trim() === '') return { kind: 'gap' };
  if (typeof value === 'boolean') return { kind: 'bool', value };

  switch (format) {
    case 'boolean': {
      const word = String(value).trim().toLowerCase();
      if (['true', 'yes', '1'].includes(word)) return { kind: 'bool', value: true };
      if (['false', 'no', '0'].includes(word)) return { kind: 'bool', value: false };
      return { kind: 'text', text: String(value) };
    }
    case 'number': {
      const n = typeof value === 'number' ? value : Number(value.trim());
      if (!Number.isFinite(n)) return { kind: 'text', text: String(value) };
      return { kind: 'number', text: new Intl.NumberFormat(locale, { maximumFractionDigits: 6 }).format(n) };
    }
    case 'date':
    case 'datetime':
      return formatTime(value, format, locale);
    case 'status':
      return { kind: 'badge', text: String(value), tone: statusTone(String(value)) };
    case 'url': {
      const href = safeHttpUrl(String(value));
      return href ? { kind: 'link', text: String(value), href } : { kind: 'text', text: String(value) };
    }
    case 'email': {
      const text = String(value).trim();
      return PLAIN_EMAIL.test(text) ? { kind: 'email', text, href: `mailto:${text}` } : { kind: 'text', text: String(value) };
    }
    default:
      return typeof value === 'number' ? { kind: 'number', text: String(value) } : { kind: 'text', text: value };
  }
}

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 86_400_000],
  ['month', 30 * 86_400_000],
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** "in 3 days", "in 5 hours", "in 1 minute": the coarsest unit that still says something. */
export function relativeTime(at: number, now: number): string {
  const diff = at - now;
  const rtf = new Intl.RelativeTimeFormat(FALLBACK_LOCALE, { numeric: 'auto' });
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms || unit === 'minute') {
      const n = Math.round(diff / ms);
      return rtf.format(n === 0 && diff > 0 ? 1 : n, unit);
    }
  }
  return rtf.format(0, 'minute');
}

/** The exact moment, for a title attribute: in the viewer's locale, in UTC. */
export function exactTime(at: number, locale: string): string {
  return `${new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(at))} UTC`;
}

/** "12 of 25 views", "1 view", "3 views". */
export function viewsText(viewCount: number, maxViews: number | null): string {
  if (maxViews !== null) return `${viewCount} of ${maxViews} ${maxViews === 1 ? 'view' : 'views'}`;
  return `${viewCount} ${viewCount === 1 ? 'view' : 'views'}`;
}

/** "rows 101–200 of 250" (or "no rows"). */
export function rowRange(offset: number, shown: number, total: number): string {
  if (shown === 0) return total === 0 ? 'no rows' : `no rows here of ${total}`;
  return `rows ${offset + 1}–${offset + shown} of ${total}`;
}
