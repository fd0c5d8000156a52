import { sql } from 'kysely';
import type { Harness } from './harness.js';

/**
 * Makes every insert into `table` whose `column` equals `value` fail (a
 * trigger raising an error), to show that a transaction fails whole when one
 * of its writes does. Returns the undo. One fault per table at a time.
 */
export async function failInserts(h: Harness, table: 'events' | 'outbox', column: string, value: string): Promise<() => Promise<void>> {
  const db = h.ctx.database.db;
  const name = `test_fail_${table}`;
  if (h.dialect === 'sqlite') {
    await sql.raw(`create trigger ${name} before insert on ${table} when new.${column} = '${value}' begin select raise(abort, 'injected failure'); end`).execute(db);
    return async () => void (await sql.raw(`drop trigger ${name}`).execute(db));
  }
  await sql.raw(`create function ${name}() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`).execute(db);
  await sql.raw(`create trigger ${name} before insert on ${table} for each row when (new.${column} = '${value}') execute function ${name}()`).execute(db);
  return async () => {
    await sql.raw(`drop trigger ${name} on ${table}`).execute(db);
    await sql.raw(`drop function ${name}()`).execute(db);
  };
}

/** Makes every insert of an event of this link fail, to show that nothing it records happens without it. */
export const failEventsOf = (h: Harness, linkId: string): Promise<() => Promise<void>> => failInserts(h, 'events', 'link_id', linkId);
