import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import type { DB, ResourcesTable, ResourceVersionsTable } from './schema.js';
import { undeclaredType, type FieldDef, type FieldValue, type ResourceType, type Row, type TableDef } from '../domain/resource.js';
import type { LinkFilter } from '../domain/link.js';
import type { Database, Executor } from './database.js';
import { parseJson } from './json.js';
import { preparedQuery } from './prepared.js';

export async function upsertResourceType(
  db: Executor,
  workspaceId: string,
  t: { type: string; label: string; fields: FieldDef[]; tables: TableDef[] },
  now: number,
): Promise<void> {
  await db
    .insertInto('resource_types')
    .values({
      workspace_id: workspaceId,
      type: t.type,
      label: t.label,
      fields: JSON.stringify(t.fields),
      tables: JSON.stringify(t.tables),
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'type']).doUpdateSet({
        label: t.label,
        fields: JSON.stringify(t.fields),
        tables: JSON.stringify(t.tables),
        updated_at: now,
      }),
    )
    .execute();
}

type TypeRow = { type: string; label: string; fields: string; tables: string };
const resourceTypeQuery = preparedQuery<{ workspaceId: string; type: string }, TypeRow>(['workspaceId', 'type'], (db, p) =>
  db.selectFrom('resource_types').select(['type', 'label', 'fields', 'tables']).where('workspace_id', '=', p.workspaceId).where('type', '=', p.type),
);

/** The declared type, or null when nobody declared it. */
export async function findResourceType(db: Executor, workspaceId: string, type: string): Promise<ResourceType | null> {
  const [r] = await resourceTypeQuery(db, { workspaceId, type });
  return r
    ? { type: r.type, label: r.label, fields: parseJson(r.fields, []), tables: parseJson(r.tables, []), declared: true }
    : null;
}

/** The declared type, or the undeclared defaults. */
export async function resourceTypeOrDefault(db: Executor, workspaceId: string, type: string): Promise<ResourceType> {
  return (await findResourceType(db, workspaceId, type)) ?? undeclaredType(type);
}

export async function listResourceTypes(db: Executor, workspaceId: string): Promise<ResourceType[]> {
  const rows = await db.selectFrom('resource_types').selectAll().where('workspace_id', '=', workspaceId).orderBy('type').execute();
  return rows.map((r) => ({ type: r.type, label: r.label, fields: parseJson(r.fields, []), tables: parseJson(r.tables, []), declared: true }));
}

/** A type is known when declared or when at least one resource of it exists. */
export async function isKnownType(db: Executor, workspaceId: string, type: string): Promise<boolean> {
  if (await findResourceType(db, workspaceId, type)) return true;
  const r = await db
    .selectFrom('resources')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('type', '=', type)
    .limit(1)
    .executeTakeFirst();
  return r !== undefined;
}

export type StoredResource = {
  workspaceId: string;
  type: string;
  id: string;
  title: string;
  fields: Record<string, FieldValue>;
  latestVersion: number;
  contentHash: string;
  createdAt: number;
  updatedAt: number;
};

type ResourceRow = Selectable<ResourcesTable>;

export const toResource = (r: ResourceRow): StoredResource => ({
  workspaceId: r.workspace_id,
  type: r.type,
  id: r.id,
  title: r.title,
  fields: parseJson(r.fields, {}),
  latestVersion: r.latest_version,
  contentHash: r.content_hash,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function findResource(db: Executor, workspaceId: string, type: string, id: string): Promise<StoredResource | null> {
  const r = await db
    .selectFrom('resources')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('type', '=', type)
    .where('id', '=', id)
    .executeTakeFirst();
  return r ? toResource(r) : null;
}

/** Writes the latest state row (insert or update). */
export async function saveResourceHead(db: Executor, r: StoredResource, isNew: boolean): Promise<void> {
  const values = {
    title: r.title,
    fields: JSON.stringify(r.fields),
    latest_version: r.latestVersion,
    content_hash: r.contentHash,
    updated_at: r.updatedAt,
  };
  if (isNew) {
    await db
      .insertInto('resources')
      .values({ workspace_id: r.workspaceId, type: r.type, id: r.id, created_at: r.createdAt, ...values })
      .execute();
  } else {
    await db
      .updateTable('resources')
      .set(values)
      .where('workspace_id', '=', r.workspaceId)
      .where('type', '=', r.type)
      .where('id', '=', r.id)
      .execute();
  }
}

/**
 * Moves an existing resource's head to a new version, only from the version
 * (and content) the caller read: false when another writer moved it first.
 * In PostgreSQL the condition is checked again after a concurrent writer
 * commits, so two writers can never both make the same version.
 */
export async function advanceResourceHead(db: Executor, r: StoredResource, from: { version: number; contentHash: string }): Promise<boolean> {
  const result = await db
    .updateTable('resources')
    .set({ title: r.title, fields: JSON.stringify(r.fields), latest_version: r.latestVersion, content_hash: r.contentHash, updated_at: r.updatedAt })
    .where('workspace_id', '=', r.workspaceId)
    .where('type', '=', r.type)
    .where('id', '=', r.id)
    .where('latest_version', '=', from.version)
    .where('content_hash', '=', from.contentHash)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export type VersionMeta = {
  version: number;
  title: string;
  fields: Record<string, FieldValue>;
  tableCounts: Record<string, number>;
  contentHash: string;
  createdBy: string;
  createdAt: number;
};

type VersionRow = Omit<Selectable<ResourceVersionsTable>, 'workspace_id' | 'type' | 'resource_id'>;

const toVersionMeta = (r: VersionRow): VersionMeta => ({
  version: r.version,
  title: r.title,
  fields: parseJson(r.fields, {}),
  tableCounts: parseJson(r.table_counts, {}),
  contentHash: r.content_hash,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

export async function insertVersion(
  db: Executor,
  key: { workspaceId: string; type: string; id: string },
  v: VersionMeta,
  tables: Record<string, Row[]>,
): Promise<void> {
  await db
    .insertInto('resource_versions')
    .values({
      workspace_id: key.workspaceId,
      type: key.type,
      resource_id: key.id,
      version: v.version,
      title: v.title,
      fields: JSON.stringify(v.fields),
      table_counts: JSON.stringify(v.tableCounts),
      content_hash: v.contentHash,
      created_by: v.createdBy,
      created_at: v.createdAt,
    })
    .execute();
  const rows = Object.entries(tables).flatMap(([tableKey, list]) =>
    list.map((data, position) => ({
      workspace_id: key.workspaceId,
      type: key.type,
      resource_id: key.id,
      version: v.version,
      table_key: tableKey,
      position,
      data: JSON.stringify(data),
    })),
  );
  // Chunked so neither dialect meets its bound-parameter limit.
  for (let i = 0; i < rows.length; i += 500) {
    await db.insertInto('resource_rows').values(rows.slice(i, i + 500)).execute();
  }
}

/**
 * Gives version `to` every table row of version `from`, in one INSERT … SELECT:
 * the rows never pass through this process, however many there are.
 */
export async function copyTableRows(db: Executor, key: { workspaceId: string; type: string; id: string }, from: number, to: number): Promise<void> {
  await db
    .insertInto('resource_rows')
    .columns(['workspace_id', 'type', 'resource_id', 'version', 'table_key', 'position', 'data'])
    .expression(
      db
        .selectFrom('resource_rows')
        // A bound parameter in a select list has no type PostgreSQL can infer: say it.
        .select(['workspace_id', 'type', 'resource_id', sql<number>`cast(${to} as integer)`.as('version'), 'table_key', 'position', 'data'])
        .where('workspace_id', '=', key.workspaceId)
        .where('type', '=', key.type)
        .where('resource_id', '=', key.id)
        .where('version', '=', from),
    )
    .execute();
}

export async function findVersion(
  db: Executor,
  key: { workspaceId: string; type: string; id: string },
  version: number,
): Promise<VersionMeta | null> {
  const r = await db
    .selectFrom('resource_versions')
    .selectAll()
    .where('workspace_id', '=', key.workspaceId)
    .where('type', '=', key.type)
    .where('resource_id', '=', key.id)
    .where('version', '=', version)
    .executeTakeFirst();
  return r ? toVersionMeta(r) : null;
}

export async function listVersions(
  db: Executor,
  key: { workspaceId: string; type: string; id: string },
): Promise<Array<Omit<VersionMeta, 'fields'>>> {
  const rows = await db
    .selectFrom('resource_versions')
    .select(['version', 'title', 'table_counts', 'content_hash', 'created_by', 'created_at'])
    .where('workspace_id', '=', key.workspaceId)
    .where('type', '=', key.type)
    .where('resource_id', '=', key.id)
    .orderBy('version', 'desc')
    .execute();
  return rows.map((r) => ({
    version: r.version,
    title: r.title,
    tableCounts: parseJson(r.table_counts, {}),
    contentHash: r.content_hash,
    createdBy: r.created_by,
    createdAt: r.created_at,
  }));
}

/** One page of a version's table, in position order. */
export async function listTableRows(
  db: Executor,
  key: { workspaceId: string; type: string; id: string; version: number; table: string },
  afterPosition: number,
  limit: number,
): Promise<Array<{ position: number; data: Row }>> {
  const rows = await db
    .selectFrom('resource_rows')
    .select(['position', 'data'])
    .where('workspace_id', '=', key.workspaceId)
    .where('type', '=', key.type)
    .where('resource_id', '=', key.id)
    .where('version', '=', key.version)
    .where('table_key', '=', key.table)
    .where('position', '>', afterPosition)
    .orderBy('position')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ position: r.position, data: parseJson<Row>(r.data, {}) }));
}

export async function deleteResource(db: Executor, workspaceId: string, type: string, id: string): Promise<void> {
  await db.deleteFrom('resource_rows').where('workspace_id', '=', workspaceId).where('type', '=', type).where('resource_id', '=', id).execute();
  await db.deleteFrom('resource_versions').where('workspace_id', '=', workspaceId).where('type', '=', type).where('resource_id', '=', id).execute();
  await db.deleteFrom('resources').where('workspace_id', '=', workspaceId).where('type', '=', type).where('id', '=', id).execute();
}

/** A link filter as SQL: every key equals one of its values (fields compared as text, like `->>`). */
function matchesFilter(database: Database, filter: LinkFilter) {
  return (eb: ExpressionBuilder<DB, 'resources'>) =>
    eb.and(
      Object.entries(filter).map(([field, wanted]) => {
        const values = (Array.isArray(wanted) ? wanted : [wanted]).map(String);
        const column = field === 'id' ? eb.ref('id') : field === 'title' ? eb.ref('title') : database.jsonText(eb.ref('fields'), field);
        return eb(column, 'in', values);
      }),
    );
}

export type ResourceListQuery = {
  type?: string;
  filter?: LinkFilter | null;
  /** Exactly this resource (still subject to the filter). */
  id?: string;
  /** Keyset: resources after this (type, id). */
  after?: { type: string; id: string };
  limit: number;
};

/**
 * Resources of a workspace in (type, id) order, narrowed by an equality
 * filter on fields (or on id/title). Needs the database for its dialect's JSON access.
 */
export async function listResources(database: Database, db: Executor, workspaceId: string, q: ResourceListQuery): Promise<StoredResource[]> {
  let query = db.selectFrom('resources').selectAll().where('workspace_id', '=', workspaceId);
  if (q.type !== undefined) query = query.where('type', '=', q.type);
  if (q.filter) query = query.where(matchesFilter(database, q.filter));
  if (q.id !== undefined) query = query.where('id', '=', q.id);
  if (q.after) {
    const { type, id } = q.after;
    // Within one type the key is the id alone, which the primary key index serves as a range.
    query =
      q.type === type
        ? query.where('id', '>', id)
        : query.where((eb) => eb.or([eb('type', '>', type), eb.and([eb('type', '=', type), eb('id', '>', id)])]));
  }
  const rows = await query.orderBy('type').orderBy('id').limit(q.limit).execute();
  return rows.map(toResource);
}

type AtVersionRow = VersionRow & { latest_version: number };
type AtVersionParams = { workspaceId: string; type: string; id: string; version: number };

const resourceAtVersionQuery = (latest: boolean) =>
  preparedQuery<AtVersionParams, AtVersionRow>(['workspaceId', 'type', 'id', 'version'], (db, p) =>
    db
      .selectFrom('resources as r')
      .innerJoin('resource_versions as v', (j) =>
        j
          .onRef('v.workspace_id', '=', 'r.workspace_id')
          .onRef('v.type', '=', 'r.type')
          .onRef('v.resource_id', '=', 'r.id')
          .on((eb) => (latest ? eb('v.version', '=', eb.ref('r.latest_version')) : eb('v.version', '=', p.version))),
      )
      .select(['v.version', 'v.title', 'v.fields', 'v.table_counts', 'v.content_hash', 'v.created_by', 'v.created_at', 'r.latest_version'])
      .where('r.workspace_id', '=', p.workspaceId)
      .where('r.type', '=', p.type)
      .where('r.id', '=', p.id),
  );
const latestVersionQuery = resourceAtVersionQuery(true);
const givenVersionQuery = resourceAtVersionQuery(false);

/** A resource at a version (the latest when `version` is null), in one query. */
export async function findResourceAtVersion(
  db: Executor,
  key: { workspaceId: string; type: string; id: string },
  version: number | null,
): Promise<(VersionMeta & { latestVersion: number }) | null> {
  const [r] = await (version === null ? latestVersionQuery : givenVersionQuery)(db, { ...key, version: version ?? 0 });
  return r ? { ...toVersionMeta(r), latestVersion: r.latest_version } : null;
}

/** How many resources of a type pass a filter. */
export async function countResources(database: Database, db: Executor, workspaceId: string, type: string, filter: LinkFilter | null): Promise<number> {
  let query = db.selectFrom('resources').select((eb) => eb.fn.countAll<number>().as('n')).where('workspace_id', '=', workspaceId).where('type', '=', type);
  if (filter) query = query.where(matchesFilter(database, filter));
  const r = await query.executeTakeFirstOrThrow();
  return Number(r.n);
}
