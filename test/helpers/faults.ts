import { sql } from 'kysely';
import type { Harness } from './harness.js';

/**
 * Makes every insert of an event of this link fail (a trigger raising an
 * error), to show that nothing an event records happens without it. Returns
 * the undo.
 */
export async function failEventsOf(h: Harness, linkId: string): Promise<() => Promise<void>> {
  const db = h.ctx.database.db;
  if (h.dialect === 'sqlite') {
    await sql.raw(`create trigger test_fail_events before insert on events when new.link_id = '${linkId}' begin select raise(abort, 'injected failure'); end`).execute(db);
    return async () => void (await sql.raw('drop trigger test_fail_events').execute(db));
  }
  await sql.raw(`create function test_fail_events() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`).execute(db);
  await sql.raw(`create trigger test_fail_events before insert on events for each row when (new.link_id = '${linkId}') execute function test_fail_events()`).execute(db);
  return async () => {
    await sql.raw('drop trigger test_fail_events on events').execute(db);
    await sql.raw('drop function test_fail_events()').execute(db);
  };
}
