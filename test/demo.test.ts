import { beforeAll, expect, it } from 'vitest';
import { demoLinkKinds, loadDemo, resolveDemoActor, type DemoLink } from '../src/app/load-demo.js';
import type { Actor } from '../src/domain/actor.js';
import { databaseEnv, runPorthole } from './helpers/cli.js';
import { scratchDatabase } from './helpers/databases.js';
import { buildWorkspace, send, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect } from './helpers/harness.js';

/** Every resource of a type, through the API's cursor pages. */
async function allResources(ws: TestWorkspace, type: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const res = await ws.api('GET', `/v1/resources?type=${type}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.status).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.next_cursor;
  } while (cursor);
  return items;
}

async function allLinkIds(ws: TestWorkspace): Promise<string[]> {
  const res = await ws.api('GET', '/v1/links?include_revoked=true&limit=200');
  expect(res.status).toBe(200);
  expect(res.body.next_cursor).toBeNull();
  return res.body.items.map((l: any) => l.id).sort();
}

const tokenOf = (link: DemoLink) => link.url.split('/shared/')[1];

/** Runs `porthole <argv…>` in-process against a database. */
const porthole = (argv: string[], db: { dataDir: string; databaseUrl?: string }) => runPorthole(argv, databaseEnv(db));

describeEachDialect('porthole demo', (h) => {
  let ws: TestWorkspace;
  let actor: Actor;
  let first: DemoLink[];
  const byKind = (kind: DemoLink['kind']) => first.find((l) => l.kind === kind) as DemoLink;

  beforeAll(async () => {
    ws = await buildWorkspace(h());
    actor = await resolveDemoActor(h().ctx, { email: ws.email });
    first = await loadDemo(h().ctx, actor);
  });

  it('acts as the named member of their workspace', () => {
    expect(actor).toMatchObject({ kind: 'user', workspaceId: ws.workspaceId, role: 'owner', email: ws.email });
  });

  it('loads 250 models, three jobs with their tasks, and a report with two versions', async () => {
    const models = await allResources(ws, 'model');
    expect(models).toHaveLength(250);
    expect(new Set(models.map((m) => m.fields.status)).size).toBeGreaterThanOrEqual(4);
    expect(new Set(models.map((m) => m.fields.risk_tier))).toEqual(new Set(['high', 'medium', 'low']));
    expect(models.some((m) => m.fields.owner === null && m.fields.documentation === null)).toBe(true);

    const jobs = await allResources(ws, 'job');
    expect(jobs.map((j) => j.fields.status).sort()).toEqual(['failed', 'running', 'succeeded']);
    for (const j of jobs) {
      const full = await ws.api('GET', `/v1/resources/job/${j.id}`);
      const tasks: any[] = full.body.tables.tasks;
      expect(tasks.length).toBeGreaterThanOrEqual(5);
      expect(tasks.length).toBeLessThanOrEqual(30);
      const statuses = new Set(tasks.map((t) => t.status));
      if (j.fields.status === 'running') expect([...statuses]).toEqual(expect.arrayContaining(['running', 'pending']));
      if (j.fields.status === 'failed') expect(statuses.has('failed')).toBe(true);
      if (j.fields.status === 'succeeded') expect([...statuses]).toEqual(['succeeded']);
    }

    const report = await ws.api('GET', '/v1/resources/report/soc2-2025-q2');
    expect(report.status).toBe(200);
    expect(report.body.latest_version).toBe(2);
    expect(report.body.tables.rules).toHaveLength(15);
    expect(new Set(report.body.tables.rules.map((r: any) => r.status))).toEqual(new Set(['passed', 'failed', 'warning']));
    expect(report.body.tables.sources).toHaveLength(4);
    expect(report.body.tables.gaps).toHaveLength(6);
    expect(report.body.tables.gaps.some((g: any) => g.owner === null || g.due === null || g.remediation === null)).toBe(true);
  });

  it('makes one link of each kind, each with the status and settings its kind promises', async () => {
    expect(first.map((l) => l.kind)).toEqual([...demoLinkKinds]);
    const expectedStatus = (kind: string) => (kind === 'revoked' ? 'revoked' : kind === 'disabled' ? 'disabled' : 'active');
    const links: Record<string, any> = {};
    for (const demo of first) {
      const res = await ws.api('GET', `/v1/links/${demo.link_id}`);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe(expectedStatus(demo.kind));
      expect(demo.status).toBe(expectedStatus(demo.kind));
      expect(res.body.url).toBe(demo.url);
      expect(res.body.short_url).toBe(demo.short_url);
      expect(res.body.label).toBe(demo.label);
      expect(res.body.metadata).toEqual({ demo: demo.kind });
      links[demo.kind] = res.body;
    }
    expect(links.plain).toMatchObject({ resource_type: 'job', resource_id: 'nightly-1042', pinned_version: null });
    expect(links.snapshot).toMatchObject({ resource_type: 'report', pinned_version: 1 });
    expect(links.collection).toMatchObject({ resource_type: 'model', resource_id: null, filter: null });
    expect(links.collection.settings.allow_open_records).toBe(true);
    expect(links.filtered_collection).toMatchObject({ resource_id: null, filter: { risk_tier: 'high' } });
    expect(links.filtered_collection.settings.allow_export).toBe(false);
    const hoursLeft = (Date.parse(links.short_lived.expires_at) - Date.now()) / 3_600_000;
    expect(hoursLeft).toBeGreaterThan(23.9);
    expect(hoursLeft).toBeLessThanOrEqual(24);
    expect(links.view_limited.max_views).toBe(3);
    expect(links.all_fields).toMatchObject({ resource_id: 'release-2-4-0' });
    expect(links.all_fields.settings.fields).toBe('all');
    expect(links.revoked.revoked_by).toBe(`user:${actor.kind === 'user' ? actor.userId : ''}`);
    expect(links.disabled.enabled).toBe(false);
  });

  it('running it again updates in place: no new resources, versions or links', async () => {
    const linksBefore = await allLinkIds(ws);
    expect(linksBefore).toHaveLength(demoLinkKinds.length);
    const second = await loadDemo(h().ctx, actor);
    expect(second.map((l) => [l.kind, l.link_id, l.url])).toEqual(first.map((l) => [l.kind, l.link_id, l.url]));
    expect(await allLinkIds(ws)).toEqual(linksBefore);
    expect(await allResources(ws, 'model')).toHaveLength(250);
    expect(await allResources(ws, 'job')).toHaveLength(3);
    expect((await ws.api('GET', '/v1/resources/report/soc2-2025-q2/versions')).body.items).toHaveLength(2);
    expect((await ws.api('GET', '/v1/resources/job/nightly-1042/versions')).body.items).toHaveLength(1);
    expect((await ws.api('GET', '/v1/resources/model/model-250/versions')).body.items).toHaveLength(1);
  });

  it('the plain link opens the running job, its public fields and its tasks', async () => {
    const res = await send(h().app, 'GET', `/v1/shared/${tokenOf(byKind('plain'))}`);
    expect(res.status).toBe(200);
    expect(res.body.kind).toBe('record');
    expect(res.body.resource).toMatchObject({ type: 'job', id: 'nightly-1042', title: 'Nightly build #1042' });
    const fields = Object.fromEntries(res.body.resource.fields.map((f: any) => [f.key, f.value]));
    expect(fields.status).toBe('running');
    expect(fields).not.toHaveProperty('internal_notes');
    expect(res.body.resource.tables[0].key).toBe('tasks');
    expect(res.body.resource.tables[0].total).toBe(18);
  });

  it('the all-fields link shows the failed job with its private notes', async () => {
    const res = await send(h().app, 'GET', `/v1/shared/${tokenOf(byKind('all_fields'))}`);
    expect(res.status).toBe(200);
    const fields = Object.fromEntries(res.body.resource.fields.map((f: any) => [f.key, f.value]));
    expect(fields.status).toBe('failed');
    expect(fields.internal_notes).toMatch(/runner-03/);
  });

  it('the snapshot link still shows version 1 while the report is at version 2', async () => {
    const res = await send(h().app, 'GET', `/v1/shared/${tokenOf(byKind('snapshot'))}`);
    expect(res.status).toBe(200);
    expect(res.body.resource).toMatchObject({ id: 'soc2-2025-q2', version: 1, latest_version: 2 });
    const score = res.body.resource.fields.find((f: any) => f.key === 'score').value;
    expect(score).toBe(71);
    const latest = await ws.api('GET', '/v1/resources/report/soc2-2025-q2');
    expect(latest.body).toMatchObject({ version: 2, latest_version: 2 });
    expect(latest.body.fields.score).toBe(84);
  });

  it('the collections page all models, or only high-risk ones without export', async () => {
    const all = await send(h().app, 'GET', `/v1/shared/${tokenOf(byKind('collection'))}`);
    expect(all.status).toBe(200);
    expect(all.body.collection).toMatchObject({ type: 'model', total: 250 });
    expect(all.body.collection.rows).toHaveLength(100);
    expect(all.body.collection.next_cursor).not.toBeNull();
    expect(all.body.link.permissions.open_records).toBe(true);

    const high = (await allResources(ws, 'model')).filter((m) => m.fields.risk_tier === 'high').length;
    const filtered = await send(h().app, 'GET', `/v1/shared/${tokenOf(byKind('filtered_collection'))}`);
    expect(filtered.status).toBe(200);
    expect(filtered.body.collection.total).toBe(high);
    expect(filtered.body.collection.rows.every((r: any) => r.cells.risk_tier === 'high')).toBe(true);
    const csv = await send(h().app, 'GET', `/v1/shared/${tokenOf(byKind('filtered_collection'))}/export.csv`, undefined, {
      'x-porthole-grant': filtered.body.grant,
    });
    expect(csv.status).toBe(403);
    expect(csv.body.reason).toBe('export_disabled');
  });

  it('the revoked and disabled links are refused with their reasons', async () => {
    const revoked = await send(h().app, 'GET', `/v1/shared/${tokenOf(byKind('revoked'))}`);
    expect(revoked).toMatchObject({ status: 410, body: { reason: 'revoked' } });
    const disabled = await send(h().app, 'GET', `/v1/shared/${tokenOf(byKind('disabled'))}`);
    expect(disabled).toMatchObject({ status: 403, body: { reason: 'disabled' } });
  });

  it('replaces a demo link that has died since the last run, and keeps the rest', async () => {
    const other = await buildWorkspace(h());
    const otherActor = await resolveDemoActor(h().ctx, { email: other.email });
    const before = await loadDemo(h().ctx, otherActor);
    const plain = before.find((l) => l.kind === 'plain') as DemoLink;
    expect((await other.api('POST', `/v1/links/${plain.link_id}/revoke`)).status).toBe(200);
    const after = await loadDemo(h().ctx, otherActor);
    const fresh = after.find((l) => l.kind === 'plain') as DemoLink;
    expect(fresh.link_id).not.toBe(plain.link_id);
    expect(fresh.status).toBe('active');
    expect(after.filter((l) => l.kind !== 'plain').map((l) => l.link_id)).toEqual(before.filter((l) => l.kind !== 'plain').map((l) => l.link_id));
    // The report was not re-versioned: its snapshot link was still alive.
    expect((await other.api('GET', '/v1/resources/report/soc2-2025-q2/versions')).body.items).toHaveLength(2);
  });

  it('names an unknown email instead of guessing a workspace', async () => {
    await expect(resolveDemoActor(h().ctx, { email: 'nobody@example.test' })).rejects.toMatchObject({ reason: 'not_found' });
  });

  it('`porthole demo --email` prints the same links again, one of each kind', async () => {
    const res = await porthole(['demo', '--email', ws.email], h().ctx.config);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Demo data in workspace ${ws.workspaceId}: 3 jobs, 1 report (2 versions), 250 models.`);
    for (const link of first) {
      expect(res.stdout).toContain(`${link.kind} (${link.status}): ${link.label}`);
      expect(res.stdout).toContain(`/shared/${tokenOf(link)}\n`);
    }
  });

  it('`porthole demo` on an empty database first creates the workspace, then loads into it', async () => {
    const scratch = await scratchDatabase(h().dialect);
    try {
      const res = await porthole(['demo'], scratch);
      expect(res.code).toBe(0);
      expect(res.stderr).toContain('created one');
      expect(res.stdout).toMatch(/^workspace: wsp_\w+\nemail: owner@porthole\.local\npassword: \S+\napi key: phk_[A-Za-z0-9_-]{43}\n/);
      expect(res.stdout.match(/^\S+ \((active|revoked|disabled)\): /gm)).toHaveLength(demoLinkKinds.length);

      const again = await porthole(['demo'], scratch);
      expect(again.code).toBe(0);
      expect(again.stdout).not.toContain('api key:');
      expect(again.stdout.slice(again.stdout.indexOf('Demo data'))).toBe(res.stdout.slice(res.stdout.indexOf('Demo data')));
    } finally {
      await scratch.drop();
    }
  });

  it('`porthole demo` with an unknown member fails naming them', async () => {
    const res = await porthole(['demo', '--email', 'nobody@example.test'], h().ctx.config);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('nobody@example.test');
  });
});
