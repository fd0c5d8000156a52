import { sql, type Selectable } from 'kysely';
import { eventHash, type AuditEvent, type EventInput, type EventType } from '../domain/event.js';
import { newId } from '../domain/ids.js';
import type { Executor } from './database.js';
import { parseJson } from './json.js';
import { countingUpdate } from './links.js';
import { preparedQuery, runsInProcess } from './prepared.js';
import type { EventsTable } from './schema.js';

export function toEvent(r: Selectable<EventsTable>): AuditEvent {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    linkId: r.link_id,
    seq: r.seq,
    type: r.type as EventType,
    reason: r.reason,
    actor: r.actor,
    ip: r.ip,
    userAgent: r.user_agent,
    email: r.email,
    metadata: parseJson<Record<string, unknown>>(r.metadata, {}),
    createdAt: r.created_at,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** An event as stored, before chaining: the input with its id, place and time. */
function eventRecord(
  workspaceId: string,
  linkId: string | null,
  seq: number | null,
  prevHash: string | null,
  input: EventInput,
  now: number,
): Omit<AuditEvent, 'hash'> {
  return {
    id: newId('evt', now),
    workspaceId,
    linkId,
    seq,
    type: input.type,
    reason: input.reason ?? null,
    actor: input.actor ?? null,
    ip: input.ip ?? null,
    userAgent: input.userAgent ?? null,
    email: input.email ?? null,
    metadata: input.metadata ?? {},
    createdAt: now,
    prevHash,
  };
}

/** Builds the next event of a link's chain from the link's sequence and last hash. */
export function chainedEvent(
  link: { id: string; workspaceId: string },
  seq: number,
  prevHash: string | null,
  input: EventInput,
  now: number,
): AuditEvent {
  const base = eventRecord(link.workspaceId, link.id, seq, prevHash, input, now);
  return { ...base, hash: eventHash(base) };
}

export const eventColumns = ['id', 'workspace_id', 'link_id', 'seq', 'type', 'reason', 'actor', 'ip', 'user_agent', 'email', 'metadata', 'created_at', 'prev_hash', 'hash'] as const;
type EventRow = { [K in (typeof eventColumns)[number]]: unknown };

const insertEventQuery = preparedQuery<EventRow, never>(eventColumns, (db, p) => db.insertInto('events').values(p as never));

function eventRow(e: AuditEvent): EventRow {
  return {
    id: e.id,
    workspace_id: e.workspaceId,
    link_id: e.linkId,
    seq: e.seq,
    type: e.type,
    reason: e.reason,
    actor: e.actor,
    ip: e.ip,
    user_agent: e.userAgent,
    email: e.email,
    metadata: JSON.stringify(e.metadata),
    created_at: e.createdAt,
    prev_hash: e.prevHash,
    hash: e.hash,
  };
}

export async function insertEvent(db: Executor, e: AuditEvent): Promise<void> {
  await insertEventQuery(db, eventRow(e));
}

const setChainHeadQuery = preparedQuery<{ id: string; hash: string }, never>(['id', 'hash'], (db, p) =>
  db.updateTable('links').set({ last_event_hash: p.hash }).where('id', '=', p.id),
);

/**
 * One statement for one or two events and the new chain head, where every
 * statement is a round trip (PostgreSQL): the events are inserted in a CTE of
 * the update that moves the head.
 */
const chainTailQueries = [1, 2].map((n) => {
  const slot = (i: number, column: string) => `e${i}_${column}`;
  const names = [...Array.from({ length: n }, (_, i) => eventColumns.map((c) => slot(i, c))).flat(), 'head_id', 'head_hash'];
  return preparedQuery<Record<string, unknown>, never>(names, (db, p) =>
    db
      .with('appended', (w) =>
        w
          .insertInto('events')
          .values(Array.from({ length: n }, (_, i) => Object.fromEntries(eventColumns.map((c) => [c, p[slot(i, c)]]))) as never)
          .returning('id'),
      )
      .updateTable('links')
      .set({ last_event_hash: p.head_hash as string })
      .where('id', '=', p.head_id as string),
  );
});

/**
 * Stores a link's next events (already chained, in order) and makes the last
 * one the link's chain head, inside the caller's transaction. SQLite runs the
 * statements in-process and takes them one by one; PostgreSQL gets them in
 * one round trip.
 */
export async function appendToChain(db: Executor, linkId: string, events: AuditEvent[]): Promise<void> {
  const head = events[events.length - 1].hash as string;
  if (runsInProcess(db) || events.length > chainTailQueries.length) {
    for (const e of events) await insertEvent(db, e);
    await setChainHeadQuery(db, { id: linkId, hash: head });
    return;
  }
  const params: Record<string, unknown> = { head_id: linkId, head_hash: head };
  events.forEach((e, i) => {
    for (const [column, value] of Object.entries(eventRow(e))) params[`e${i}_${column}`] = value;
  });
  await chainTailQueries[events.length - 1](db, params);
}

/**
 * Appends an event to a link's chain inside the caller's transaction. The
 * first statement increments the sequence and so locks the link row (in
 * PostgreSQL) until commit, which serialises concurrent appends.
 */
export async function appendLinkEvent(
  tx: Executor,
  link: { id: string; workspaceId: string },
  input: EventInput,
  now: number,
): Promise<AuditEvent> {
  const head = await tx
    .updateTable('links')
    .set((eb) => ({ event_seq: eb('event_seq', '+', 1) }))
    .where('id', '=', link.id)
    .returning(['event_seq', 'last_event_hash'])
    .executeTakeFirstOrThrow();
  const event = chainedEvent(link, head.event_seq, head.last_event_hash, input, now);
  await appendToChain(tx, link.id, [event]);
  return event;
}

/** A workspace-level event that belongs to no link (e.g. a resource deleted); outside any chain. */
export async function insertWorkspaceEvent(db: Executor, workspaceId: string, input: EventInput, now: number): Promise<void> {
  await insertEvent(db, { ...eventRecord(workspaceId, null, null, null, input, now), hash: null });
}

export type EventQuery = {
  linkId?: string;
  types?: EventType[];
  since?: number;
  until?: number;
  after?: { createdAt: number; id: string };
  limit: number;
};

/** Events of a workspace (or one of its links), newest first. */
export async function listEvents(db: Executor, workspaceId: string, q: EventQuery): Promise<AuditEvent[]> {
  let query = db.selectFrom('events').selectAll().where('workspace_id', '=', workspaceId);
  if (q.linkId) query = query.where('link_id', '=', q.linkId);
  if (q.types?.length) query = query.where('type', 'in', q.types);
  if (q.since !== undefined) query = query.where('created_at', '>=', q.since);
  if (q.until !== undefined) query = query.where('created_at', '<', q.until);
  if (q.after) {
    const { createdAt, id } = q.after;
    query = query.where((eb) =>
      eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]),
    );
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
  return rows.map(toEvent);
}

/** A link's chain head: where its last event must point. */
export type ChainHead = { linkId: string; workspaceId: string; lastEventHash: string | null };

/**
 * Links in id order, one page at a time, for the operator's audit walk. This
 * read spans every workspace on purpose: `porthole audit verify` checks the
 * whole database and is never reachable through the API.
 */
export async function listChainHeads(
  db: Executor,
  q: { linkId?: string; afterId?: string; limit: number },
): Promise<ChainHead[]> {
  let query = db.selectFrom('links').select(['id', 'workspace_id', 'last_event_hash']);
  if (q.linkId !== undefined) query = query.where('id', '=', q.linkId);
  if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
  const rows = await query.orderBy('id').limit(q.limit).execute();
  return rows.map((r) => ({ linkId: r.id, workspaceId: r.workspace_id, lastEventHash: r.last_event_hash }));
}

/**
 * Events that name a link with no row: Porthole never deletes a link, so each
 * was forged or lost its link to a hand edit. A page at a time, by event id.
 */
export async function listOrphanEvents(db: Executor, q: { afterId?: string; limit: number }): Promise<AuditEvent[]> {
  let query = db
    .selectFrom('events')
    .leftJoin('links', 'links.id', 'events.link_id')
    .selectAll('events')
    .where('events.link_id', 'is not', null)
    .where('links.id', 'is', null);
  if (q.afterId !== undefined) query = query.where('events.id', '>', q.afterId);
  const rows = await query.orderBy('events.id').limit(q.limit).execute();
  return rows.map(toEvent);
}

/**
 * Every event of the given links, grouped by link and in sequence order. An
 * event without a sequence number sorts first on both dialects (SQLite and
 * PostgreSQL disagree on where NULL goes), so the walk reports it at once.
 */
export async function listChainEvents(db: Executor, linkIds: string[]): Promise<Map<string, AuditEvent[]>> {
  const byLink = new Map<string, AuditEvent[]>(linkIds.map((id) => [id, []]));
  if (linkIds.length === 0) return byLink;
  const rows = await db.selectFrom('events').selectAll().where('link_id', 'in', linkIds).orderBy('link_id').orderBy('seq').orderBy('id').execute();
  for (const row of rows) byLink.get(row.link_id as string)?.push(toEvent(row));
  for (const events of byLink.values()) events.sort((a, b) => (a.seq ?? Number.MIN_SAFE_INTEGER) - (b.seq ?? Number.MIN_SAFE_INTEGER));
  return byLink;
}

/** The column types, for event values selected (not inserted as VALUES), which PostgreSQL cannot infer. */
const eventColumnTypes: Record<(typeof eventColumns)[number], 'text' | 'integer' | 'bigint'> = {
  id: 'text',
  workspace_id: 'text',
  link_id: 'text',
  seq: 'integer',
  type: 'text',
  reason: 'text',
  actor: 'text',
  ip: 'text',
  user_agent: 'text',
  email: 'text',
  metadata: 'text',
  created_at: 'bigint',
  prev_hash: 'text',
  hash: 'text',
};

export type ExpectedHead = { seq: number; hash: string | null };
type CountedRow = { view_count: number; download_count: number };

/**
 * On PostgreSQL, the count of a view or download and its chained events in
 * one statement, built on the chain head the caller read with the link: the
 * counting update (countingUpdate, the same as countView's) also moves the
 * head, only if it is still the one expected, and the events are inserted
 * from its result, so nothing is written when it does not match.
 */
const countAndAppendQueries = new Map(
  (['view', 'download', 'both'] as const).map((what) => {
    const view = what !== 'download';
    const download = what !== 'view';
    const n = view && download ? 2 : 1;
    const slot = (i: number, column: string) => `e${i}_${column}`;
    const names = ['id', 'epoch', 'now', 'seq', 'prev', 'head', ...Array.from({ length: n }, (_, i) => eventColumns.map((c) => slot(i, c))).flat()];
    const query = preparedQuery<Record<string, unknown>, CountedRow>(names, (db, p) =>
      db
        .with('counted', (w) =>
          countingUpdate(w, { id: p.id as string, epoch: p.epoch as number, now: p.now as number, events: n }, view, download)
            .set({ last_event_hash: p.head as string })
            .where('event_seq', '=', p.seq as number)
            .where('last_event_hash', 'is not distinct from', p.prev as string | null)
            .returning(['view_count', 'download_count']),
        )
        .with('appended', (w) => {
          const row = (i: number) =>
            w.selectFrom('counted').select(eventColumns.map((c) => sql`cast(${p[slot(i, c)]} as ${sql.raw(eventColumnTypes[c])})`.as(c)));
          return w
            .insertInto('events')
            .columns([...eventColumns])
            .expression(n === 1 ? row(0) : row(0).unionAll(row(1)));
        })
        .selectFrom('counted')
        .select(['view_count', 'download_count']),
    );
    return [what, query] as const;
  }),
);

/**
 * Counts and appends `events` (chained onto `expected`) in one round trip.
 * Null when the link no longer passes or its chain head moved: nothing was
 * written, and the caller takes the two-statement path.
 */
export async function countAndAppend(
  db: Executor,
  link: { id: string; grantEpoch: number },
  opts: { view: boolean; download: boolean },
  expected: ExpectedHead,
  events: AuditEvent[],
  now: number,
): Promise<{ viewCount: number; downloadCount: number } | null> {
  const what = opts.view && opts.download ? 'both' : opts.view ? 'view' : 'download';
  const params: Record<string, unknown> = { id: link.id, epoch: link.grantEpoch, now, seq: expected.seq, prev: expected.hash, head: events[events.length - 1].hash };
  events.forEach((e, i) => {
    for (const [column, value] of Object.entries(eventRow(e))) params[`e${i}_${column}`] = value;
  });
  const [r] = await (countAndAppendQueries.get(what) as NonNullable<ReturnType<typeof countAndAppendQueries.get>>)(db, params);
  return r ? { viewCount: r.view_count, downloadCount: r.download_count } : null;
}
