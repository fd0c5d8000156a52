import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { getLink } from '../../app/get-link.js';
import { UNREADABLE_URL } from '../../app/link-urls.js';
import { AppError } from '../../domain/errors.js';
import { actorOf } from '../auth.js';
import { errorResponses } from '../presenters/common.js';
import { presentLink } from '../presenters/link.js';

const idParams = z.object({ id: z.string().min(1).max(100) });
const qrQuery = z.object({ short: z.enum(['true', 'false']).optional() }).strict();

/** A link's address as a QR code, to print or show on a screen. */
export const qrRoutes =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/links/:id/qr.svg',
      {
        schema: {
          tags: ['links'],
          summary: 'The link as a QR code (SVG); `short=true` encodes the short URL, which makes a smaller code',
          params: idParams,
          querystring: qrQuery,
          response: { 200: z.string(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const view = presentLink(ctx, actor, await getLink(ctx, actor, request.params.id));
        const url = request.query.short === 'true' ? view.short_url : view.url;
        if (url === null) throw new AppError('conflict', UNREADABLE_URL);
        const svg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
        // The code holds the link's secret: never cached by anything in between.
        return reply.type('image/svg+xml; charset=utf-8').header('Cache-Control', 'private, no-store').send(svg);
      },
    );
  };
