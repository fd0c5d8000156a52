import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createApiKeyBody } from '../../app/account-inputs.js';
import type { AppContext } from '../../app/context.js';
import { createApiKey } from '../../app/create-api-key.js';
import { listApiKeys } from '../../app/list-api-keys.js';
import { revokeApiKey } from '../../app/revoke-api-key.js';
import { actorOf } from '../auth.js';
import { apiKeySchema, createdApiKeySchema, presentApiKey } from '../presenters/api-key.js';
import { errorResponses } from '../presenters/common.js';

const idParams = z.object({ id: z.string().min(1).max(100) });

/** API keys of the workspace, for owners and admins. */
export const apiKeyRoutes =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['api-keys'];

    app.get(
      '/v1/api-keys',
      { schema: { tags, summary: 'List API keys (by prefix; revoked ones too)', response: { 200: z.object({ items: z.array(apiKeySchema) }), ...errorResponses } } },
      async (request) => ({ items: (await listApiKeys(ctx, actorOf(request))).map(presentApiKey) }),
    );

    app.post(
      '/v1/api-keys',
      { schema: { tags, summary: 'Create an API key; the key is shown once', body: createApiKeyBody, response: { 201: createdApiKeySchema, ...errorResponses } } },
      async (request, reply) => {
        const { apiKey, secret } = await createApiKey(ctx, actorOf(request), request.body);
        return reply.code(201).send({ ...presentApiKey(apiKey), key: secret });
      },
    );

    app.delete(
      '/v1/api-keys/:id',
      { schema: { tags, summary: 'Revoke an API key (final)', params: idParams, response: { 200: apiKeySchema, ...errorResponses } } },
      async (request) => presentApiKey(await revokeApiKey(ctx, actorOf(request), request.params.id)),
    );
  };
