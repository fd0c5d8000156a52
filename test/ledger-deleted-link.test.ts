import { expect, it } from 'vitest';
import { buildLink, buildWorkspace } from './helpers/factories.js';
import { describeEachDialect } from './helpers/harness.js';

describeEachDialect('the ledger and a link deleted meanwhile', (h) => {
  it('a denial of a link whose row went (retention) writes nothing and does not fail; a count of it is not_found', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws);
    const ledgerLink = { id: link.id, workspaceId: ws.workspaceId, grantEpoch: 0 };
    await h().ctx.database.db.deleteFrom('links').where('id', '=', link.id).execute();
    const now = h().ctx.now();
    await expect(h().ctx.ledger.deny({ kind: 'deny', link: ledgerLink, reason: 'expired', action: 'view', base: {}, now })).resolves.toBeUndefined();
    const counted = await h().ctx.ledger.count({ kind: 'count', link: ledgerLink, view: true, download: false, action: 'view', grant: null, password: 'none', base: {}, metadata: {}, now });
    expect(counted).toEqual({ ok: false, reason: 'not_found' });
    const events = await h().ctx.database.db.selectFrom('events').select('type').where('link_id', '=', link.id).execute();
    expect(events.map((e) => e.type)).toEqual(['created']);
  });
});
