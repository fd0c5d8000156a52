import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { createServer } from 'node:http';
import { sql } from 'kysely';
import type { AppContext } from '../app/context.js';
import { AppError } from '../domain/errors.js';
import { requireActor } from './auth.js';
import { answerClientError, errorBody, installErrorHandler, statusFor, toAppError, type ErrorRenderer } from './error-handler.js';
import { maskHeaders, maskUrl } from './log-redaction.js';
import { addMetricsRoute, prometheusMetrics } from './metrics.js';
import { clientIpOf, fastViewHandler, type FastView, type FastViewOptions } from './public/fast-view.js';
import { sharedApiRoutes } from './public/shared-api.js';
import { sharedEditRoutes } from './public/edit-api.js';
import { sharedCommentRoutes } from './public/comments-api.js';
import { addPublicSecurityHeaders, isPublicPath, publicSecurityHeaders } from './public/security-headers.js';
import { linkRoutes } from './api/links.js';
import { resourceRoutes } from './api/resources.js';
import { eventRoutes } from './api/events.js';
import { analyticsRoutes } from './api/analytics.js';
import { commentRoutes } from './api/comments.js';
import { loginRoutes, sessionRoutes } from './api/auth.js';
import { memberRoutes } from './api/members.js';
import { apiKeyRoutes } from './api/api-keys.js';
import { workspaceRoutes } from './api/workspace.js';
import { qrRoutes } from './api/qr.js';
import { sendRefusalPage, sharePageRoutes } from './pages/share-pages.js';
import { shareAssetRoutes } from './pages/stylesheet.js';

export type AppDeps = {
  /** Where request logs go (tests capture them); defaults to stdout. */
  logStream?: NodeJS.WritableStream;
  /** How long a client may take to send a whole request, headers and body (default 30 s; tests shorten it). */
  requestTimeoutMs?: number;
  /** How long closing lets answers under way finish before it cuts their connections (default 10 s; tests shorten it). */
  closeGraceMs?: number;
};

/**
 * A request (headers and body: a few KB here, 1 MB at most) must arrive
 * within this: a client trickling it slowly (slowloris) is answered 408
 * `request_timeout` and its connection closed, rather than holding it open
 * for ever. Fastify's default is no limit. Answers may take as long as they
 * need (an export streams for minutes).
 */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Closing waits for the answers under way, but not for ever: a download
 * that streams for minutes, or a client that stopped reading one, would
 * hold a stopping instance (and its writes' final commit) until the
 * orchestrator kills it. After this grace, their connections are cut (the
 * client sees an incomplete download) and closing goes on.
 */
const CLOSE_GRACE_MS = 10_000;

/** Every management route group, each registered behind `requireActor`. */
const managementGroups = [linkRoutes, resourceRoutes, eventRoutes, analyticsRoutes, commentRoutes, sessionRoutes, memberRoutes, apiKeyRoutes, workspaceRoutes, qrRoutes];

const newRequestId = () => `req_${Math.random().toString(36).slice(2, 12)}`;

/** Builds the HTTP application; never listens (only main.ts does). */
export async function buildApp(ctx: AppContext, deps: AppDeps = {}): Promise<FastifyInstance> {
  // Links are opened on the server's fast path when they can be (public/fast-view.ts), by Fastify otherwise.
  let fastView: FastView | null = null;
  let closing = false;
  const requestTimeout = deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const app = Fastify({
    serverFactory: (handler, opts) => {
      const options = opts as { keepAliveTimeout?: number; connectionTimeout?: number };
      const server = createServer(
        {
          requestTimeout,
          headersTimeout: Math.min(60_000, requestTimeout),
          // Node looks for late requests this often (30 s by default, which would double the limit).
          connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(requestTimeout / 4))),
        },
        (req, res) => (fastView ? fastView(req, res, () => handler(req, res)) : handler(req, res)),
      );
      // What Fastify sets on the servers it makes itself.
      server.keepAliveTimeout = options.keepAliveTimeout ?? 72_000;
      server.setTimeout(options.connectionTimeout ?? 0);
      return server;
    },
    logger: {
      level: ctx.config.logLevel,
      ...(deps.logStream ? { stream: deps.logStream } : {}),
      serializers: {
        req: (req) => ({ method: req.method, url: maskUrl(req.url), headers: maskHeaders(req.headers as Record<string, unknown>), remoteAddress: req.ip }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
    },
    bodyLimit: 1024 * 1024,
    // Fastify accepts a hop count too, though its types do not say so.
    trustProxy: ctx.config.trustProxy as boolean | string,
    // Requests the router refuses (a malformed URL) get the same answers as the rest: a page
    // under /shared and /s, JSON elsewhere, the public headers on public paths; never Fastify's own body.
    frameworkErrors: (error, request, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      const appErr = toAppError(error);
      reply.code(statusFor[appErr.reason]);
      const url = request.url ?? '';
      if (isPublicPath(url)) reply.headers(publicSecurityHeaders);
      if (/^\/(?:shared|s)\//.test(url)) return sendRefusalPage(reply, request, appErr);
      return reply.send(errorBody(appErr, request.id));
    },
    // The parser's refusals, before any route (a URL or headers past 16 KB, a malformed request): ours too.
    clientErrorHandler: (err, socket) => answerClientError(err, socket, publicSecurityHeaders),
    genReqId: newRequestId,
    // Closing is answered below, in our {error, reason} shape (Fastify's own 503 has another).
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 300 },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const renderers: ErrorRenderer[] = [];
  installErrorHandler(app, renderers);
  // Once the instance is closing, a request on a connection still open is told to go elsewhere and the connection ends with it.
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    reply.header('Connection', 'close');
    done(new AppError('not_ready', 'This instance is shutting down; try again in a moment', { retryAfter: 1 }));
  });

  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Porthole API', version: '1.0.0', description: 'Share one record, table, job or report through a link that expires, is audited and can be revoked.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key, phk_…' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  const { metrics, registry } = prometheusMetrics();
  ctx.metrics = metrics;
  // The outbox's failed attempts are logged without the mail's text (a one-time code may be in it).
  ctx.mail.onFailure = (failure) => app.log.warn({ mail: failure }, failure.willRetry ? 'mail not sent; will retry' : 'mail failed for good');
  // A scheduled cleanup that fails is logged and tried again at the next hour; it never stops the server.
  ctx.cleanup.onFailure = (err) => app.log.error({ err }, 'scheduled cleanup failed');
  ctx.cleanup.onDone = (deleted) => {
    if (Object.values(deleted).some((n) => n > 0)) app.log.info({ deleted }, 'scheduled cleanup');
  };
  addMetricsRoute(app, registry, ctx.config.metricsToken);
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await sql`select 1`.execute(ctx.database.db);
      return { status: 'ready', database: ctx.database.dialect };
    } catch {
      return reply.code(503).send({ error: 'The database is not reachable', reason: 'not_ready' });
    }
  });

  // Signing in is the one API route without an actor.
  await app.register(loginRoutes(ctx));

  // Public surfaces for link holders: their own scope, with the security headers of DESIGN §8.
  await app.register(async (pub) => {
    addPublicSecurityHeaders(pub);
    await pub.register(sharedApiRoutes(ctx));
    await pub.register(sharedEditRoutes(ctx));
    await pub.register(sharedCommentRoutes(ctx));
    await pub.register(sharePageRoutes(ctx));
  });
  // The pages' stylesheet is cacheable, so it stays outside the public scope and its `no-store`.
  await app.register(shareAssetRoutes);

  await app.register(async (api) => {
    api.addHook('onRequest', requireActor(ctx));
    // Management bodies are JSON only: without this, Fastify's text/plain parser hands a
    // string to the schema and a wrong content type reads as a 400 instead of a 415.
    api.removeContentTypeParser('text/plain');
    for (const group of managementGroups) await api.register(group(ctx));
  });

  // Closing answers new requests 503 with `Connection: close`, and Node closes the connections idle at that
  // moment. A keep-alive connection whose request was in flight goes idle later and would hold the close
  // (and a SIGTERM'd process) until its 72 s timeout: each is closed as soon as it is idle. Answers still
  // under way after the grace (CLOSE_GRACE_MS) have their connections cut.
  let sweep: NodeJS.Timeout | undefined;
  let cut: NodeJS.Timeout | undefined;
  app.addHook('preClose', (done) => {
    closing = true;
    sweep = setInterval(() => app.server.closeIdleConnections(), 20).unref();
    cut = setTimeout(() => app.server.closeAllConnections(), deps.closeGraceMs ?? CLOSE_GRACE_MS).unref();
    done();
  });
  app.addHook('onClose', (_app, done) => {
    clearInterval(sweep);
    clearTimeout(cut);
    done();
  });
  fastView = fastViewHandler(ctx, { log: app.log as FastViewOptions['log'], clientIp: clientIpOf(ctx.config.trustProxy), newRequestId, closing: () => closing });
  return app;
}
