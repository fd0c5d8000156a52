import { canonicalJson } from './resource.js';
import { sha256 } from './tokens.js';

export const eventTypes = [
  'created',
  'updated',
  'enabled',
  'disabled',
  'rotated',
  'revoked',
  'viewed',
  'downloaded',
  'expired',
  'access_denied',
  'verified',
  'commented',
  'edited',
  'notified',
  'deleted',
] as const;
export type EventType = (typeof eventTypes)[number];

/** What happened, before it is numbered and chained. */
export type EventInput = {
  type: EventType;
  reason?: string | null;
  actor?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  email?: string | null;
  /** Who viewed or downloaded, as a daily pseudonym (`viewerId`): only on `viewed` and `downloaded`. */
  viewer?: string | null;
  metadata?: Record<string, unknown>;
};

export type AuditEvent = {
  id: string;
  workspaceId: string;
  linkId: string | null;
  seq: number | null;
  type: EventType;
  reason: string | null;
  actor: string | null;
  ip: string | null;
  userAgent: string | null;
  email: string | null;
  /** A daily pseudonym of the viewer (see `viewerId`), never an identifier in the clear; null before analytics and on other events. */
  viewer: string | null;
  metadata: Record<string, unknown>;
  createdAt: number;
  prevHash: string | null;
  hash: string | null;
};

/**
 * The event's content in canonical JSON (keys sorted, as `canonicalJson`
 * writes it), built directly: this runs on every audited view, and only the
 * metadata has keys that are not known in advance. A test holds it to
 * `canonicalJson`, so the hashes of stored chains never change. `viewer`
 * came later: it is part of the content only when set, so events written
 * before it (and events that have none) keep their hashes, and editing a
 * viewer breaks the chain like editing anything else.
 */
export function canonicalEventJson(e: Omit<AuditEvent, 'hash'>): string {
  const s = JSON.stringify;
  return (
    `{"actor":${s(e.actor)},"created_at":${s(e.createdAt)},"email":${s(e.email)},"id":${s(e.id)},"ip":${s(e.ip)},` +
    `"link_id":${s(e.linkId)},"metadata":${canonicalJson(e.metadata)},"reason":${s(e.reason)},"seq":${s(e.seq)},` +
    `"type":${s(e.type)},"user_agent":${s(e.userAgent)},${e.viewer == null ? '' : `"viewer":${s(e.viewer)},`}"workspace_id":${s(e.workspaceId)}}`
  );
}

/**
 * The hash of an event in its link's chain: SHA-256 over the predecessor's
 * hash and the event's canonical content, so editing, deleting or reordering
 * any event breaks every hash after it.
 */
export function eventHash(e: Omit<AuditEvent, 'hash'>): string {
  return sha256(`${e.prevHash ?? ''}\n${canonicalEventJson(e)}`);
}

/** A break in a link's chain (`linkId`), or in a workspace's own chain of workspace-level events (`linkId` null, `workspaceId`). */
export type ChainBreak = { linkId: string | null; workspaceId?: string; seq: number | null; eventId: string; problem: string };

/** Whose chain is walked: a link's (its id) or a workspace's own. */
export type ChainOwner = string | { workspaceId: string };

/**
 * Where a chain's remaining events start: after the event of sequence `seq`
 * whose hash is `hash` (0 and null for a whole chain; event retention moves
 * it, see migration 0003), or `unknown` where nothing records it (a deleted
 * link's chain, whose row kept the floor).
 */
export type ChainStart = { seq: number; hash: string | null } | 'unknown';

/** Where a chain must end: the link's chain head (and, for a deleted link, the head's sequence number too). */
export type ChainEnd = { hash: string | null; seq?: number };

/**
 * Walks one link's events in sequence order and reports every break. The
 * first event must follow `start` (sequence and hash), each next one its
 * predecessor, and the last must be the chain head `end`.
 */
export function verifyChain(owner: ChainOwner, events: AuditEvent[], end: string | null | ChainEnd, start: ChainStart = { seq: 0, hash: null }): ChainBreak[] {
  const head: ChainEnd = typeof end === 'object' && end !== null ? end : { hash: end };
  const breaks: ChainBreak[] = [];
  const where = typeof owner === 'string' ? { linkId: owner } : { linkId: null, workspaceId: owner.workspaceId };
  let prev: string | null = start === 'unknown' ? (events[0]?.prevHash ?? null) : start.hash;
  let expectedSeq = start === 'unknown' ? (events[0]?.seq ?? 1) : start.seq + 1;
  let lastSeq: number | null = start === 'unknown' ? null : start.seq;
  for (const e of events) {
    if (e.seq !== expectedSeq) {
      breaks.push({ ...where, seq: e.seq, eventId: e.id, problem: `expected sequence ${expectedSeq}, found ${e.seq}` });
    }
    if (e.prevHash !== prev) breaks.push({ ...where, seq: e.seq, eventId: e.id, problem: 'previous hash does not match' });
    if (eventHash(e) !== e.hash) breaks.push({ ...where, seq: e.seq, eventId: e.id, problem: 'content does not match its hash' });
    prev = e.hash;
    lastSeq = e.seq;
    expectedSeq = (e.seq ?? expectedSeq) + 1;
  }
  // A deleted link's chain whose every event is gone (event retention) has nothing left to hold to its head.
  if (start === 'unknown' && events.length === 0) return breaks;
  if (prev !== head.hash || (head.seq !== undefined && lastSeq !== head.seq)) {
    breaks.push({ ...where, seq: null, eventId: '', problem: `the ${typeof owner === 'string' ? 'link' : 'workspace'} does not end its chain on the last event` });
  }
  return breaks;
}
