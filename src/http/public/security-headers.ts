import type { FastifyInstance } from 'fastify';

/** The strict policy of public pages: our own stylesheet, no script at all, no framing. */
export const PUBLIC_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** DESIGN §8: every public response, success or error, carries these. */
export const publicSecurityHeaders: Readonly<Record<string, string>> = Object.freeze({
  'Referrer-Policy': 'no-referrer',
  'X-Robots-Tag': 'noindex, nofollow',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': PUBLIC_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
});

export function addPublicSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply) => {
    reply.headers(publicSecurityHeaders);
  });
}

/** Public paths: link pages and the public API. */
export const isPublicPath = (url: string): boolean => /^\/(?:v1\/)?(?:shared|s)(?:\/|$)/.test(url);
