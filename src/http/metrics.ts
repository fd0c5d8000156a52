import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.js';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metrics } from '../app/metrics.js';

/** Prometheus counters behind the application's Metrics, in a registry of this app's own. */
export function prometheusMetrics(): { metrics: Metrics; registry: Registry } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'porthole_' });
  const outcomes = new Counter({
    name: 'porthole_public_requests_total',
    help: 'Public link requests by action and outcome (allowed, or the denial reason)',
    labelNames: ['action', 'outcome'] as const,
    registers: [registry],
  });
  const views = new Counter({ name: 'porthole_views_total', help: 'Views counted', registers: [registry] });
  const downloads = new Counter({ name: 'porthole_downloads_total', help: 'Downloads counted', registers: [registry] });
  const batches = new Histogram({
    name: 'porthole_commit_batch_size',
    help: 'Writes carried by one grouped commit',
    buckets: [1, 2, 5, 10, 20, 50, 100, 256],
    registers: [registry],
  });
  return {
    registry,
    metrics: {
      publicOutcome: (action, outcome) => outcomes.inc({ action, outcome }),
      counted: (v, d) => {
        if (v) views.inc(v);
        if (d) downloads.inc(d);
      },
      batch: (size) => batches.observe(size),
    },
  };
}

/**
 * `GET /metrics` in the Prometheus text format. It carries counts only, never
 * a secret; with a token configured it answers only that bearer token.
 */
export function addMetricsRoute(app: FastifyInstance, registry: Registry, token: string | undefined): void {
  const expected = token === undefined ? null : createHash('sha256').update(token).digest();
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (expected) {
      const given = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      // Compared as digests: equal lengths, constant time.
      if (!given || !timingSafeEqual(createHash('sha256').update(given).digest(), expected)) {
        throw new AppError('unauthenticated', 'Send the metrics token as a bearer token');
      }
    }
    reply.type(registry.contentType);
    return registry.metrics();
  });
}
