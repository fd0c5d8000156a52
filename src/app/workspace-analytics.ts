import type { Actor } from '../domain/actor.js';
import { analyticsRange, usageReport, type UsageReport } from '../domain/analytics.js';
import { countEventsByDay, topLinksByViews, type TopLink } from '../storage/analytics.js';
import type { AppContext } from './context.js';
import type { AnalyticsInput } from './link-analytics.js';

/** How many links `topLinks` names. */
const TOP_LINKS = 10;

/**
 * The whole workspace's views, unique viewers, downloads and denials per UTC
 * day, and its most viewed links in the range, counted in the database.
 */
export async function workspaceAnalytics(ctx: AppContext, actor: Actor, input: AnalyticsInput): Promise<UsageReport & { topLinks: TopLink[] }> {
  const range = analyticsRange(input, ctx.now());
  const scope = { workspaceId: actor.workspaceId, since: range.since, until: range.until };
  const [groups, topLinks] = await Promise.all([countEventsByDay(ctx.database, scope), topLinksByViews(ctx.database, scope, TOP_LINKS)]);
  return { ...usageReport(range, groups), topLinks };
}
