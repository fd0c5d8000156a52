import { expect, it } from 'vitest';
import { buildWorkspace, send } from './helpers/factories.js';
import { startHarness } from './helpers/harness.js';

it('an unknown error is a logged 500 with a request id and no internals; /readyz says the database is gone', async () => {
  const h = await startHarness('sqlite');
  try {
    const ws = await buildWorkspace(h);
    // Pull the database out from under the running app.
    await h.ctx.database.close();
    const res = await send(h.app, 'GET', '/v1/links', undefined, { authorization: `Bearer ${ws.apiKey}` });
    expect(res.status).toBe(500);
    expect(res.body.reason).toBe('internal_error');
    expect(res.body.error).toBe('Something went wrong on our side');
    expect(res.body.request_id).toMatch(/^req_/);
    expect(res.text).not.toMatch(/sqlite|kysely|at .*\.ts|stack/i);
    const logged = h.logs.join('\n');
    expect(logged).toContain(res.body.request_id);
    expect(logged).toContain('unhandled error');
    const ready = await send(h.app, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ error: 'The database is not reachable', reason: 'not_ready' });
  } finally {
    await h.app.close();
    await h.close().catch(() => {});
  }
});
