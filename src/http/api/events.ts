import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { allEvents, listEvents, type ListEventsInput } from '../../app/list-events.js';
import { eventTypes, type AuditEvent } from '../../domain/event.js';
import { actorOf } from '../auth.js';
import { errorResponses, iso, pageOf } from '../presenters/common.js';
import { csvStream } from '../public/csv.js';

const eventSchema = z.object({
  id: z.string(),
  link_id: z.string().nullable(),
  seq: z.number().nullable(),
  type: z.enum(eventTypes),
  reason: z.string().nullable(),
  actor: z.string().nullable(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  email: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.string(),
});

const presentEvent = (e: AuditEvent): z.infer<typeof eventSchema> => ({
  id: e.id,
  link_id: e.linkId,
  seq: e.seq,
  type: e.type,
  reason: e.reason,
  actor: e.actor,
  ip: e.ip,
  user_agent: e.userAgent,
  email: e.email,
  metadata: e.metadata,
  created_at: iso(e.createdAt) as string,
});

const typeList = z
  .string()
  .max(500)
  .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
  .pipe(z.array(z.enum(eventTypes)).max(eventTypes.length));

const filters = {
  type: typeList.optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
};
const pageQuery = z.object({ ...filters, cursor: z.string().min(1).max(512).optional(), limit: z.coerce.number().int().min(1).max(500).optional() }).strict();
const linkParams = z.object({ id: z.string().min(1).max(100) });

type FilterQuery = { type?: AuditEvent['type'][]; since?: string; until?: string };
const toInput = (q: FilterQuery): ListEventsInput => ({
  types: q.type,
  since: q.since ? Date.parse(q.since) : undefined,
  until: q.until ? Date.parse(q.until) : undefined,
});

const csvColumns = ['created_at', 'type', 'reason', 'actor', 'email', 'ip', 'user_agent', 'link_id', 'seq', 'id'] as const;

/** The audit trail: per link (JSON and CSV) and searched across the workspace. */
export const eventRoutes =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['events'];
    app.get(
      '/v1/links/:id/events',
      { schema: { tags, summary: "A link's events, newest first", params: linkParams, querystring: pageQuery, response: { 200: pageOf(eventSchema), ...errorResponses } } },
      async (request) => {
        const { cursor, limit, ...f } = request.query;
        const page = await listEvents(ctx, actorOf(request), { ...toInput(f), linkId: request.params.id, cursor, limit });
        return { items: page.items.map(presentEvent), next_cursor: page.nextCursor };
      },
    );

    app.get(
      '/v1/links/:id/events.csv',
      { schema: { tags, summary: "A link's events as CSV", params: linkParams, querystring: z.object(filters).strict() } },
      async (request, reply) => {
        const actor = actorOf(request);
        const input = { ...toInput(request.query), linkId: request.params.id };
        // Fail before streaming: an unknown link must answer 404, not an empty file.
        await listEvents(ctx, actor, { ...input, limit: 1 });
        const rows = (async function* () {
          for await (const e of allEvents(ctx, actor, input)) yield { ...presentEvent(e), metadata: undefined };
        })();
        const csv = csvStream(rows, csvColumns.map((key) => ({ key, header: key })));
        reply.header('Content-Disposition', `attachment; filename="events-${request.params.id}.csv"`);
        return reply.type('text/csv; charset=utf-8').send(csv);
      },
    );

    app.get(
      '/v1/events',
      { schema: { tags, summary: 'Search the workspace audit trail', querystring: pageQuery.extend({ link_id: z.string().min(1).max(100).optional() }), response: { 200: pageOf(eventSchema), ...errorResponses } } },
      async (request) => {
        const { cursor, limit, link_id, ...f } = request.query;
        const page = await listEvents(ctx, actorOf(request), { ...toInput(f), linkId: link_id, cursor, limit });
        return { items: page.items.map(presentEvent), next_cursor: page.nextCursor };
      },
    );
  };
