import type { Kysely } from 'kysely';

/**
 * Analytics (DESIGN §6): `viewed` and `downloaded` events name their viewer
 * as a daily pseudonym (an HMAC of the client's address and user agent under
 * the secret and the day), so unique viewers can be counted without storing
 * who they are. Events written before this have none. The queries run on the
 * existing `(link_id, created_at, id)` and `(workspace_id, created_at, id)`
 * indexes: a day range of one link or workspace is a range scan of either.
 * Frozen once landed, like 0001.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('events').addColumn('viewer', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('events').dropColumn('viewer').execute();
}
