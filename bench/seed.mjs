// Seeds a database with N active links to one resource, fast: one link is made
// through the real use-case, the rest are clones of its row with fresh secrets.
import { createWorkspaceWithOwner } from '../dist/app/bootstrap-workspace.js';
import { createLink } from '../dist/app/create-link.js';
import { upsertResource } from '../dist/app/upsert-resource.js';
import { newId } from '../dist/domain/ids.js';
import { newLinkToken, newShortCode, sha256 } from '../dist/domain/tokens.js';

export async function seedLinks(ctx, count, log = () => {}) {
  const creds = await createWorkspaceWithOwner(ctx, { name: 'Bench', email: `bench-${Date.now()}@example.test` });
  const actor = { kind: 'api_key', workspaceId: creds.workspaceId, keyId: 'bench', role: 'admin', appUser: null };
  await ctx.database.db
    .insertInto('resource_types')
    .values({
      workspace_id: creds.workspaceId,
      type: 'job',
      label: 'Job',
      fields: JSON.stringify([
        { key: 'status', label: 'Status', format: 'status', public: true },
        { key: 'pipeline', label: 'Pipeline', format: 'text', public: true },
        { key: 'started_at', label: 'Started', format: 'datetime', public: true },
      ]),
      tables: '[]',
      created_at: Date.now(),
      updated_at: Date.now(),
    })
    .execute();
  await upsertResource(ctx, actor, 'job', 'job-1', {
    title: 'Nightly build #1042',
    fields: { status: 'running', pipeline: 'release', started_at: '2026-11-24T08:00:00Z', internal: 'not shown' },
    tables: {},
  });
  const { link } = await createLink(ctx, actor, { resource_type: 'job', resource_id: 'job-1', expires_in_days: 30 });
  const template = await ctx.database.db.selectFrom('links').selectAll().where('id', '=', link.id).executeTakeFirstOrThrow();
  const tokens = [ctx.box.open(template.token_sealed)];
  const batch = 500;
  const started = Date.now();
  for (let done = 1; done < count; ) {
    const rows = [];
    for (let i = 0; i < batch && done < count; i++, done++) {
      const token = newLinkToken();
      const code = newShortCode();
      tokens.push(token);
      rows.push({
        ...template,
        id: newId('lnk'),
        token_hash: sha256(token),
        short_code_hash: sha256(code),
        token_sealed: ctx.box.seal(token),
        short_code_sealed: ctx.box.seal(code),
        event_seq: 0,
        last_event_hash: null,
      });
    }
    await ctx.database.db.transaction().execute((tx) => tx.insertInto('links').values(rows).execute());
    if (tokens.length % 100_000 < batch) log(`  seeded ${tokens.length} links (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  return tokens;
}

/** Seeds `count` resources of type `model` and a collection link over them; returns the link's token. */
export async function seedCollection(ctx, count) {
  const creds = await createWorkspaceWithOwner(ctx, { name: 'Bench export', email: `bench-export-${Date.now()}@example.test` });
  const actor = { kind: 'api_key', workspaceId: creds.workspaceId, keyId: 'bench', role: 'admin', appUser: null };
  await upsertResource(ctx, actor, 'model', 'model-0000000', { title: 'Model 0', fields: { status: 'active', provider: 'acme', risk_tier: 'high' }, tables: {} });
  const template = await ctx.database.db.selectFrom('resources').selectAll().where('workspace_id', '=', creds.workspaceId).executeTakeFirstOrThrow();
  for (let done = 1; done < count; ) {
    const rows = [];
    for (let i = 0; i < 1000 && done < count; i++, done++) {
      const id = `model-${String(done).padStart(7, '0')}`;
      rows.push({ ...template, id, title: `Model ${done}`, fields: JSON.stringify({ status: done % 7 ? 'active' : 'retired', provider: `provider-${done % 13}`, risk_tier: ['low', 'medium', 'high'][done % 3], notes: '=HYPERLINK("x")'.repeat(done % 2) }) });
    }
    await ctx.database.db.transaction().execute((tx) => tx.insertInto('resources').values(rows).execute());
  }
  const { link } = await createLink(ctx, actor, { resource_type: 'model', resource_id: null, settings: { fields: 'all' } });
  return ctx.box.open(link.tokenSealed);
}
