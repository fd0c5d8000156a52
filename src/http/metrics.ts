import type { FastifyInstance } from 'fastify';
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

/** `GET /metrics` in the Prometheus text format. It carries counts only, never a secret. */
export function addMetricsRoute(app: FastifyInstance, registry: Registry): void {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
}
