import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLink, buildWorkspace, send } from './helpers/factories.js';
import { describeEachDialect, startHarness, type Harness } from './helpers/harness.js';

/** The value of one sample line of the Prometheus text, or 0 when absent. */
function sample(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : 0;
}

describeEachDialect('metrics', (h) => {
  it('counts malformed, unknown and rate-limited requests (which write no event), outcomes, views and commit batches', async () => {
    const before = (await send(h().app, 'GET', '/metrics')).text;
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws, { max_views: 1 });
    await send(h().app, 'GET', '/v1/shared/not-a-token');
    await send(h().app, 'GET', `/v1/shared/${'B'.repeat(43)}`);
    await send(h().app, 'GET', `/v1/shared/${link.token}`);
    await send(h().app, 'GET', `/v1/shared/${link.token}`);
    const res = await send(h().app, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const diff = (line: string) => sample(res.text, line) - sample(before, line);
    expect(diff('porthole_public_requests_total{action="view",outcome="invalid_token"}')).toBe(1);
    expect(diff('porthole_public_requests_total{action="view",outcome="not_found"}')).toBe(1);
    expect(diff('porthole_public_requests_total{action="view",outcome="allowed"}')).toBe(1);
    expect(diff('porthole_public_requests_total{action="view",outcome="max_views_reached"}')).toBe(1);
    expect(diff('porthole_views_total')).toBe(1);
    expect(diff('porthole_commit_batch_size_count')).toBeGreaterThanOrEqual(2);
    expect(res.text).not.toContain(link.token);
  });
});

describe('metrics behind a token', () => {
  const token = 'scrape-me-0123456789abcdef';
  let harness: Harness & { close(): Promise<void> };
  beforeAll(async () => {
    harness = await startHarness('sqlite', { METRICS_TOKEN: token });
  });
  afterAll(async () => {
    await harness.close();
  });

  it('answers only the configured bearer token, with a JSON 401 otherwise', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: `Bearer ${token}x` }, { authorization: `Basic ${token}` }, { authorization: 'Bearer ' }, { authorization: token }]) {
      const res = await send(harness.app, 'GET', '/metrics', undefined, headers);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'Send the metrics token as a bearer token', reason: 'unauthenticated' });
    }
    const ok = await send(harness.app, 'GET', '/metrics', undefined, { authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('porthole_views_total');
  });
});
