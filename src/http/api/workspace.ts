import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { updateWorkspaceBody } from '../../app/account-inputs.js';
import type { AppContext } from '../../app/context.js';
import { getWorkspace } from '../../app/get-workspace.js';
import { updateWorkspace } from '../../app/update-workspace.js';
import { actorOf } from '../auth.js';
import { errorResponses } from '../presenters/common.js';
import { presentWorkspace, workspaceSchema } from '../presenters/workspace.js';

/** The workspace itself: its name and the policy every link is made under. */
export const workspaceRoutes =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['workspace'];

    app.get(
      '/v1/workspace',
      { schema: { tags, summary: 'The workspace and its link policy', response: { 200: workspaceSchema, ...errorResponses } } },
      async (request) => presentWorkspace(await getWorkspace(ctx, actorOf(request))),
    );

    app.patch(
      '/v1/workspace',
      { schema: { tags, summary: 'Rename the workspace or change its policy (partial)', body: updateWorkspaceBody, response: { 200: workspaceSchema, ...errorResponses } } },
      async (request) => presentWorkspace(await updateWorkspace(ctx, actorOf(request), request.body)),
    );
  };
