import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { listLinkComments } from '../../app/list-comments.js';
import { actorOf } from '../auth.js';
import { commentSchema, presentComment } from '../presenters/comment.js';
import { errorResponses, pageOf } from '../presenters/common.js';

const linkParams = z.object({ id: z.string().min(1).max(100) });
const pageQuery = z.object({ cursor: z.string().min(1).max(512).optional(), limit: z.coerce.number().int().min(1).max(200).optional() }).strict();

/** What recipients wrote through a link, for the workspace. */
export const commentRoutes =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/links/:id/comments',
      { schema: { tags: ['links'], summary: "A link's comments, oldest first (50 a page unless limit says otherwise)", params: linkParams, querystring: pageQuery, response: { 200: pageOf(commentSchema), ...errorResponses } } },
      async (request) => {
        const page = await listLinkComments(ctx, actorOf(request), request.params.id, request.query);
        return { items: page.items.map(presentComment), next_cursor: page.nextCursor };
      },
    );
  };
