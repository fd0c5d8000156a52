import { sql } from 'kysely';
import type { Database } from './database.js';

/** The events analytics counts: views, downloads and the denials of existing links. */
const countedTypes = ['viewed', 'downloaded', 'access_denied', 'expired'] as const;

export type AnalyticsScope = {
  workspaceId: string;
  /** One link of the workspace, or every link when absent. */
  linkId?: string;
  /** Epoch milliseconds: from `since` (included) to `until` (excluded). */
  since: number;
  until: number;
};

/** One group of events: a UTC day (days since 1970), a type and a reason, how many, and how many distinct viewers. */
export type DailyEventCount = { day: number; type: (typeof countedTypes)[number]; reason: string | null; events: number; viewers: number };

/**
 * Events counted per UTC day, type and reason, in the database (GROUP BY):
 * one row per group, never one per event. A range of one link's or one
 * workspace's events is a scan of its `(…, created_at, id)` index.
 */
export async function countEventsByDay(database: Database, scope: AnalyticsScope): Promise<DailyEventCount[]> {
  const day = database.dayOf;
  let query = database.db
    .selectFrom('events')
    .select((eb) => [
      day(eb.ref('created_at')).as('day'),
      'type',
      'reason',
      eb.fn.countAll<number>().as('events'),
      eb.fn.count<number>('viewer').distinct().as('viewers'),
    ])
    .where('workspace_id', '=', scope.workspaceId)
    .where('created_at', '>=', scope.since)
    .where('created_at', '<', scope.until)
    .where('type', 'in', countedTypes);
  if (scope.linkId !== undefined) query = query.where('link_id', '=', scope.linkId);
  const rows = await query.groupBy([day(sql.ref<number>('created_at')), 'type', 'reason']).execute();
  return rows.map((r) => ({
    day: Number(r.day),
    type: r.type as DailyEventCount['type'],
    reason: r.reason,
    events: Number(r.events),
    viewers: Number(r.viewers),
  }));
}

export type TopLink = { id: string; label: string | null; views: number };

/** The workspace's links with the most views in the range, most first (ties by id). */
export async function topLinksByViews(database: Database, scope: Omit<AnalyticsScope, 'linkId'>, limit: number): Promise<TopLink[]> {
  const rows = await database.db
    .selectFrom('events')
    .leftJoin('links', 'links.id', 'events.link_id')
    .select((eb) => ['events.link_id', 'links.label', eb.fn.countAll<number>().as('views')])
    .where('events.workspace_id', '=', scope.workspaceId)
    .where('events.created_at', '>=', scope.since)
    .where('events.created_at', '<', scope.until)
    .where('events.type', '=', 'viewed')
    .where('events.link_id', 'is not', null)
    .groupBy(['events.link_id', 'links.label'])
    .orderBy('views', 'desc')
    .orderBy('events.link_id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.link_id as string, label: r.label, views: Number(r.views) }));
}
