import type { Kysely } from 'kysely';

/**
 * Retention (DESIGN §6): where a link's hash chain now starts. Event
 * retention deletes a chain's oldest events and moves the floor to the last
 * one it deleted (its sequence number and hash), so `porthole audit verify`
 * checks the rest from there instead of from sequence 1. 0 and null: the
 * chain is whole. Frozen once landed, like 0001 and 0002.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('links').addColumn('chain_floor_seq', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('links').addColumn('chain_floor_hash', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('links').dropColumn('chain_floor_hash').execute();
  await db.schema.alterTable('links').dropColumn('chain_floor_seq').execute();
}
