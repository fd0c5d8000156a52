import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { linkAnalytics } from '../../app/link-analytics.js';
import { workspaceAnalytics } from '../../app/workspace-analytics.js';
import type { DayUsage, UsageCounts, UsageReport } from '../../domain/analytics.js';
import { actorOf } from '../auth.js';
import { errorResponses } from '../presenters/common.js';

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .describe('A UTC day, YYYY-MM-DD');
const rangeQuery = z
  .object({
    from: date.optional().describe('First day included (default: 29 days before `to`)'),
    to: date.optional().describe('Last day included (default: today, UTC); at most 366 days after `from`'),
  })
  .strict();
const linkParams = z.object({ id: z.string().min(1).max(100) });

const counts = {
  views: z.number().int().describe('Views counted'),
  unique_viewers: z
    .number()
    .int()
    .describe(
      'Distinct viewers of the day. A viewer is a salted hash of address and user agent that changes every UTC day, so no one can be followed across days: over a range, this is the sum of the daily counts, and the same person on two days counts twice.',
    ),
  downloads: z.number().int().describe('Exports downloaded'),
  denials: z.record(z.string(), z.number().int()).describe('Refused requests by reason (password_invalid, max_views_reached, expired…); reasons that did not occur are absent'),
};
const dayUsage = z.object({ date: z.string().describe('The UTC day, YYYY-MM-DD'), ...counts });
const report = {
  from: z.string(),
  to: z.string(),
  totals: z.object(counts).describe('The days summed'),
  days: z.array(dayUsage).describe('Every day of the range, oldest first, with zeros where nothing happened'),
};
const linkReport = z.object({ link_id: z.string(), ...report });
const workspaceReport = z.object({
  ...report,
  top_links: z.array(z.object({ id: z.string(), label: z.string().nullable(), views: z.number().int() })).describe('The 10 links with the most views in the range, most first'),
});

const presentCounts = (c: UsageCounts): z.infer<typeof report.totals> => ({ views: c.views, unique_viewers: c.uniqueViewers, downloads: c.downloads, denials: c.denials });
const presentDay = (d: DayUsage): z.infer<typeof dayUsage> => ({ date: d.date, ...presentCounts(d) });
const presentReport = (r: UsageReport) => ({ from: r.from, to: r.to, totals: presentCounts(r.totals), days: r.days.map(presentDay) });

/** Views, unique viewers, downloads and denials per UTC day, per link and per workspace (DESIGN §6). */
export const analyticsRoutes =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['analytics'];
    app.get(
      '/v1/links/:id/analytics',
      { schema: { tags, summary: "A link's usage per day", params: linkParams, querystring: rangeQuery, response: { 200: linkReport, ...errorResponses } } },
      async (request) => {
        const r = await linkAnalytics(ctx, actorOf(request), request.params.id, request.query);
        return { link_id: r.linkId, ...presentReport(r) };
      },
    );

    app.get(
      '/v1/analytics',
      { schema: { tags, summary: "The workspace's usage per day and its most viewed links", querystring: rangeQuery, response: { 200: workspaceReport, ...errorResponses } } },
      async (request) => {
        const r = await workspaceAnalytics(ctx, actorOf(request), request.query);
        return { ...presentReport(r), top_links: r.topLinks };
      },
    );
  };
