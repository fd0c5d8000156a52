import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { buildLink, buildWorkspace, send } from './helpers/factories.js';
import { portholeOn as porthole, runPorthole } from './helpers/cli.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';
import { freePort } from './helpers/net.js';

/** A link with two events in its chain: `created` (seq 1) and `updated` (seq 2). */
async function linkWithTwoEvents(h: Harness): Promise<{ id: string; events: Array<{ id: string; seq: number; type: string }> }> {
  const ws = await buildWorkspace(h);
  const link = await buildLink(ws);
  const patched = await ws.api('PATCH', `/v1/links/${link.id}`, { label: 'quarterly report' });
  expect(patched.status).toBe(200);
  const events = await h.ctx.database.db
    .selectFrom('events')
    .select(['id', 'seq', 'type'])
    .where('link_id', '=', link.id)
    .orderBy('seq')
    .execute();
  expect(events.map((e) => [e.seq, e.type])).toEqual([
    [1, 'created'],
    [2, 'updated'],
  ]);
  return { id: link.id, events: events as Array<{ id: string; seq: number; type: string }> };
}

describeEachDialect('porthole CLI', (h) => {
  it('migrate reports an already migrated database as up to date', async () => {
    const res = await porthole(h(), ['migrate']);
    expect(res).toMatchObject({ code: 0, stdout: 'up to date\n' });
  });

  it('audit verify passes an untouched trail', async () => {
    const link = await linkWithTwoEvents(h());
    const one = await porthole(h(), ['audit', 'verify', '--link', link.id]);
    expect(one).toMatchObject({ code: 0, stdout: 'ok: 1 links, 2 events verified\n', stderr: '' });
    const all = await porthole(h(), ['audit', 'verify']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^ok: \d+ links, \d+ workspaces, \d+ events verified\n$/);
  });

  it('audit verify reports an edited event by its id and exits 1', async () => {
    const link = await linkWithTwoEvents(h());
    const created = link.events[0];
    await h().ctx.database.db
      .updateTable('events')
      .set({ metadata: JSON.stringify({ note: 'nothing to see here' }) })
      .where('id', '=', created.id)
      .execute();
    const res = await porthole(h(), ['audit', 'verify', '--link', link.id]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`break: link ${link.id} seq 1 event ${created.id}: content does not match its hash`);
    expect(res.stdout).toMatch(/FAILED: 1 problem\(s\) in 1 of 1 links \(2 events checked\)/);

    // The whole-database walk finds it too, among every other (intact) link.
    const all = await porthole(h(), ['audit', 'verify']);
    expect(all.code).toBe(1);
    expect(all.stdout).toContain(`event ${created.id}: content does not match its hash`);
  });

  it('audit verify reports an event whose type was changed', async () => {
    const link = await linkWithTwoEvents(h());
    const updated = link.events[1];
    await h().ctx.database.db.updateTable('events').set({ type: 'viewed' }).where('id', '=', updated.id).execute();
    const res = await porthole(h(), ['audit', 'verify', '--link', link.id]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`seq 2 event ${updated.id}: content does not match its hash`);
  });

  it('audit verify reports the events of a link whose row was removed', async () => {
    const link = await linkWithTwoEvents(h());
    const { db } = h().ctx.database;
    const row = await db.selectFrom('links').selectAll().where('id', '=', link.id).executeTakeFirstOrThrow();
    await db.deleteFrom('links').where('id', '=', link.id).execute();
    try {
      const all = await porthole(h(), ['audit', 'verify']);
      expect(all.code).toBe(1);
      for (const e of link.events) expect(all.stdout).toContain(`break: link ${link.id} seq ${e.seq} event ${e.id}: the event names a link that does not exist`);
    } finally {
      // Put the row back so the suite's later whole-database walks see an intact trail.
      await db.insertInto('links').values(row).execute();
    }
    expect((await porthole(h(), ['audit', 'verify'])).stdout).not.toContain('names a link that does not exist');
  });

  it('audit verify reports a deleted event in the middle of a chain', async () => {
    const link = await linkWithTwoEvents(h());
    const [created, updated] = link.events;
    await h().ctx.database.db.deleteFrom('events').where('id', '=', created.id).execute();
    const res = await porthole(h(), ['audit', 'verify', '--link', link.id]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`seq 2 event ${updated.id}: expected sequence 1, found 2`);
    expect(res.stdout).toContain(`seq 2 event ${updated.id}: previous hash does not match`);
    expect(res.stdout).not.toContain(created.id);
  });

  it('audit verify reports a deleted last event through the link\'s chain head', async () => {
    const link = await linkWithTwoEvents(h());
    await h().ctx.database.db.deleteFrom('events').where('id', '=', link.events[1].id).execute();
    const res = await porthole(h(), ['audit', 'verify', '--link', link.id]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`break: link ${link.id} seq - event -: the link does not end its chain on the last event`);
  });

  it('audit verify --link with an unknown id fails naming it', async () => {
    const res = await porthole(h(), ['audit', 'verify', '--link', 'lnk_missing']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('lnk_missing');
  });

  it('create-workspace prints working credentials once and refuses a taken email', async () => {
    const email = `cli-${Date.now()}@example.test`;
    const res = await porthole(h(), ['create-workspace', '--email', email, '--name', 'Acme']);
    expect(res.code).toBe(0);
    const lines = Object.fromEntries(res.stdout.trim().split('\n').map((l) => l.split(/: (.*)/s).slice(0, 2)));
    expect(lines.email).toBe(email);
    expect(lines.password.length).toBeGreaterThanOrEqual(12);
    expect(lines['api key']).toMatch(/^phk_[A-Za-z0-9_-]{43}$/);
    expect(lines.workspace).toMatch(/^wsp_/);
    const listed = await send(h().app, 'GET', '/v1/links', undefined, { authorization: `Bearer ${lines['api key']}` });
    expect(listed.status).toBe(200);

    const again = await porthole(h(), ['create-workspace', '--email', email]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect(again.stdout).toBe('');
  });

  it('create-workspace refuses a malformed email before touching the database', async () => {
    const res = await porthole(h(), ['create-workspace', '--email', 'not-an-email']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('not a valid email address');
  });

  it('a bad configuration value exits 2 naming the variable', async () => {
    const res = await porthole(h(), ['audit', 'verify'], { PORT: 'abc' });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/PORT/);
    const res2 = await porthole(h(), ['migrate'], { DATABASE_URL: 'mysql://x' });
    expect(res2.code).toBe(2);
    expect(res2.stderr).toMatch(/DATABASE_URL/);
  });
});

it('commands that read the schema refuse a database that has not been migrated, saying what to do, and work once it is', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'porthole-cli-'));
  try {
    const run = (argv: string[]) => runPorthole(argv, { DATA_DIR: dataDir });
    for (const argv of [['audit', 'verify'], ['cleanup', '--dry-run']]) {
      const refused = await run(argv);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^porthole: the database is not at this version's schema \(\d+ migrations pending: 0001-initial, .*\); run `porthole migrate`, or start the server, first\n$/);
    }
    expect((await run(['migrate'])).code).toBe(0);
    expect(await run(['audit', 'verify'])).toMatchObject({ code: 0, stdout: 'ok: 0 links, 0 workspaces, 0 events verified\n' });
    expect((await run(['cleanup', '--dry-run'])).code).toBe(0);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

it('a database out of reach is one line saying what to check, never a stack trace, and exit 1', async () => {
  const res = await runPorthole(['migrate'], { DATABASE_URL: `postgres://porthole:s3cret@127.0.0.1:${await freePort()}/porthole` });
  expect(res.code).toBe(1);
  expect(res.stderr).toMatch(/^porthole: cannot reach the database: connect ECONNREFUSED .*\(ECONNREFUSED\)\. Is PostgreSQL running, and does DATABASE_URL point at it\?\n$/);
  expect(res.stderr).not.toContain('s3cret');
});
