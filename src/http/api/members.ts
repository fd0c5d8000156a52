import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { addMemberBody, updateMemberBody } from '../../app/account-inputs.js';
import { addMember } from '../../app/add-member.js';
import type { AppContext } from '../../app/context.js';
import { listMembers } from '../../app/list-members.js';
import { removeMember } from '../../app/remove-member.js';
import { updateMember } from '../../app/update-member.js';
import { actorOf } from '../auth.js';
import { errorResponses } from '../presenters/common.js';
import { addedMemberSchema, memberSchema, presentMember } from '../presenters/member.js';

const memberParams = z.object({ user_id: z.string().min(1).max(100) });

/** The people of a workspace: anyone may list them; owners and admins change them. */
export const memberRoutes =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['members'];

    app.get(
      '/v1/members',
      { schema: { tags, summary: 'List the members of the workspace', response: { 200: z.object({ items: z.array(memberSchema) }), ...errorResponses } } },
      async (request) => {
        const actor = actorOf(request);
        return { items: (await listMembers(ctx, actor)).map((m) => presentMember(actor, m)) };
      },
    );

    app.post(
      '/v1/members',
      {
        schema: {
          tags,
          summary: 'Add a member (creating their account when the email is new)',
          body: addMemberBody,
          response: { 201: addedMemberSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const { member, generatedPassword } = await addMember(ctx, actor, request.body);
        return reply.code(201).send({ ...presentMember(actor, member), password: generatedPassword });
      },
    );

    app.patch(
      '/v1/members/:user_id',
      { schema: { tags, summary: "Change a member's role", params: memberParams, body: updateMemberBody, response: { 200: memberSchema, ...errorResponses } } },
      async (request) => {
        const actor = actorOf(request);
        return presentMember(actor, await updateMember(ctx, actor, request.params.user_id, request.body));
      },
    );

    app.delete(
      '/v1/members/:user_id',
      {
        schema: {
          tags,
          summary: 'Remove a member and end their sessions',
          params: memberParams,
          response: { 200: z.object({ deleted: z.literal(true), user_id: z.string() }), ...errorResponses },
        },
      },
      async (request) => {
        await removeMember(ctx, actorOf(request), request.params.user_id);
        return { deleted: true as const, user_id: request.params.user_id };
      },
    );
  };
