import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { createLink } from '../../app/create-link.js';
import { createLinksInBulk } from '../../app/create-links-in-bulk.js';
import { getLink } from '../../app/get-link.js';
import { bulkCreateLinksBody, createLinkBody, keyName, resourceIdParam, updateLinkBody } from '../../app/link-inputs.js';
import { listLinks } from '../../app/list-links.js';
import { revokeLink } from '../../app/revoke-link.js';
import { rotateLink } from '../../app/rotate-link.js';
import { updateLink } from '../../app/update-link.js';
import { linkStatuses } from '../../domain/link.js';
import { actorOf } from '../auth.js';
import { errorResponses, pageOf } from '../presenters/common.js';
import { createdLinkSchema, linkSchema, presentLink } from '../presenters/link.js';

const idParams = z.object({ id: z.string().min(1).max(100) });
const boolQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

const listQuery = z
  .object({
    resource_type: keyName.optional(),
    resource_id: resourceIdParam.optional(),
    collection: boolQuery.optional(),
    status: z.enum(linkStatuses).optional(),
    created_by: z.string().min(1).max(250).optional(),
    include_revoked: boolQuery.optional(),
    cursor: z.string().min(1).max(512).optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
  })
  .strict();

/** Management of links: create, list, read, change, revoke, rotate. */
export const linkRoutes =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['links'];
    app.post(
      '/v1/links',
      {
        schema: {
          tags,
          summary: 'Create a link (or reuse an active one), optionally mailing it to its recipient',
          body: createLinkBody,
          response: { 200: createdLinkSchema, 201: createdLinkSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const { link, reused, notified } = await createLink(ctx, actor, request.body);
        return reply.code(reused ? 200 : 201).send({ ...presentLink(ctx, actor, link), notified });
      },
    );

    app.post(
      '/v1/links/bulk',
      {
        schema: {
          tags,
          summary: 'Create one link per recipient from one template, all or none',
          description:
            'Each recipient gets a link of their own (token, short code, view limit, audit trail), created in one transaction: a refused item refuses the call, naming it in `field` (`recipients.3.recipient_email`), and nothing is created or mailed. With `template.send_notification`, each recipient is mailed their link.',
          body: bulkCreateLinksBody,
          response: { 201: z.object({ links: z.array(createdLinkSchema).describe('In the order of `recipients`.') }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const created = await createLinksInBulk(ctx, actor, request.body);
        return reply.code(201).send({ links: created.map(({ link, notified }) => ({ ...presentLink(ctx, actor, link), notified })) });
      },
    );

    app.get(
      '/v1/links',
      { schema: { tags, summary: 'List links', querystring: listQuery, response: { 200: pageOf(linkSchema), ...errorResponses } } },
      async (request) => {
        const actor = actorOf(request);
        const q = request.query;
        const page = await listLinks(ctx, actor, {
          resourceType: q.resource_type,
          resourceId: q.resource_id,
          collection: q.collection,
          status: q.status,
          createdBy: q.created_by,
          includeRevoked: q.include_revoked,
          cursor: q.cursor,
          limit: q.limit,
        });
        return { items: page.items.map((l) => presentLink(ctx, actor, l)), next_cursor: page.nextCursor };
      },
    );

    app.get('/v1/links/:id', { schema: { tags, summary: 'Get a link', params: idParams, response: { 200: linkSchema, ...errorResponses } } }, async (request) => {
      const actor = actorOf(request);
      return presentLink(ctx, actor, await getLink(ctx, actor, request.params.id));
    });

    app.patch(
      '/v1/links/:id',
      { schema: { tags, summary: 'Change a link', params: idParams, body: updateLinkBody, response: { 200: linkSchema, ...errorResponses } } },
      async (request) => {
        const actor = actorOf(request);
        return presentLink(ctx, actor, await updateLink(ctx, actor, request.params.id, request.body));
      },
    );

    const revoke = async (request: { params: { id: string } } & Parameters<typeof actorOf>[0]) => {
      const actor = actorOf(request);
      return presentLink(ctx, actor, await revokeLink(ctx, actor, request.params.id));
    };
    app.post('/v1/links/:id/revoke', { schema: { tags, summary: 'Revoke a link (final)', params: idParams, response: { 200: linkSchema, ...errorResponses } } }, revoke);
    app.delete('/v1/links/:id', { schema: { tags, summary: 'Revoke a link (final)', params: idParams, response: { 200: linkSchema, ...errorResponses } } }, revoke);

    app.post(
      '/v1/links/:id/rotate',
      { schema: { tags, summary: 'New token and short code; the old ones stop working at once', params: idParams, response: { 200: linkSchema, ...errorResponses } } },
      async (request) => {
        const actor = actorOf(request);
        return presentLink(ctx, actor, await rotateLink(ctx, actor, request.params.id));
      },
    );
  };
