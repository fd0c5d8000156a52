import { AppError } from './errors.js';

const DAY_MS = 86_400_000;
/** The longest range one request may ask for, in days (both ends included). */
export const MAX_ANALYTICS_DAYS = 366;
/** The range when none is given: the last 30 days, today included. */
export const DEFAULT_ANALYTICS_DAYS = 30;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a `YYYY-MM-DD` calendar date, or null when it is not one (2026-02-30). */
export function dayNumber(date: string): number | null {
  const m = DATE_RE.exec(date);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== date) return null;
  return ms / DAY_MS;
}

/** `YYYY-MM-DD` of a day number. */
export const dateOf = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** A range of whole UTC days, both ends included, and the times it covers (`until` excluded). */
export type DayRange = { fromDay: number; toDay: number; since: number; until: number };

/**
 * The days a report covers: `to` defaults to today (UTC), `from` to the 30
 * days up to `to`. `to` before `from`, or more than 366 days, is refused,
 * naming the field the caller gave (the query's `from` or `to`).
 */
export function analyticsRange(input: { from?: string; to?: string }, now: number): DayRange {
  const parse = (field: 'from' | 'to', value: string): number => {
    const day = dayNumber(value);
    if (day === null) throw new AppError('invalid_request', `Invalid query.${field}: expected a date as YYYY-MM-DD`, { field: `query.${field}` });
    return day;
  };
  const toDay = input.to !== undefined ? parse('to', input.to) : Math.floor(now / DAY_MS);
  const fromDay = input.from !== undefined ? parse('from', input.from) : toDay - (DEFAULT_ANALYTICS_DAYS - 1);
  if (toDay < fromDay) {
    const field = input.to !== undefined ? 'query.to' : 'query.from';
    throw new AppError('invalid_request', 'to must not be before from', { field });
  }
  if (toDay - fromDay + 1 > MAX_ANALYTICS_DAYS) {
    const field = input.from !== undefined ? 'query.from' : 'query.to';
    throw new AppError('invalid_request', `A range may span at most ${MAX_ANALYTICS_DAYS} days`, { field });
  }
  return { fromDay, toDay, since: fromDay * DAY_MS, until: (toDay + 1) * DAY_MS };
}

/** What happened through links on a day, or over a range. */
export type UsageCounts = {
  views: number;
  /**
   * Distinct viewers of each day (a viewer is a daily pseudonym), summed over
   * the days: the same person on two days counts twice, by design.
   */
  uniqueViewers: number;
  downloads: number;
  /** Denied requests by reason (`expired` included); reasons that did not occur are absent. */
  denials: Record<string, number>;
};
export type DayUsage = UsageCounts & { date: string };
export type UsageReport = { from: string; to: string; totals: UsageCounts; days: DayUsage[] };

/** Counted events of a day, a type and a reason, as storage groups them. */
export type DayGroup = { day: number; type: string; reason: string | null; events: number; viewers: number };

const emptyCounts = (): UsageCounts => ({ views: 0, uniqueViewers: 0, downloads: 0, denials: {} });

function add(into: UsageCounts, g: DayGroup): void {
  if (g.type === 'viewed') {
    into.views += g.events;
    into.uniqueViewers += g.viewers;
  } else if (g.type === 'downloaded') {
    into.downloads += g.events;
  } else if (g.type === 'expired' || g.type === 'access_denied') {
    const reason = g.type === 'expired' ? 'expired' : (g.reason ?? 'unknown');
    into.denials[reason] = (into.denials[reason] ?? 0) + g.events;
  }
}

/** One entry per day of the range (days with nothing are zeros) and their totals. */
export function usageReport(range: DayRange, groups: DayGroup[]): UsageReport {
  const days: DayUsage[] = [];
  for (let d = range.fromDay; d <= range.toDay; d++) days.push({ date: dateOf(d), ...emptyCounts() });
  const totals = emptyCounts();
  for (const g of groups) {
    const day = days[g.day - range.fromDay];
    if (!day) continue;
    add(day, g);
    add(totals, g);
  }
  return { from: dateOf(range.fromDay), to: dateOf(range.toDay), totals, days };
}
