import { AppError } from '../domain/errors.js';
import type { Link } from '../domain/link.js';
import {
  humanize,
  metaFieldFormats,
  own,
  projectFields,
  projectRow,
  tableColumns,
  visibleFieldKeys,
  type ColumnDef,
  type FieldValue,
  type ResourceType,
  type Row,
  type ShownField,
} from '../domain/resource.js';
import type { Executor } from '../storage/database.js';
import { decodeCursor, encodeCursor } from '../storage/json.js';
import {
  countResources,
  findResourceAtVersion,
  listResources,
  listTableRows,
  resourceTypeOrDefault,
  type StoredResource,
} from '../storage/resources.js';
import type { ContentHints } from './authorize-public.js';
import type { AppContext } from './context.js';

/** Rows per page of a table or collection. */
export const PAGE_SIZE = 100;
/** The pseudo-table of a collection link: its resources. */
export const COLLECTION_TABLE = 'items';

export type TablePage = { key: string; label: string; columns: ColumnDef[]; rows: Row[]; total: number; nextCursor: string | null };

export type RecordContent = {
  kind: 'record';
  type: string;
  typeLabel: string;
  id: string;
  title: string;
  version: number;
  latestVersion: number;
  updatedAt: number;
  fields: ShownField[];
  tables: TablePage[];
};

export type CollectionRow = { id: string; title: string; cells: Row };
export type CollectionContent = {
  kind: 'collection';
  type: string;
  typeLabel: string;
  columns: ColumnDef[];
  rows: CollectionRow[];
  total: number;
  nextCursor: string | null;
};

/** A resource's fields with the meta fields a link may show (id, title, updated_at). */
function withMeta(id: string, title: string, updatedAt: number, fields: Record<string, FieldValue>): Record<string, FieldValue> {
  return { id, title, updated_at: new Date(updatedAt).toISOString(), ...fields };
}


function fieldColumns(type: ResourceType, keys: string[]): ColumnDef[] {
  return keys.map((key) => {
    const def = type.fields.find((f) => f.key === key);
    return { key, label: def?.label ?? humanize(key), format: def?.format ?? own(metaFieldFormats, key) ?? 'text' };
  });
}

/** No stored id holds a NUL (PostgreSQL refuses it in text), so text that does names nothing and never reaches a query. */
const isStorableText = (s: string): boolean => !s.includes('\u0000');

/** Table-page cursors name their link, so a cursor from another link is refused. */
function readPosition(link: Link, cursor: string | undefined): number {
  if (cursor === undefined) return -1;
  const key = decodeCursor(cursor, ['string', 'number']);
  if (!key || key[0] !== link.id || (key[1] as number) < 0) throw new AppError('invalid_cursor', 'This page cursor does not belong to this link');
  return key[1] as number;
}

async function tablePage(
  ctx: AppContext,
  link: Link,
  type: ResourceType,
  at: { id: string; version: number; stamp: number | null },
  key: string,
  total: number,
  cursor?: string,
): Promise<TablePage> {
  const db = ctx.database.db;
  const after = readPosition(link, cursor);
  const rowKey = { workspaceId: link.workspaceId, type: link.resourceType, id: at.id, version: at.version, table: key };
  const rows =
    after === -1 && at.stamp !== null
      ? await ctx.contentCache.firstRows(db, rowKey, at.stamp, PAGE_SIZE + 1)
      : await listTableRows(db, rowKey, after, PAGE_SIZE + 1);
  const page = rows.slice(0, PAGE_SIZE);
  const last = page[page.length - 1];
  const def = type.tables.find((t) => t.key === key);
  return {
    key,
    label: def?.label ?? humanize(key),
    columns: tableColumns(type, key, page.map((r) => r.data)),
    rows: page.map((r) => r.data),
    total,
    nextCursor: rows.length > PAGE_SIZE && last ? encodeCursor([link.id, last.position]) : null,
  };
}

/**
 * One resource as the link shows it: projected fields and the first page of
 * each table. With `hints` from the link lookup (for the link's own
 * resource), immutable content comes from the cache.
 */
export async function recordContent(ctx: AppContext, link: Link, resourceId: string, version: number | null, hints?: ContentHints): Promise<RecordContent> {
  const db = ctx.database.db;
  const key = { workspaceId: link.workspaceId, type: link.resourceType, id: resourceId };
  const [type, found] = await Promise.all([
    ctx.contentCache.type(db, link.workspaceId, link.resourceType, hints?.typeStamp),
    ctx.contentCache.version(db, key, version ?? hints?.latestVersion ?? null, hints?.resourceStamp),
  ]);
  if (!found) throw new AppError('not_found', 'This record does not exist');
  // A cached version carries the latest version of when it was read; the lookup knows the current one.
  const at = { ...found, latestVersion: hints?.latestVersion ?? found.latestVersion };
  const all = withMeta(resourceId, at.title, at.createdAt, at.fields);
  const fields = projectFields(type, link.settings.fields, all).filter((f) => f.key !== 'title');
  const tables: TablePage[] = [];
  for (const [key, total] of Object.entries(at.tableCounts)) {
    tables.push(await tablePage(ctx, link, type, { id: resourceId, version: at.version, stamp: hints?.resourceStamp ?? null }, key, total));
  }
  return {
    kind: 'record',
    type: type.type,
    typeLabel: type.label,
    id: resourceId,
    title: at.title,
    version: at.version,
    latestVersion: at.latestVersion,
    updatedAt: at.createdAt,
    fields,
    tables,
  };
}

/** The version a link serves: its pin, or the latest. */
export const servedVersion = (link: Link): number | null => link.pinnedVersion;

/** A later page of one table of the link's resource, or of a record of a collection link. */
export async function recordTablePage(
  ctx: AppContext,
  link: Link,
  key: string,
  cursor: string | undefined,
  resourceId: string = link.resourceId as string,
): Promise<TablePage> {
  const db = ctx.database.db;
  // The link's own resource is served at its pin; a row of a collection at its latest version.
  const version = resourceId === link.resourceId ? servedVersion(link) : null;
  const [type, at] = await Promise.all([
    resourceTypeOrDefault(db, link.workspaceId, link.resourceType),
    findResourceAtVersion(db, { workspaceId: link.workspaceId, type: link.resourceType, id: resourceId }, version),
  ]);
  if (!at) throw new AppError('not_found', 'This record does not exist');
  const total = own(at.tableCounts, key);
  if (total === undefined) throw new AppError('not_found', `This record has no table ${key}`);
  return tablePage(ctx, link, type, { id: resourceId, version: at.version, stamp: null }, key, total, cursor);
}

/** The visible columns of a collection link. */
export async function collectionColumns(ctx: AppContext, link: Link, sample: StoredResource[]): Promise<{ type: ResourceType; keys: string[]; columns: ColumnDef[] }> {
  const type = await resourceTypeOrDefault(ctx.database.db, link.workspaceId, link.resourceType);
  const present = new Set<string>(['id', 'title', 'updated_at']);
  for (const r of sample) for (const k of Object.keys(r.fields)) present.add(k);
  const keys = visibleFieldKeys(type, link.settings.fields, [...present]);
  return { type, keys, columns: fieldColumns(type, keys) };
}

/** The projected row of one resource in a collection. */
export const collectionRow = (keys: string[], r: StoredResource): CollectionRow => ({
  id: r.id,
  title: r.title,
  cells: projectRow(keys, withMeta(r.id, r.title, r.updatedAt, r.fields)),
});

/** One page of a collection link: its resources inside the filter, in id order. */
export async function collectionPage(ctx: AppContext, link: Link, cursor: string | undefined): Promise<CollectionContent> {
  let after: { type: string; id: string } | undefined;
  if (cursor !== undefined) {
    const key = decodeCursor(cursor, ['string', 'string']);
    if (!key || key[0] !== link.id || !isStorableText(key[1] as string)) throw new AppError('invalid_cursor', 'This page cursor does not belong to this link');
    after = { type: link.resourceType, id: key[1] as string };
  }
  const { database } = ctx;
  const [rows, total] = await Promise.all([
    listResources(database, database.db, link.workspaceId, { type: link.resourceType, filter: link.filter, after, limit: PAGE_SIZE + 1 }),
    countResources(database, database.db, link.workspaceId, link.resourceType, link.filter),
  ]);
  const page = rows.slice(0, PAGE_SIZE);
  const { type, keys, columns } = await collectionColumns(ctx, link, page);
  const last = page[page.length - 1];
  return {
    kind: 'collection',
    type: type.type,
    typeLabel: type.label,
    columns,
    rows: page.map((r) => collectionRow(keys, r)),
    total,
    nextCursor: rows.length > PAGE_SIZE && last ? encodeCursor([link.id, last.id]) : null,
  };
}

/** Whether a resource id lies inside a collection link's filter (or is the link's own resource). */
export async function isInsideLink(ctx: AppContext, link: Link, resourceId: string): Promise<boolean> {
  if (link.resourceId !== null) return link.resourceId === resourceId;
  if (!isStorableText(resourceId)) return false;
  const { database } = ctx;
  const found = await listResources(database, database.db, link.workspaceId, { type: link.resourceType, filter: link.filter, id: resourceId, limit: 1 });
  return found.length === 1;
}
