import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';

/** The one stylesheet of the share pages; next to this module in src (vitest) and in dist (copied by scripts/copy-assets.mjs). */
const CSS_FILE = new URL('./assets/share.css', import.meta.url);
export const SHARE_CSS_PATH = '/assets/share.css';

let loaded: { body: Buffer; version: string } | undefined;

function stylesheet(): { body: Buffer; version: string } {
  if (!loaded) {
    const body = readFileSync(CSS_FILE);
    loaded = { body, version: createHash('sha256').update(body).digest('hex').slice(0, 12) };
  }
  return loaded;
}

/** The stylesheet's address, versioned by its content, so an `immutable` cache never serves an old one after an upgrade. */
export const shareCssHref = (): string => `${SHARE_CSS_PATH}?v=${stylesheet().version}`;

/**
 * Serves the stylesheet, cacheable (unlike every other public response), so it
 * lives outside the public scope whose hook sets `no-store`.
 */
export const shareAssetRoutes: FastifyPluginAsync = async (app) => {
  const { body, version } = stylesheet();
  const etag = `"${version}"`;
  app.get(SHARE_CSS_PATH, { schema: { hide: true } }, async (request, reply) => {
    reply
      .header('Cache-Control', 'public, max-age=86400, immutable')
      .header('ETag', etag)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Cross-Origin-Resource-Policy', 'same-origin')
      .type('text/css; charset=utf-8');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.send(body);
  });
};
