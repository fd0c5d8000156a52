import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { addComment } from '../../app/add-comment.js';
import { addCommentBody } from '../../app/comment-inputs.js';
import { resourceIdParam } from '../../app/link-inputs.js';
import { listSharedComments } from '../../app/list-comments.js';
import { presentSharedComment, sharedCommentSchema } from '../presenters/comment.js';
import { errorResponses, iso } from '../presenters/common.js';
import { grantFields, idParams, isPreviewRequest, publicRequest, withGrant } from './shared-api.js';

const listQuery = z
  .object({
    cursor: z.string().min(1).max(512).optional(),
    record_id: resourceIdParam.optional().describe("Only this record's comments (a row inside a collection link's filter); every comment of the link when absent"),
  })
  .strict();

/**
 * Comments of `commenter` and `editor` links for link holders (DESIGN §5),
 * through the one gate as the `comment` action: a viewer link answers 403
 * `forbidden`; without a grant, the request counts a view and returns one.
 */
export const sharedCommentRoutes =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['shared'];
    const security: never[] = [];

    app.get(
      '/v1/shared/:id/comments',
      {
        schema: {
          tags,
          security,
          summary: "A page of the link's comments (50, oldest first)",
          params: idParams,
          querystring: listQuery,
          response: { 200: z.object({ items: z.array(sharedCommentSchema), next_cursor: z.string().nullable(), ...grantFields }), ...errorResponses },
        },
      },
      async (request, reply) => {
        if (isPreviewRequest(request)) return reply.code(204).send(null as never);
        const { cursor, record_id } = request.query;
        const c = await listSharedComments(ctx, publicRequest(request, request.params.id), { recordId: record_id, cursor });
        withGrant(reply, c.grant);
        return { items: c.page.items.map(presentSharedComment), next_cursor: c.page.nextCursor, grant: c.grant, grant_expires_at: iso(c.grantExpiresAt) };
      },
    );

    app.post(
      '/v1/shared/:id/comments',
      {
        schema: {
          tags,
          security,
          summary: 'Comment through a commenter or editor link (limited per link and client)',
          params: idParams,
          body: addCommentBody,
          response: { 201: z.object({ comment: sharedCommentSchema, ...grantFields }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const { body, author_name, record_id } = request.body;
        const added = await addComment(ctx, publicRequest(request, request.params.id), { body, authorName: author_name ?? null, recordId: record_id });
        withGrant(reply, added.grant);
        return reply.code(201).send({ comment: presentSharedComment(added.comment), grant: added.grant, grant_expires_at: iso(added.grantExpiresAt) });
      },
    );
  };
