import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { buildLink, buildWorkspace, send } from './helpers/factories.js';
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

it('a write that waits past the busy timeout (another SQLite writer holds the lock) is a 503 not_ready with Retry-After, then works again', async () => {
  const h = await startHarness('sqlite');
  const other = new Database(h.ctx.database.file as string);
  try {
    const ws = await buildWorkspace(h);
    const link = await buildLink(ws);
    // Say, a long transaction in the CLI beside the server.
    other.exec('begin immediate');
    const [edit, view, page] = await Promise.all([
      send(h.app, 'PATCH', `/v1/links/${link.id}`, { label: 'x' }, { authorization: `Bearer ${ws.apiKey}` }),
      send(h.app, 'GET', `/v1/shared/${link.token}`),
      send(h.app, 'GET', `/shared/${link.token}`),
    ]);
    for (const res of [edit, view]) {
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: 'The database is busy; try again in a moment', reason: 'not_ready' });
      expect(res.headers['retry-after']).toBe('1');
    }
    // The reader of the page is told to try again, not that the link is bad.
    expect(page.status).toBe(503);
    expect(page.headers['retry-after']).toBe('1');
    expect(page.text).toContain('Porthole is busy for a moment');
    expect(page.text).toContain('Nothing is wrong with your link');
    expect(page.text).not.toContain('new link');
    other.exec('rollback');
    expect((await send(h.app, 'GET', `/v1/shared/${link.token}`)).status).toBe(200);
    expect((await send(h.app, 'PATCH', `/v1/links/${link.id}`, { label: 'x' }, { authorization: `Bearer ${ws.apiKey}` })).status).toBe(200);
  } finally {
    other.close();
    await h.close();
  }
}, 30_000);
