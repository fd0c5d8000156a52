import type { Selectable } from 'kysely';
import { eventHash, type AuditEvent, type EventInput, type EventType } from '../domain/event.js';
import { newId } from '../domain/ids.js';
import type { Executor } from './database.js';
import { parseJson } from './json.js';
import { preparedQuery } from './prepared.js';
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

const eventColumns = ['id', 'workspace_id', 'link_id', 'seq', 'type', 'reason', 'actor', 'ip', 'user_agent', 'email', 'metadata', 'created_at', 'prev_hash', 'hash'] as const;
type EventRow = { [K in (typeof eventColumns)[number]]: unknown };

const insertEventQuery = preparedQuery<EventRow, never>(eventColumns, (db, p) => db.insertInto('events').values(p as never));

export async function insertEvent(db: Executor, e: AuditEvent): Promise<void> {
  await insertEventQuery(db, {
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
  });
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
  await insertEvent(tx, event);
  await tx.updateTable('links').set({ last_event_hash: event.hash }).where('id', '=', link.id).execute();
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
