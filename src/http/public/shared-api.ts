import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { PublicRequest } from '../../app/authorize-public.js';
import type { AppContext } from '../../app/context.js';
import { exportSharedLink } from '../../app/export-shared-link.js';
import { keyName, resourceIdParam } from '../../app/link-inputs.js';
import { listSharedTable } from '../../app/list-shared-table.js';
import { listSharedRecordTable, openSharedRecord } from '../../app/open-shared-record.js';
import { sharedLinkMeta } from '../../app/shared-link-meta.js';
import { startEmailVerification } from '../../app/start-email-verification.js';
import { viewSharedLink } from '../../app/view-shared-link.js';
import { isPreviewRobot } from '../../domain/robots.js';
import { SESSION_COOKIE } from '../auth.js';
import { errorResponses, iso } from '../presenters/common.js';
import { collectionSchema, presentCollection, presentPublicLink, presentRecord, presentTablePage, publicLinkSchema, recordSchema, tablePageSchema } from '../presenters/shared.js';
import { sendExport } from './export-stream.js';
import { fastViewOutcome } from './fast-view.js';
import { publicRequestFrom, viewBody } from './view-response.js';

/** A link's token or short code in a path, checked for shape by the gate (a bad one is `invalid_token`, not a schema error). */
export const idParams = z.object({ id: z.string().max(300) });
/** The JSON API takes no query parameters where none mean anything: a typo is an error, not ignored. */
const noQuery = z.object({}).strict();

/** Builds the evaluator's view of who is asking, from headers only (secrets never logged). */
export function publicRequest(request: FastifyRequest, identifier: string, extra: { password?: string; grant?: string } = {}): PublicRequest {
  return publicRequestFrom(request.headers, request.ip, identifier, { ...extra, session: request.cookies?.[SESSION_COOKIE] || undefined });
}

/** HEAD requests and link-preview robots: a neutral answer, no data, no view. */
export function isPreviewRequest(request: FastifyRequest): boolean {
  return request.method === 'HEAD' || isPreviewRobot(request.headers['user-agent']);
}

/** The grant a public answer hands back (also sent as `X-Porthole-Grant`). */
export const grantFields = { grant: z.string().nullable(), grant_expires_at: z.string().nullable() };
export const viewSchema = z.object({
  link: publicLinkSchema,
  kind: z.enum(['record', 'collection']),
  resource: recordSchema.optional(),
  collection: collectionSchema.optional(),
  ...grantFields,
});
const previewSchema = z.object({ preview: z.literal(true), title: z.string() });

/**
 * The opening of a link is the hot path: its body goes out with plain
 * JSON.stringify instead of being re-parsed by zod first. The presenters'
 * types are the contract, and a test holds real responses to the schema.
 */
const trustedJson = () => (data: unknown) => JSON.stringify(data);

export function withGrant(reply: FastifyReply, grant: string | null): void {
  if (grant) reply.header('X-Porthole-Grant', grant);
}

/** The public JSON API for link holders. */
export const sharedApiRoutes =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['shared'];
    const security: never[] = [];

    const view = async (request: FastifyRequest, reply: FastifyReply, password?: string, emailCode?: { email: string; code: string }) => {
      // The server's fast path already opened this link and was refused: answer its error, do not open it twice.
      const refused = fastViewOutcome(request.raw);
      if (refused !== undefined) throw refused;
      const { id } = request.params as { id: string };
      if (isPreviewRequest(request)) return reply.send({ preview: true as const, title: 'Shared with Porthole' });
      const v = await viewSharedLink(ctx, { ...publicRequest(request, id, { password }), emailCode });
      withGrant(reply, v.grant);
      return reply.send(viewBody(v));
    };

    app.get(
      '/v1/shared/:id',
      {
        schema: {
          tags,
          security,
          summary: 'Open a link (counts a view, returns a grant)',
          description:
            'Send the grant of an earlier view as `X-Porthole-Grant` to read again without counting a view. A link that requires proof of identity asks for a mailed code (`/verify/start`, `/verify/confirm`); one that names no recipient, address or domain is for its workspace\'s members, and also lets in a member signed in to the dashboard (their session cookie).',
          params: idParams,
          querystring: noQuery,
          response: { 200: z.union([viewSchema, previewSchema]), ...errorResponses },
        },
        serializerCompiler: trustedJson,
      },
      (request, reply) => view(request, reply),
    );

    app.post(
      '/v1/shared/:id/unlock',
      { schema: { tags, security, summary: 'Open a password-protected link', params: idParams, body: z.object({ password: z.string().min(1).max(200) }).strict(), response: { 200: viewSchema, ...errorResponses } } },
      (request, reply) => view(request, reply, request.body.password),
    );

    app.post(
      '/v1/shared/:id/verify/start',
      {
        schema: {
          tags,
          security,
          summary: 'Mail a one-time code to an address the link allows (counts no view)',
          description: 'The answer is the same whether or not the address may open the link; only an allowed address receives a code. One code per address every 30 seconds; a code lives 10 minutes.',
          params: idParams,
          body: z.object({ email: z.email().max(320) }).strict(),
          response: { 202: z.object({ status: z.literal('code_sent'), email: z.string(), expires_at: z.string() }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const started = await startEmailVerification(ctx, publicRequest(request, request.params.id), request.body.email);
        return reply.code(202).send({ status: 'code_sent' as const, email: started.email, expires_at: new Date(started.expiresAt).toISOString() });
      },
    );

    app.post(
      '/v1/shared/:id/verify/confirm',
      {
        schema: {
          tags,
          security,
          summary: 'Open a link with the mailed one-time code (counts a view; the grant carries the proven address)',
          params: idParams,
          body: z.object({ email: z.email().max(320), code: z.string().trim().regex(/^\d{6}$/, 'must be the 6 digits from the mail'), password: z.string().min(1).max(200).optional() }).strict(),
          response: { 200: viewSchema, ...errorResponses },
        },
      },
      (request, reply) => view(request, reply, request.body.password, { email: request.body.email, code: request.body.code }),
    );

    app.get(
      '/v1/shared/:id/meta',
      { schema: { tags, security, summary: 'Status and title, without counting a view', params: idParams, querystring: noQuery, response: { 200: z.object({ status: z.string(), title: z.string().nullable(), expires_at: z.string().nullable(), requires_password: z.boolean(), requires_auth: z.boolean() }), ...errorResponses } } },
      async (request) => {
        const m = await sharedLinkMeta(ctx, publicRequest(request, request.params.id));
        return { status: m.status, title: m.title, expires_at: iso(m.expiresAt), requires_password: m.requiresPassword, requires_auth: m.requiresAuth };
      },
    );

    app.get(
      '/v1/shared/:id/records/:recordId',
      { schema: { tags, security, summary: 'Open one record of a collection link', params: idParams.extend({ recordId: resourceIdParam }), querystring: noQuery, response: { 200: z.object({ link: publicLinkSchema, resource: recordSchema, ...grantFields }), ...errorResponses } } },
      async (request, reply) => {
        if (isPreviewRequest(request)) return reply.code(204).send(null as never);
        const r = await openSharedRecord(ctx, publicRequest(request, request.params.id), request.params.recordId);
        withGrant(reply, r.grant);
        return { link: presentPublicLink(r.link), resource: presentRecord(r.record), grant: r.grant, grant_expires_at: iso(r.grantExpiresAt) };
      },
    );

    app.get(
      '/v1/shared/:id/records/:recordId/tables/:key',
      { schema: { tags, security, summary: 'A page of a table of a record opened from a collection link', params: idParams.extend({ recordId: resourceIdParam, key: keyName }), querystring: z.object({ cursor: z.string().min(1).max(512).optional() }).strict(), response: { 200: z.object({ table: tablePageSchema, ...grantFields }), ...errorResponses } } },
      async (request, reply) => {
        if (isPreviewRequest(request)) return reply.code(204).send(null as never);
        const t = await listSharedRecordTable(ctx, publicRequest(request, request.params.id), request.params.recordId, request.params.key, request.query.cursor);
        withGrant(reply, t.grant);
        return { table: presentTablePage(t.page), grant: t.grant, grant_expires_at: iso(t.grantExpiresAt) };
      },
    );

    app.get(
      '/v1/shared/:id/tables/:key',
      { schema: { tags, security, summary: 'A page of a table (100 rows)', params: idParams.extend({ key: keyName }), querystring: z.object({ cursor: z.string().min(1).max(512).optional() }).strict(), response: { 200: z.object({ table: z.union([tablePageSchema, collectionSchema]), ...grantFields }), ...errorResponses } } },
      async (request, reply) => {
        if (isPreviewRequest(request)) return reply.code(204).send(null as never);
        const t = await listSharedTable(ctx, publicRequest(request, request.params.id), request.params.key, request.query.cursor);
        withGrant(reply, t.grant);
        const table = 'kind' in t.page ? presentCollection(t.page) : presentTablePage(t.page);
        return { table, grant: t.grant, grant_expires_at: iso(t.grantExpiresAt) };
      },
    );

    const exportRoute = (format: 'csv' | 'json') => async (request: FastifyRequest, reply: FastifyReply) => {
      const { id } = request.params as { id: string };
      const { table } = request.query as { table?: string };
      if (isPreviewRequest(request)) return reply.code(204).send(null as never);
      const exp = await exportSharedLink(ctx, publicRequest(request, id), table);
      withGrant(reply, exp.grant);
      return sendExport(reply, exp, format);
    };
    const exportSchema = (format: string) => ({
      schema: { tags, security, summary: `Download as ${format.toUpperCase()} (counts a download)`, params: idParams, querystring: z.object({ table: keyName.optional() }).strict() },
    });
    app.get('/v1/shared/:id/export.csv', exportSchema('csv'), exportRoute('csv'));
    app.get('/v1/shared/:id/export.json', exportSchema('json'), exportRoute('json'));
  };
