import type { IncomingMessage, ServerResponse } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../app/context.js';
import { viewSharedLink } from '../../app/view-shared-link.js';
import { isPreviewRobot } from '../../domain/robots.js';
import { publicRequestFrom, viewBody } from './view-response.js';
import { SESSION_COOKIE } from '../auth.js';
import { publicSecurityHeaders } from './security-headers.js';

/** `GET /v1/shared/{id}` and nothing else: no query, no trailing slash, nothing to decode. */
const VIEW_PATH = /^\/v1\/shared\/([A-Za-z0-9_-]{1,300})$/;
const SESSION_COOKIE_PREFIX = `${SESSION_COOKIE}=`;

/** Where the fast path leaves a refusal for the Fastify route to answer (see `fastViewOutcome`). */
const kRefused = Symbol('porthole.fastViewRefused');
type Marked = IncomingMessage & { [kRefused]?: unknown };

/** The error the fast path met opening this request's link, if it met one. */
export function fastViewOutcome(raw: IncomingMessage): unknown {
  return (raw as Marked)[kRefused];
}

/** The client address as Fastify gives it as `request.ip`, under the same `trustProxy` setting. */
export function clientIpOf(trustProxy: boolean | number | string): (req: IncomingMessage) => string | undefined {
  if (trustProxy === false) return (req) => req.socket.remoteAddress;
  const trust =
    trustProxy === true
      ? () => true
      : typeof trustProxy === 'number'
        ? (_addr: string, hop: number) => hop < trustProxy
        : proxyAddr.compile(trustProxy.split(',').map((v) => v.trim()));
  return (req) => {
    const addrs = proxyAddr.all(req, trust);
    return addrs[addrs.length - 1];
  };
}

export type FastViewOptions = {
  /** The app's logger (pino, which can say whether a level is on). */
  log: FastifyBaseLogger & { isLevelEnabled(level: string): boolean };
  clientIp: (req: IncomingMessage) => string | undefined;
  newRequestId: () => string;
  /** True once the app is closing: from then on Fastify answers (503). */
  closing: () => boolean;
};

export type FastView = (req: IncomingMessage, res: ServerResponse, fallback: () => void) => void;

/**
 * The opening of a link is the hot path, and what Fastify does per request
 * (routing, hooks, validating an id the pattern below has already checked,
 * its reply machinery) costs about as much as the view's own work on the
 * event loop. So a plain `GET /v1/shared/{id}` that succeeds is answered here,
 * on node:http: the same use-case, body, headers and log lines as the route.
 * Everything else goes to Fastify untouched, and so does a view that was
 * refused or failed: the route throws the error met here and the one error
 * handler answers it (the evaluator ran once, its event was written once).
 */
export function fastViewHandler(ctx: AppContext, opts: FastViewOptions): FastView {
  return (req, res, fallback) => {
    const match = req.method === 'GET' && !opts.closing() ? VIEW_PATH.exec(req.url ?? '') : null;
    // A preview robot, a GET with a body, or a signed-in member (who may pass a link for members): the route knows what to do.
    if (
      !match ||
      isPreviewRobot(req.headers['user-agent']) ||
      req.headers['content-length'] !== undefined ||
      req.headers['transfer-encoding'] !== undefined ||
      req.headers.cookie?.includes(SESSION_COOKIE_PREFIX)
    ) {
      fallback();
      return;
    }
    const started = process.hrtime.bigint();
    const ip = opts.clientIp(req);
    const refused = (error: unknown) => {
      (req as Marked)[kRefused] = error;
      fallback();
    };
    viewSharedLink(ctx, publicRequestFrom(req.headers, ip, match[1])).then((v) => {
      let body: string;
      try {
        body = JSON.stringify(viewBody(v));
      } catch (e) {
        return refused(e);
      }
      res.writeHead(200, {
        ...publicSecurityHeaders,
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        ...(v.grant ? { 'X-Porthole-Grant': v.grant } : {}),
      });
      res.end(body);
      // Fastify's two lines, written at the end: a refused view is logged by Fastify instead, once.
      if (opts.log.isLevelEnabled('info')) {
        const log = opts.log.child({ reqId: opts.newRequestId() });
        log.info({ req: { method: req.method, url: req.url, headers: req.headers, ip } }, 'incoming request');
        log.info({ res: { statusCode: 200 }, responseTime: Number(process.hrtime.bigint() - started) / 1e6 }, 'request completed');
      }
    }, refused);
  };
}
