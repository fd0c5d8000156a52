import { sql, type QueryCreator, type Selectable } from 'kysely';
import { eventHash, type AuditEvent, type ChainStart, type EventInput, type EventType } from '../domain/event.js';
import { newId } from '../domain/ids.js';
import type { Database, Executor } from './database.js';
import { parseJson } from './json.js';
import { countingUpdate, countsOf, type CountKind } from './links.js';
import { preparedQuery, runsInProcess } from './prepared.js';
import type { DB, EventsTable } from './schema.js';

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
    viewer: r.viewer ?? null,
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
    viewer: input.viewer ?? null,
    metadata: input.metadata ?? {},
    createdAt: now,
    prevHash,
  };
}

/** Builds the next event of a chain from its sequence and last hash: a link's (`id`), or a workspace's own (`id` null). */
export function chainedEvent(
  link: { id: string | null; workspaceId: string },
  seq: number,
  prevHash: string | null,
  input: EventInput,
  now: number,
): AuditEvent {
  const base = eventRecord(link.workspaceId, link.id, seq, prevHash, input, now);
  return { ...base, hash: eventHash(base) };
}

export const eventColumns = ['id', 'workspace_id', 'link_id', 'seq', 'type', 'reason', 'actor', 'ip', 'user_agent', 'email', 'viewer', 'metadata', 'created_at', 'prev_hash', 'hash'] as const;
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
    viewer: e.viewer,
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

/** Chains `input` on the head an update of the link's row returned (its sequence number already taken); null when the update found no row. */
async function appendOnHead(
  tx: Executor,
  link: { id: string; workspaceId: string },
  head: { event_seq: number; last_event_hash: string | null } | undefined,
  input: EventInput,
  now: number,
): Promise<AuditEvent | null> {
  if (!head) return null;
  const event = chainedEvent(link, head.event_seq, head.last_event_hash, input, now);
  await appendToChain(tx, link.id, [event]);
  return event;
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
  const event = await appendLinkEventIfPresent(tx, link, input, now);
  if (!event) throw new Error(`link ${link.id} has no row to chain an event on`);
  return event;
}

/**
 * As appendLinkEvent, for a link whose row may be gone (deleted by retention
 * while a request about it was under way): null, and nothing written, then.
 */
export async function appendLinkEventIfPresent(
  tx: Executor,
  link: { id: string; workspaceId: string },
  input: EventInput,
  now: number,
): Promise<AuditEvent | null> {
  const head = await tx
    .updateTable('links')
    .set((eb) => ({ event_seq: eb('event_seq', '+', 1) }))
    .where('id', '=', link.id)
    .returning(['event_seq', 'last_event_hash'])
    .executeTakeFirst();
  return appendOnHead(tx, link, head, input, now);
}

/**
 * Appends an event to a link's chain only while the link still passes: not
 * revoked, enabled, not expired, its grants of `grantEpoch` still valid (the
 * conditions of the counting update, which counts nothing here). Null when it
 * no longer does, and nothing is written: a change made through a link then
 * cannot land after the link was revoked, disabled or rotated. Locks the link
 * row (in PostgreSQL) until the caller's transaction ends, as appendLinkEvent does.
 */
export async function appendLiveLinkEvent(
  tx: Executor,
  link: { id: string; workspaceId: string; grantEpoch: number },
  input: EventInput,
  now: number,
): Promise<AuditEvent | null> {
  const head = await countingUpdate(tx, { id: link.id, epoch: link.grantEpoch, now, events: 1 }, false, false)
    .returning(['event_seq', 'last_event_hash'])
    .executeTakeFirst();
  return appendOnHead(tx, link, head, input, now);
}

/**
 * A workspace-level event, one that belongs to no link (a member added, a
 * resource deleted, a link deleted by retention…), appended to its
 * workspace's hash chain (migration 0005) inside the caller's transaction.
 * The first statement takes the sequence number and so locks the workspace
 * row (in PostgreSQL) until commit, which serialises concurrent appends.
 */
export async function insertWorkspaceEvent(db: Executor, workspaceId: string, input: EventInput, now: number): Promise<AuditEvent> {
  const head = await db
    .updateTable('workspaces')
    .set((eb) => ({ event_seq: eb('event_seq', '+', 1) }))
    .where('id', '=', workspaceId)
    .returning(['event_seq', 'last_event_hash'])
    .executeTakeFirst();
  if (!head) throw new Error(`workspace ${workspaceId} has no row to chain an event on`);
  const event = chainedEvent({ id: null, workspaceId }, head.event_seq, head.last_event_hash, input, now);
  await insertEvent(db, event);
  await db.updateTable('workspaces').set({ last_event_hash: event.hash }).where('id', '=', workspaceId).execute();
  return event;
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

/** A link's chain head: where its last event must point, and where its remaining events start (see migration 0003). */
export type ChainHead = { linkId: string; workspaceId: string; lastEventHash: string | null; floorSeq: number; floorHash: string | null };

/**
 * Links in id order, one page at a time, for the operator's audit walk. This
 * read spans every workspace on purpose: `porthole audit verify` checks the
 * whole database and is never reachable through the API.
 */
export async function listChainHeads(
  db: Executor,
  q: { linkId?: string; afterId?: string; limit: number },
): Promise<ChainHead[]> {
  let query = db.selectFrom('links').select(['id', 'workspace_id', 'last_event_hash', 'chain_floor_seq', 'chain_floor_hash']);
  if (q.linkId !== undefined) query = query.where('id', '=', q.linkId);
  if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
  const rows = await query.orderBy('id').limit(q.limit).execute();
  return rows.map((r) => ({
    linkId: r.id,
    workspaceId: r.workspace_id,
    lastEventHash: r.last_event_hash,
    floorSeq: Number(r.chain_floor_seq),
    floorHash: r.chain_floor_hash,
  }));
}

/**
 * The links that events name but that have no row: deleted by retention
 * (their `deleted` event says where their chain ended) or removed by hand. A
 * page at a time, in link id order; or just `linkId`.
 */
export async function listOrphanLinkIds(db: Executor, q: { linkId?: string; afterId?: string; limit: number }): Promise<string[]> {
  let query = db
    .selectFrom('events')
    .leftJoin('links', 'links.id', 'events.link_id')
    .select('events.link_id')
    .distinct()
    .where('events.link_id', 'is not', null)
    .where('links.id', 'is', null);
  if (q.linkId !== undefined) query = query.where('events.link_id', '=', q.linkId);
  if (q.afterId !== undefined) query = query.where('events.link_id', '>', q.afterId);
  const rows = await query.orderBy('events.link_id').limit(q.limit).execute();
  return rows.map((r) => r.link_id as string);
}

/** A workspace's own chain head and floor (migration 0005), as `ChainHead` is a link's. */
export type WorkspaceChainHead = { workspaceId: string; lastEventHash: string | null; floorSeq: number; floorHash: string | null };

/** Workspaces in id order, a page at a time, for the operator's audit walk (across every workspace, as listChainHeads is). */
export async function listWorkspaceChainHeads(db: Executor, q: { afterId?: string; limit: number }): Promise<WorkspaceChainHead[]> {
  let query = db.selectFrom('workspaces').select(['id', 'last_event_hash', 'chain_floor_seq', 'chain_floor_hash']);
  if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
  const rows = await query.orderBy('id').limit(q.limit).execute();
  return rows.map((r) => ({ workspaceId: r.id, lastEventHash: r.last_event_hash, floorSeq: Number(r.chain_floor_seq), floorHash: r.chain_floor_hash }));
}

/** The workspace-level events (no link) of these workspaces, grouped as listChainEvents groups a link's. */
export async function listWorkspaceChainEvents(db: Executor, workspaceIds: string[]): Promise<Map<string, AuditEvent[]>> {
  if (workspaceIds.length === 0) return new Map();
  const rows = await db.selectFrom('events').selectAll().where('workspace_id', 'in', workspaceIds).where('link_id', 'is', null).execute();
  return inChainOrder(workspaceIds, rows, (r) => r.workspace_id);
}

/** A link with no row, and the workspaces its events name (one, unless they were forged). */
export type OrphanLink = { linkId: string; workspaceIds: string[] };

/**
 * Where a deleted link's chain ended, as its `deleted` event recorded it, and
 * where what remains of it starts: the highest floor recorded, by that event
 * (the link's floor when it was deleted) or by retention's later cuts
 * (`deleted` events naming `chain_floor_seq` only); `unknown` where the
 * link's `deleted` event predates recording it.
 */
export type DeletedLinkHead = { eventId: string; workspaceId: string; seq: number; hash: string | null; floor: ChainStart };

/**
 * The `deleted` events (workspace-level, written by retention) of the given
 * links, by link id: each records the link's chain head at its deletion. Read
 * through the workspaces' events index, then by the metadata's `link_id`.
 */
export async function findDeletedLinkHeads(
  database: Pick<Database, 'db' | 'jsonText'>,
  links: OrphanLink[],
): Promise<Map<string, DeletedLinkHead>> {
  const heads = new Map<string, DeletedLinkHead>();
  if (links.length === 0) return heads;
  const workspaceIds = [...new Set(links.flatMap((l) => l.workspaceIds))];
  const rows = await database.db
    .selectFrom('events')
    .select(['id', 'workspace_id', 'metadata'])
    .where('workspace_id', 'in', workspaceIds)
    .where('link_id', 'is', null)
    .where('type', '=', 'deleted')
    .where((eb) => eb(database.jsonText(eb.ref('metadata'), 'link_id'), 'in', links.map((l) => l.linkId)))
    .orderBy('id')
    .execute();
  const floors = new Map<string, { seq: number; hash: string | null }>();
  const raise = (linkId: string, seq: unknown, hash: unknown) => {
    if (typeof seq !== 'number') return;
    const seen = floors.get(linkId);
    if (!seen || seq > seen.seq) floors.set(linkId, { seq, hash: typeof hash === 'string' ? hash : null });
  };
  // Links whose deletion recorded their floor: their start is known, and the later cuts can only raise it.
  const startKnown = new Set<string>();
  for (const r of rows) {
    const m = parseJson<{ link_id?: unknown; event_seq?: unknown; last_event_hash?: unknown; chain_floor_seq?: unknown; chain_floor_hash?: unknown }>(r.metadata, {});
    if (typeof m.link_id !== 'string') continue;
    raise(m.link_id, m.chain_floor_seq, m.chain_floor_hash);
    if (typeof m.event_seq !== 'number') continue;
    heads.set(m.link_id, { eventId: r.id, workspaceId: r.workspace_id, seq: m.event_seq, hash: typeof m.last_event_hash === 'string' ? m.last_event_hash : null, floor: 'unknown' });
    if (typeof m.chain_floor_seq === 'number') startKnown.add(m.link_id);
    else startKnown.delete(m.link_id);
  }
  for (const [linkId, head] of heads) if (startKnown.has(linkId)) head.floor = floors.get(linkId) ?? { seq: 0, hash: null };
  return heads;
}

/**
 * Every event of the given links, grouped by link and in sequence order. An
 * event without a sequence number sorts first on both dialects (SQLite and
 * PostgreSQL disagree on where NULL goes), so the walk reports it at once.
 */
export async function listChainEvents(db: Executor, linkIds: string[]): Promise<Map<string, AuditEvent[]>> {
  if (linkIds.length === 0) return new Map();
  const rows = await db.selectFrom('events').selectAll().where('link_id', 'in', linkIds).execute();
  return inChainOrder(linkIds, rows, (r) => r.link_id as string);
}

/** Rows grouped by their chain's owner (every owner asked for has a group), each group by sequence then id, those without a sequence first. */
function inChainOrder(owners: string[], rows: Array<Selectable<EventsTable>>, ownerOf: (r: Selectable<EventsTable>) => string): Map<string, AuditEvent[]> {
  const groups = new Map<string, AuditEvent[]>(owners.map((id) => [id, []]));
  for (const row of rows) groups.get(ownerOf(row))?.push(toEvent(row));
  const order = (a: AuditEvent, b: AuditEvent) => (a.seq ?? Number.MIN_SAFE_INTEGER) - (b.seq ?? Number.MIN_SAFE_INTEGER) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  for (const events of groups.values()) events.sort(order);
  return groups;
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
  viewer: 'text',
  metadata: 'text',
  created_at: 'bigint',
  prev_hash: 'text',
  hash: 'text',
};

export type ExpectedHead = { seq: number; hash: string | null };

/** One link's view or download to count in a batch, on the chain head its lookup read. */
export type BatchedCount = { link: { id: string; grantEpoch: number }; expected: ExpectedHead; events: AuditEvent[]; now: number };

type BatchCountRow = { id: string; view_count: number; download_count: number };

const eventArray = (c: (typeof eventColumns)[number]) => `events_${c}`;

/**
 * Where statements run in-process (SQLite): one link's count on the chain head
 * the caller expects, in the counting update itself, which moves the head to
 * the last of `events` only if it is still `expected`; the events are then
 * inserted. Two statements instead of the three of countView and
 * appendToChain (1-3% more views a second in `npm run bench:pair`). Null, and
 * nothing written, when the link no longer passes or its head moved: the
 * caller then counts the usual way.
 */
export async function countOnHead(db: Executor, what: CountKind, entry: BatchedCount): Promise<{ viewCount: number; downloadCount: number } | null> {
  const { link, expected, events, now } = entry;
  const [r] = await countOnHeadQueries[what](db, { id: link.id, epoch: link.grantEpoch, now, events: events.length, seq: expected.seq, prev: expected.hash, head: events[events.length - 1].hash });
  if (!r) return null;
  for (const e of events) await insertEvent(db, e);
  return { viewCount: r.view_count, downloadCount: r.download_count };
}

type OnHeadParams = { id: string; epoch: number; now: number; events: number; seq: number; prev: string | null; head: string | null };
const countOnHeadQuery = (what: CountKind) => {
  const { view, download } = countsOf(what);
  return preparedQuery<OnHeadParams, Omit<BatchCountRow, 'id'>>(['id', 'epoch', 'now', 'events', 'seq', 'prev', 'head'], (db, p) =>
    countingUpdate(db, p, view, download)
      .set({ last_event_hash: p.head })
      .where('event_seq', '=', p.seq)
      // SQLite's IS compares NULL as a value: a chain with no event yet has a null head.
      .where(sql<boolean>`last_event_hash is ${p.prev}`)
      .returning(['view_count', 'download_count']),
  );
};
const countOnHeadQueries = {
  view: countOnHeadQuery('view'),
  download: countOnHeadQuery('download'),
  both: countOnHeadQuery('both'),
} satisfies Record<CountKind, unknown>;


/**
 * On PostgreSQL, where every statement is a round trip: many links' views (or
 * downloads), each with its chained events, counted in one statement. Each row
 * goes through the counting update (countingUpdate, the same conditions as
 * countView's), which also moves the link's chain head, only if it is still
 * the one the caller read; the events of the rows it counted are inserted from
 * its result. The rows are locked first, skipping any another session holds
 * (a management transaction, a concurrent batch): this statement never waits,
 * and the views of those links take the transaction path, which does. One form per
 * kind of count; the parameters are arrays, so the text is the same for every
 * batch size and stays one prepared statement.
 */
const countManyQuery = (what: CountKind) => {
  const { view, download } = countsOf(what);
  const names = ['ids', 'epochs', 'nows', 'seqs', 'prevs', 'heads', ...eventColumns.map(eventArray)];
  const unnest = (value: unknown, type: string) => sql`unnest(cast(${value} as ${sql.raw(type)}[]))`;
  return preparedQuery<Record<string, unknown>, BatchCountRow>(names, (db, p) =>
    db
      .with('input', (w) =>
        w.selectNoFrom([
          unnest(p.ids, 'text').as('in_id'),
          unnest(p.epochs, 'integer').as('in_epoch'),
          unnest(p.nows, 'bigint').as('in_now'),
          unnest(p.seqs, 'integer').as('in_seq'),
          unnest(p.prevs, 'text').as('in_prev'),
          unnest(p.heads, 'text').as('in_head'),
        ]),
      )
      .with('locked', (w) => w.selectFrom('links').select('id').where('id', '=', sql<string>`any(cast(${p.ids} as text[]))`).orderBy('id').forUpdate().skipLocked())
      .with('counted', (w) =>
        // The CTEs above are in scope; countingUpdate only needs the tables.
        countingUpdate(w as unknown as QueryCreator<DB>, { id: sql.ref<string>('in_id'), epoch: sql.ref<number>('in_epoch'), now: sql.ref<number>('in_now'), events: view && download ? 2 : 1 }, view, download)
          .from(sql`input`.as('input'))
          .set({ last_event_hash: sql.ref<string>('in_head') })
          .where('event_seq', '=', sql.ref<number>('in_seq'))
          .where('last_event_hash', 'is not distinct from', sql.ref<string | null>('in_prev'))
          .where(sql<boolean>`id in (select id from locked)`)
          .returning(['id', 'view_count', 'download_count']),
      )
      .with('appended', (w) =>
        w
          .insertInto('events')
          .columns([...eventColumns])
          .expression(
            w
              .selectFrom(w.selectNoFrom(eventColumns.map((c) => unnest(p[eventArray(c)], eventColumnTypes[c]).as(c))).as('batch'))
              .selectAll()
              .where(sql<boolean>`link_id in (select id from counted)`) as never,
          ),
      )
      .selectFrom('counted')
      .select(['id', 'view_count', 'download_count']),
  );
};
const countManyQueries = {
  view: countManyQuery('view'),
  download: countManyQuery('download'),
  both: countManyQuery('both'),
} satisfies Record<CountKind, unknown>;

/**
 * Counts each entry (links all different, all of one kind) and appends its
 * events in one round trip. The result has the counters of the links it
 * counted; for the others nothing was written: the link no longer passes or
 * its chain head moved, and the caller takes the transaction path.
 */
export async function countAndAppendMany(
  db: Executor,
  what: CountKind,
  entries: BatchedCount[],
): Promise<Map<string, { viewCount: number; downloadCount: number }>> {
  const params: Record<string, unknown[]> = { ids: [], epochs: [], nows: [], seqs: [], prevs: [], heads: [] };
  for (const c of eventColumns) params[eventArray(c)] = [];
  for (const { link, expected, events, now } of entries) {
    params.ids.push(link.id);
    params.epochs.push(link.grantEpoch);
    params.nows.push(now);
    params.seqs.push(expected.seq);
    params.prevs.push(expected.hash);
    params.heads.push(events[events.length - 1].hash);
    for (const e of events) {
      const row = eventRow(e);
      for (const c of eventColumns) params[eventArray(c)].push(row[c]);
    }
  }
  const rows = await countManyQueries[what](db, params);
  return new Map(rows.map((r) => [r.id, { viewCount: r.view_count, downloadCount: r.download_count }]));
}
