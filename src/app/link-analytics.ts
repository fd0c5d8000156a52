import type { Actor } from '../domain/actor.js';
import { analyticsRange, usageReport, type UsageReport } from '../domain/analytics.js';
import { countEventsByDay } from '../storage/analytics.js';
import type { AppContext } from './context.js';
import { loadLink } from './get-link.js';

/** Dates as `YYYY-MM-DD` (UTC days, both included); absent ones default to the last 30 days. */
export type AnalyticsInput = { from?: string; to?: string };

/**
 * One link's views, unique viewers, downloads and denials per UTC day
 * (DESIGN §6), counted in the database. Another workspace's link is 404.
 */
export async function linkAnalytics(ctx: AppContext, actor: Actor, linkId: string, input: AnalyticsInput): Promise<UsageReport & { linkId: string }> {
  const range = analyticsRange(input, ctx.now());
  const link = await loadLink(ctx.database.db, actor, linkId);
  const groups = await countEventsByDay(ctx.database, { workspaceId: actor.workspaceId, linkId: link.id, since: range.since, until: range.until });
  return { linkId: link.id, ...usageReport(range, groups) };
}
