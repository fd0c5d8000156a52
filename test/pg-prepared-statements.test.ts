import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { sha256 } from '../src/domain/tokens.js';
import { findPublicLink } from '../src/storage/links.js';
import { buildLink, buildWorkspace, send, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

// On PostgreSQL the public path's fixed statements are prepared once per connection
// (dialects/postgres.ts) instead of parsed and planned on every view.

describeEachDialect(
  'PostgreSQL: the hot path as named prepared statements',
  (harness) => {
    let h: Harness;
    let ws: TestWorkspace;
    beforeAll(async () => {
      h = harness();
      ws = await buildWorkspace(h);
    });

    it("the link lookup is prepared on the connection that runs it; other queries are not", async () => {
      const link = await buildLink(ws);
      expect((await send(h.app, 'GET', `/v1/shared/${link.token}`)).status).toBe(200);
      const prepared = await h.ctx.database.db.connection().execute(async (conn) => {
        const found = await findPublicLink(conn, 'token', sha256(link.token));
        expect(found?.link.id).toBe(link.id);
        await conn.selectFrom('workspaces').select('id').where('id', '=', ws.workspaceId).execute();
        // pg_prepared_statements lists this session's statements.
        const { rows } = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(conn);
        return rows;
      });
      // The hot path looks up every token of a turn at once (turn-batch.ts).
      const lookup = prepared.filter((p) => p.statement.includes('"links"."token_hash" = any(cast($1 as text[]))'));
      expect(lookup).toHaveLength(1);
      expect(lookup[0].name).toMatch(/^porthole_[0-9a-f]{24}$/);
      expect(prepared.some((p) => p.statement.includes('"workspaces"') && !p.statement.includes('"links"'))).toBe(false);
    });

    it('a column added meanwhile (a newer instance migrating) does not break the prepared lookup', async () => {
      const link = await buildLink(ws);
      // Prepare the lookup on as many of the pool's connections as get used.
      const opens = () => Promise.all(Array.from({ length: 20 }, () => send(h.app, 'GET', `/v1/shared/${link.token}`).then((r) => r.status)));
      expect(new Set(await opens())).toEqual(new Set([200]));
      await sql`alter table links add column added_later text`.execute(h.ctx.database.db);
      try {
        // A prepared `links.*` would now fail on every connection with "cached plan must not change result type".
        expect(new Set(await opens())).toEqual(new Set([200]));
      } finally {
        await sql`alter table links drop column added_later`.execute(h.ctx.database.db);
      }
    });
  },
  { only: 'postgres' },
);
