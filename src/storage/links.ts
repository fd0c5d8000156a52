import { isExpression, sql, type Expression, type ExpressionBuilder, type QueryCreator, type Selectable } from 'kysely';
import type { AccessRole, Link, LinkFilter, LinkSettings, LinkStatus } from '../domain/link.js';
import type { Executor } from './database.js';
import { parseJson } from './json.js';
import { preparedQuery, runsInProcess } from './prepared.js';
import { createTurnBatch, type TurnBatch } from './turn-batch.js';
import type { DB, LinksTable } from './schema.js';

/**
 * A link's row as the rest of the code reads and writes it. The chain floor
 * (migration 0003) is left out: only retention and the audit walk use it
 * (storage/retention.ts, listChainHeads), and the public lookup, which names
 * its columns, must not grow for it.
 */
export type LinkRow = Omit<Selectable<LinksTable>, 'chain_floor_seq' | 'chain_floor_hash'>;

/** Row → domain. */
export function toLink(r: LinkRow): Link {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    resourceType: r.resource_type,
    resourceId: r.resource_id,
    filter: parseJson<LinkFilter | null>(r.filter, null),
    pinnedVersion: r.pinned_version,
    accessRole: r.access_role as AccessRole,
    passwordHash: r.password_hash,
    requiresAuth: r.requires_auth === 1,
    recipientEmail: r.recipient_email,
    recipientContactId: r.recipient_contact_id,
    allowedEmails: parseJson<string[]>(r.allowed_emails, []),
    allowedDomains: parseJson<string[]>(r.allowed_domains, []),
    expiresAt: r.expires_at,
    maxViews: r.max_views,
    viewCount: r.view_count,
    downloadCount: r.download_count,
    firstViewedAt: r.first_viewed_at,
    lastViewedAt: r.last_viewed_at,
    enabled: r.enabled === 1,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by,
    settings: parseJson<LinkSettings>(r.settings, {} as LinkSettings),
    label: r.label,
    metadata: parseJson<Record<string, unknown>>(r.metadata, {}),
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    grantEpoch: r.grant_epoch,
    eventSeq: r.event_seq,
    lastEventHash: r.last_event_hash,
    tokenSealed: r.token_sealed,
    shortCodeSealed: r.short_code_sealed,
  };
}

/** Domain fields a create or update may write, as columns. */
export function linkColumns(l: Partial<Link>): Partial<LinkRow> {
  const out: Partial<LinkRow> = {};
  if (l.resourceType !== undefined) out.resource_type = l.resourceType;
  if (l.resourceId !== undefined) out.resource_id = l.resourceId;
  if (l.filter !== undefined) out.filter = l.filter === null ? null : JSON.stringify(l.filter);
  if (l.pinnedVersion !== undefined) out.pinned_version = l.pinnedVersion;
  if (l.accessRole !== undefined) out.access_role = l.accessRole;
  if (l.passwordHash !== undefined) out.password_hash = l.passwordHash;
  if (l.requiresAuth !== undefined) out.requires_auth = l.requiresAuth ? 1 : 0;
  if (l.recipientEmail !== undefined) out.recipient_email = l.recipientEmail;
  if (l.recipientContactId !== undefined) out.recipient_contact_id = l.recipientContactId;
  if (l.allowedEmails !== undefined) out.allowed_emails = JSON.stringify(l.allowedEmails);
  if (l.allowedDomains !== undefined) out.allowed_domains = JSON.stringify(l.allowedDomains);
  if (l.expiresAt !== undefined) out.expires_at = l.expiresAt;
  if (l.maxViews !== undefined) out.max_views = l.maxViews;
  if (l.enabled !== undefined) out.enabled = l.enabled ? 1 : 0;
  if (l.settings !== undefined) out.settings = JSON.stringify(l.settings);
  if (l.label !== undefined) out.label = l.label;
  if (l.metadata !== undefined) out.metadata = JSON.stringify(l.metadata);
  return out;
}

export async function insertLink(db: Executor, row: LinkRow): Promise<void> {
  await db.insertInto('links').values(row).execute();
}

export async function findLinkById(db: Executor, workspaceId: string, id: string): Promise<Link | null> {
  const r = await db
    .selectFrom('links')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return r ? toLink(r) : null;
}

/** The public lookup: by token hash or short-code hash, across workspaces. */
export async function findLinkBySecretHash(db: Executor, kind: 'token' | 'code', hash: string): Promise<Link | null> {
  const r = await db
    .selectFrom('links')
    .selectAll()
    .where(kind === 'token' ? 'token_hash' : 'short_code_hash', '=', hash)
    .executeTakeFirst();
  return r ? toLink(r) : null;
}

export async function updateLinkColumns(
  db: Executor,
  workspaceId: string,
  id: string,
  cols: Partial<LinkRow>,
): Promise<void> {
  await db.updateTable('links').set(cols).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
}

/**
 * Changes a link that is not revoked, in one conditional statement, optionally
 * voiding its grants (`grant_epoch + 1`, counted in SQL rather than from an
 * earlier read). False when the link is revoked: the condition is checked again
 * after any concurrent writer commits, so a change racing a revoke can never land
 * after it. In PostgreSQL the row stays locked until the caller's transaction ends.
 */
export async function updateLiveLink(
  db: Executor,
  workspaceId: string,
  id: string,
  cols: Partial<LinkRow>,
  opts: { voidGrants: boolean },
): Promise<boolean> {
  const r = await db
    .updateTable('links')
    .set((eb) => ({ ...cols, ...(opts.voidGrants ? { grant_epoch: eb('grant_epoch', '+', 1) } : {}) }))
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Voids every outstanding grant of a link. */
export async function bumpGrantEpoch(db: Executor, id: string): Promise<void> {
  await db
    .updateTable('links')
    .set((eb) => ({ grant_epoch: eb('grant_epoch', '+', 1) }))
    .where('id', '=', id)
    .execute();
}

/** SQL condition for a status at `now`, mirroring `linkStatus`. */
export function statusCondition(status: LinkStatus, now: number) {
  return (eb: ExpressionBuilder<DB, 'links'>) => {
    const notRevoked = eb('revoked_at', 'is', null);
    const notExpired = eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]);
    switch (status) {
      case 'revoked':
        return eb('revoked_at', 'is not', null);
      case 'disabled':
        return eb.and([notRevoked, eb('enabled', '=', 0)]);
      case 'expired':
        return eb.and([notRevoked, eb('enabled', '=', 1), eb('expires_at', '<=', now)]);
      case 'exhausted':
        return eb.and([
          notRevoked,
          eb('enabled', '=', 1),
          notExpired,
          eb('max_views', 'is not', null),
          eb('view_count', '>=', eb.ref('max_views')),
        ]);
      case 'active':
        return eb.and([
          notRevoked,
          eb('enabled', '=', 1),
          notExpired,
          eb.or([eb('max_views', 'is', null), eb('view_count', '<', eb.ref('max_views'))]),
        ]);
    }
  };
}

export type LinkListQuery = {
  resourceType?: string;
  /** `null` narrows to collection links. */
  resourceId?: string | null;
  status?: LinkStatus;
  createdBy?: string;
  includeRevoked: boolean;
  after?: { createdAt: number; id: string };
  limit: number;
};

/** Newest first, stable under ties by id. */
export async function listLinks(db: Executor, workspaceId: string, q: LinkListQuery, now: number): Promise<Link[]> {
  let query = db.selectFrom('links').selectAll().where('workspace_id', '=', workspaceId);
  if (q.resourceType !== undefined) query = query.where('resource_type', '=', q.resourceType);
  if (q.resourceId !== undefined) {
    query = q.resourceId === null ? query.where('resource_id', 'is', null) : query.where('resource_id', '=', q.resourceId);
  }
  if (q.createdBy !== undefined) query = query.where('created_by', '=', q.createdBy);
  if (q.status) query = query.where(statusCondition(q.status, now));
  else if (!q.includeRevoked) query = query.where('revoked_at', 'is', null);
  if (q.after) {
    const { createdAt, id } = q.after;
    query = query.where((eb) =>
      eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]),
    );
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
  return rows.map(toLink);
}

/** The caller's newest active link for the same target, for `reuse_active`. */
export async function findReusableLink(
  db: Executor,
  workspaceId: string,
  target: { resourceType: string; resourceId: string | null; createdBy: string },
  now: number,
): Promise<Link[]> {
  let query = db
    .selectFrom('links')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('resource_type', '=', target.resourceType)
    .where('created_by', '=', target.createdBy)
    .where(statusCondition('active', now));
  query =
    target.resourceId === null ? query.where('resource_id', 'is', null) : query.where('resource_id', '=', target.resourceId);
  const rows = await query.orderBy('created_at', 'desc').limit(50).execute();
  return rows.map(toLink);
}

/** The sealed token and code of the newest link of any workspace (null with no links): to check the secret opens them. */
export async function newestSealedLink(db: Executor): Promise<{ tokenSealed: string; shortCodeSealed: string } | null> {
  const row = await db.selectFrom('links').select(['token_sealed', 'short_code_sealed']).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
  return row ? { tokenSealed: row.token_sealed, shortCodeSealed: row.short_code_sealed } : null;
}

/** Whether the workspace holds any link (revoked ones included) to resources of a type. */
export async function hasLinksOfType(db: Executor, workspaceId: string, type: string): Promise<boolean> {
  const r = await db
    .selectFrom('links')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('resource_type', '=', type)
    .limit(1)
    .executeTakeFirst();
  return r !== undefined;
}

/** Revokes every live link of a resource (when the resource is deleted); returns their ids. */
export async function linkIdsForResource(
  db: Executor,
  workspaceId: string,
  type: string,
  resourceId: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom('links')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('resource_type', '=', type)
    .where('resource_id', '=', resourceId)
    .where('revoked_at', 'is', null)
    .execute();
  return rows.map((r) => r.id);
}


/**
 * The link's columns by name, for the public lookup. PostgreSQL keeps that
 * lookup as a prepared statement per connection (see `dialects/postgres.ts`),
 * and a prepared `links.*` fails ("cached plan must not change result type")
 * once a migration run by another instance adds a column: named, the columns
 * stay what this code knows. The type below fails to compile if one is missing.
 */
const linkRowColumns = [
  'id', 'workspace_id', 'token_hash', 'short_code_hash', 'token_sealed', 'short_code_sealed', 'resource_type', 'resource_id',
  'filter', 'pinned_version', 'access_role', 'password_hash', 'requires_auth', 'recipient_email', 'recipient_contact_id',
  'allowed_emails', 'allowed_domains', 'expires_at', 'max_views', 'view_count', 'download_count', 'first_viewed_at',
  'last_viewed_at', 'enabled', 'revoked_at', 'revoked_by', 'settings', 'label', 'metadata', 'created_by', 'created_at',
  'updated_at', 'grant_epoch', 'event_seq', 'last_event_hash',
] as const satisfies ReadonlyArray<keyof LinkRow>;
const everyLinkColumn: Exclude<keyof LinkRow, (typeof linkRowColumns)[number]> extends never ? true : never = true;
void everyLinkColumn;

type PublicLinkRow = LinkRow & { workspace_policy: string; latest_version: number | null; resource_created_at: number | null; type_updated_at: number | null };

type LookupColumn = 'links.token_hash' | 'links.short_code_hash';

/** The public lookup's joins and columns, for one secret or for many. */
const publicLinkSelect = (db: Executor) =>
  db
    .selectFrom('links')
    .innerJoin('workspaces', 'workspaces.id', 'links.workspace_id')
    .leftJoin('resources', (j) =>
      j
        .onRef('resources.workspace_id', '=', 'links.workspace_id')
        .onRef('resources.type', '=', 'links.resource_type')
        .onRef('resources.id', '=', 'links.resource_id'),
    )
    .leftJoin('resource_types', (j) =>
      j.onRef('resource_types.workspace_id', '=', 'links.workspace_id').onRef('resource_types.type', '=', 'links.resource_type'),
    )
    .select(linkRowColumns.map((c) => `links.${c}` as const))
    .select(['workspaces.policy as workspace_policy', 'resources.latest_version', 'resources.created_at as resource_created_at', 'resource_types.updated_at as type_updated_at']);

const publicLinkBy = (column: LookupColumn) =>
  preparedQuery<{ hash: string }, PublicLinkRow>(['hash'], (db, p) => publicLinkSelect(db).where(column, '=', p.hash));
const publicLinksBy = (column: LookupColumn) =>
  preparedQuery<{ hashes: string[] }, PublicLinkRow>(['hashes'], (db, p) => publicLinkSelect(db).where(column, '=', sql<string>`any(cast(${p.hashes} as text[]))`));
const lookups = {
  token: { one: publicLinkBy('links.token_hash'), many: publicLinksBy('links.token_hash'), key: (r: PublicLinkRow) => r.token_hash },
  code: { one: publicLinkBy('links.short_code_hash'), many: publicLinksBy('links.short_code_hash'), key: (r: PublicLinkRow) => r.short_code_hash },
};

/**
 * Where every statement is a round trip (PostgreSQL), the public lookups that
 * arrive in one turn of the event loop go to the database as one statement,
 * per kind of secret. Per database (its root instance, never a transaction).
 */
const lookupBatches = new WeakMap<object, Record<'token' | 'code', TurnBatch<string, PublicLinkRow>>>();
function batchedLookup(db: Executor, kind: 'token' | 'code'): TurnBatch<string, PublicLinkRow> {
  let batches = lookupBatches.get(db);
  if (!batches) {
    const over = (k: 'token' | 'code') =>
      createTurnBatch<string, PublicLinkRow>(async (hashes) => new Map((await lookups[k].many(db, { hashes })).map((r) => [lookups[k].key(r), r])));
    batches = { token: over('token'), code: over('code') };
    lookupBatches.set(db, batches);
  }
  return batches[kind];
}

/** A link found by its secret, with what the public path needs to know about its surroundings. */
export type PublicLinkLookup = {
  link: Link;
  workspacePolicy: string;
  /** The target resource's latest version (null for collections or a deleted resource). */
  latestVersion: number | null;
  /** When the target resource was created: a resource deleted and made again is a different one. */
  resourceStamp: number | null;
  /** When the target's type was last declared (null: undeclared). Keys the content caches. */
  typeStamp: number | null;
};

/**
 * The public lookup: a link by token or short-code hash, with its workspace's
 * policy, its resource's latest version and its type's stamp, in one query.
 * Across workspaces by design: the secret is the scope.
 */
export async function findPublicLink(db: Executor, kind: 'token' | 'code', hash: string): Promise<PublicLinkLookup | null> {
  const r = runsInProcess(db) || db.isTransaction ? (await lookups[kind].one(db, { hash }))[0] : await batchedLookup(db, kind).get(hash);
  if (!r) return null;
  const { workspace_policy, latest_version, resource_created_at, type_updated_at, ...row } = r;
  return {
    link: toLink(row),
    workspacePolicy: workspace_policy,
    latestVersion: latest_version,
    resourceStamp: resource_created_at,
    typeStamp: type_updated_at,
  };
}

export type CountedView = { viewCount: number; downloadCount: number; eventSeq: number; lastEventHash: string | null };

export type CountParams = { id: string; epoch: number; now: number; events: number };

/** A value, or (in the batch form, one row per link) the expression that gives each row's. */
type PerRow<T> = T | Expression<T>;
export type CountSource = { id: PerRow<string>; epoch: PerRow<number>; now: PerRow<number>; events: number };
type CountRow = { view_count: number; download_count: number; event_seq: number; last_event_hash: string | null };

/**
 * The conditional counting update: counts only while the link passes (not
 * revoked, enabled, grants not voided, not expired, under its view limit) and
 * takes the next event sequence numbers. The one place these conditions are
 * written in SQL: countView runs it, and PostgreSQL's one-statement count
 * (countAndAppendMany in events.ts) builds on it.
 */
export function countingUpdate(qc: QueryCreator<DB>, p: CountSource, view: boolean, download: boolean) {
  return qc
    .updateTable('links')
    .set((eb) => ({
      ...(view
        ? {
            view_count: eb('view_count', '+', 1),
            first_viewed_at: eb.fn.coalesce('first_viewed_at', isExpression(p.now) ? p.now : eb.val(p.now)),
            last_viewed_at: p.now,
          }
        : {}),
      ...(download ? { download_count: eb('download_count', '+', 1) } : {}),
      event_seq: eb('event_seq', '+', p.events),
    }))
    .where('id', '=', p.id)
    .where('revoked_at', 'is', null)
    .where('enabled', '=', 1)
    .where('grant_epoch', '=', p.epoch)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', p.now)]))
    .$if(view, (q) => q.where((eb) => eb.or([eb('max_views', 'is', null), eb('view_count', '<', eb.ref('max_views'))])));
}

/** What one request counts: a view, a download, or both (an export that opens the link). */
export type CountKind = 'view' | 'download' | 'both';
export const countKind = (what: { view: boolean; download: boolean }): CountKind => (what.view && what.download ? 'both' : what.view ? 'view' : 'download');
export const countsOf = (kind: CountKind) => ({ view: kind !== 'download', download: kind !== 'view' });

/** One prepared form per combination of what is counted. */
const countQuery = (view: boolean, download: boolean) =>
  preparedQuery<CountParams, CountRow>(['id', 'epoch', 'now', 'events'], (db, p) =>
    countingUpdate(db, p, view, download).returning(['view_count', 'download_count', 'event_seq', 'last_event_hash']),
  );
const countQueries = {
  view: countQuery(true, false),
  download: countQuery(false, true),
  both: countQuery(true, true),
} satisfies Record<CountKind, unknown>;

/**
 * The hot path's one conditional statement: validates (not revoked, enabled,
 * not expired, under the view limit, grants not voided) and counts in the
 * same UPDATE; it also takes the next event sequence number and, in
 * PostgreSQL, the row lock that serialises the event chain. Null when any condition failed.
 */
export async function countView(
  db: Executor,
  link: { id: string; grantEpoch: number },
  opts: { view: boolean; download: boolean; events: number },
  now: number,
): Promise<CountedView | null> {
  const query = countQueries[countKind(opts)];
  const [r] = await query(db, { id: link.id, epoch: link.grantEpoch, now, events: opts.events });
  return r
    ? { viewCount: r.view_count, downloadCount: r.download_count, eventSeq: r.event_seq, lastEventHash: r.last_event_hash }
    : null;
}
