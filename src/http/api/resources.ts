import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { deleteResource } from '../../app/delete-resource.js';
import { getResource, listResourceVersions } from '../../app/get-resource.js';
import { keyName, resourceIdParam } from '../../app/link-inputs.js';
import { listResources } from '../../app/list-resources.js';
import { putResourceType } from '../../app/put-resource-type.js';
import { putResourceBody, putResourceTypeBody } from '../../app/resource-inputs.js';
import { upsertResource } from '../../app/upsert-resource.js';
import { fieldFormats, type ResourceType } from '../../domain/resource.js';
import { findResourceType, listResourceTypes } from '../../storage/resources.js';
import { notFound } from '../../domain/errors.js';
import { actorOf } from '../auth.js';
import { errorResponses, iso, pageOf } from '../presenters/common.js';

const resourceParams = z.object({ type: keyName, id: resourceIdParam });
const typeParams = z.object({ type: keyName });
const fieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const resourceSchema = z.object({
  type: z.string(),
  id: z.string(),
  title: z.string(),
  fields: z.record(z.string(), fieldValue),
  tables: z.record(z.string(), z.array(z.record(z.string(), fieldValue))).optional(),
  version: z.number(),
  latest_version: z.number(),
  version_created: z.boolean().optional(),
  created_at: z.string(),
  updated_at: z.string(),
});

const typeSchema = z.object({
  type: z.string(),
  label: z.string(),
  fields: z.array(z.object({ key: z.string(), label: z.string(), format: z.enum(fieldFormats), public: z.boolean() })),
  tables: z.array(z.object({ key: z.string(), label: z.string(), columns: z.array(z.object({ key: z.string(), label: z.string(), format: z.enum(fieldFormats) })) })),
});
const presentType = (t: ResourceType) => ({ type: t.type, label: t.label, fields: t.fields, tables: t.tables });

/** Resource types and resources: the integrator's data that links point at. */
export const resourceRoutes =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['resources'];

    app.put(
      '/v1/resource-types/:type',
      { schema: { tags, summary: 'Declare a resource type', params: typeParams, body: putResourceTypeBody, response: { 200: typeSchema, ...errorResponses } } },
      async (request) => presentType(await putResourceType(ctx, actorOf(request), request.params.type, request.body)),
    );
    app.get('/v1/resource-types/:type', { schema: { tags, summary: 'Get a declared type', params: typeParams, response: { 200: typeSchema, ...errorResponses } } }, async (request) => {
      const t = await findResourceType(ctx.database.db, actorOf(request).workspaceId, request.params.type);
      if (!t) throw notFound('Resource type');
      return presentType(t);
    });
    app.get('/v1/resource-types', { schema: { tags, summary: 'List declared types', response: { 200: z.object({ items: z.array(typeSchema) }) } } }, async (request) => ({
      items: (await listResourceTypes(ctx.database.db, actorOf(request).workspaceId)).map(presentType),
    }));

    app.put(
      '/v1/resources/:type/:id',
      { bodyLimit: 16 * 1024 * 1024, schema: { tags, summary: 'Create or update a resource (a change makes a new version)', params: resourceParams, body: putResourceBody, response: { 200: resourceSchema, 201: resourceSchema, ...errorResponses } } },
      async (request, reply) => {
        const { resource, created, versionCreated } = await upsertResource(ctx, actorOf(request), request.params.type, request.params.id, request.body);
        return reply.code(created ? 201 : 200).send({
          type: resource.type,
          id: resource.id,
          title: resource.title,
          fields: resource.fields,
          version: resource.latestVersion,
          latest_version: resource.latestVersion,
          version_created: versionCreated,
          created_at: iso(resource.createdAt) as string,
          updated_at: iso(resource.updatedAt) as string,
        });
      },
    );

    app.get(
      '/v1/resources/:type/:id',
      { schema: { tags, summary: 'Get a resource (latest or ?version=n)', params: resourceParams, querystring: z.object({ version: z.coerce.number().int().min(1).max(1e9).optional() }).strict(), response: { 200: resourceSchema, ...errorResponses } } },
      async (request) => {
        const snap = await getResource(ctx, actorOf(request), request.params.type, request.params.id, request.query.version);
        return {
          type: snap.resource.type,
          id: snap.resource.id,
          title: snap.version.title,
          fields: snap.version.fields,
          tables: snap.tables,
          version: snap.version.version,
          latest_version: snap.resource.latestVersion,
          created_at: iso(snap.resource.createdAt) as string,
          updated_at: iso(snap.version.createdAt) as string,
        };
      },
    );

    app.get(
      '/v1/resources/:type/:id/versions',
      { schema: { tags, summary: 'List versions, newest first', params: resourceParams, response: { 200: z.object({ items: z.array(z.object({ version: z.number(), title: z.string(), table_counts: z.record(z.string(), z.number()), created_by: z.string(), created_at: z.string() })) }), ...errorResponses } } },
      async (request) => {
        const versions = await listResourceVersions(ctx, actorOf(request), request.params.type, request.params.id);
        return { items: versions.map((v) => ({ version: v.version, title: v.title, table_counts: v.tableCounts, created_by: v.createdBy, created_at: iso(v.createdAt) as string })) };
      },
    );

    app.delete(
      '/v1/resources/:type/:id',
      { schema: { tags, summary: 'Delete a resource and revoke its links', params: resourceParams, response: { 200: z.object({ deleted: z.literal(true), revoked_links: z.number() }), ...errorResponses } } },
      async (request) => {
        const { revokedLinks } = await deleteResource(ctx, actorOf(request), request.params.type, request.params.id);
        return { deleted: true as const, revoked_links: revokedLinks };
      },
    );

    app.get(
      '/v1/resources',
      { schema: { tags, summary: 'List resources', querystring: z.object({ type: keyName.optional(), cursor: z.string().min(1).max(512).optional(), limit: z.coerce.number().int().min(1).max(200).optional() }).strict(), response: { 200: pageOf(resourceSchema), ...errorResponses } } },
      async (request) => {
        const page = await listResources(ctx, actorOf(request), request.query);
        return {
          items: page.items.map((r) => ({ type: r.type, id: r.id, title: r.title, fields: r.fields, version: r.latestVersion, latest_version: r.latestVersion, created_at: iso(r.createdAt) as string, updated_at: iso(r.updatedAt) as string })),
          next_cursor: page.nextCursor,
        };
      },
    );
  };
