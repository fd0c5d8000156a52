import { AppError } from '../domain/errors.js';
import { own, tableColumns, type ColumnDef, type Row } from '../domain/resource.js';
import { findResourceAtVersion, listResources, listTableRows, resourceTypeOrDefault, type VersionMeta } from '../storage/resources.js';
import { authorizePublic, type PublicRequest } from './authorize-public.js';
import type { AppContext } from './context.js';
import { collectionColumns, collectionRow, recordContent, servedVersion } from './shared-content.js';

/**
 * Rows read per query. Small enough that a batch rarely lives long enough to
 * be promoted to V8's old space while it streams out: with 500, a server's
 * memory grew by 60-150 MB during a 300,000-row export (the heap sizing
 * itself up for promoted garbage); with 200, by 35-42 MB, at the same speed.
 */
const BATCH = 200;

export type SharedExport = {
  /** A safe download name without extension, e.g. `model-inventory-2026-11-24`. */
  basename: string;
  columns: ColumnDef[];
  /** Rows read in batches as the consumer pulls: memory stays flat however many there are. */
  rows: AsyncIterable<Row>;
  /** The grant to use from now on: a new one when this export counted a view. */
  grant: string | null;
  grantExpiresAt: number | null;
};

/** Download names: letters, digits and dashes only, never empty. */
export function safeFilename(s: string): string {
  // NFKD splits `é` into `e` and a combining accent; the accents are dropped, not turned into dashes.
  const cleaned = s.normalize('NFKD').replace(/\p{M}+/gu, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80).toLowerCase();
  return cleaned || 'export';
}

/**
 * Exports what a link shows (the collection's rows, or one table of the
 * record, or the record's fields as one row), projected and filtered exactly
 * as on screen. Counts a download (and a view when no grant covers it).
 */
export async function exportSharedLink(ctx: AppContext, req: PublicRequest, table: string | undefined): Promise<SharedExport> {
  const { database } = ctx;
  const target: { at?: VersionMeta & { latestVersion: number } } = {};
  const access = await authorizePublic(ctx, req, 'export', {
    download: true,
    eventMetadata: table ? { table } : {},
    // The target is checked before the download is counted: an unknown table burns nothing.
    prepare: async (link) => {
      if (link.resourceId === null) {
        if (table !== undefined && table !== 'items') throw new AppError('not_found', 'A collection link has one table: items');
        return;
      }
      const at = await findResourceAtVersion(database.db, { workspaceId: link.workspaceId, type: link.resourceType, id: link.resourceId }, servedVersion(link));
      if (!at) throw new AppError('not_found', 'This record does not exist');
      if (table !== undefined && own(at.tableCounts, table) === undefined) throw new AppError('not_found', `This record has no table ${table}`);
      target.at = at;
    },
  });
  const { link } = access;
  const day = new Date(ctx.now()).toISOString().slice(0, 10);

  if (link.resourceId === null) {
    const first = await listResources(database, database.db, link.workspaceId, { type: link.resourceType, filter: link.filter, limit: BATCH });
    const { keys, columns, type } = await collectionColumns(ctx, link, first);
    async function* rows(): AsyncIterable<Row> {
      let batch = first;
      while (batch.length > 0) {
        for (const r of batch) yield collectionRow(keys, r).cells;
        if (batch.length < BATCH) return;
        const last = batch[batch.length - 1];
        batch = await listResources(database, database.db, link.workspaceId, { type: link.resourceType, filter: link.filter, after: { type: last.type, id: last.id }, limit: BATCH });
      }
    }
    return { basename: `${safeFilename(type.label)}-${day}`, columns, rows: rows(), grant: access.grant, grantExpiresAt: access.grantExpiresAt };
  }

  const resourceId = link.resourceId;
  const { at } = target;
  if (!at) throw new AppError('not_found', 'This record does not exist');
  const tableKey = table ?? Object.keys(at.tableCounts)[0];
  if (tableKey === undefined) {
    // No tables: the record's visible fields as a single row.
    const record = await recordContent(ctx, link, resourceId, at.version);
    const columns = [{ key: 'title', label: 'Title', format: 'text' as const }, ...record.fields.map((f) => ({ key: f.key, label: f.label, format: f.format }))];
    const row: Row = { title: record.title, ...Object.fromEntries(record.fields.map((f) => [f.key, f.value])) };
    return { basename: `${safeFilename(at.title)}-${day}`, columns, rows: (async function* () { yield row; })(), grant: access.grant, grantExpiresAt: access.grantExpiresAt };
  }
  if (own(at.tableCounts, tableKey) === undefined) throw new AppError('not_found', `This record has no table ${tableKey}`);
  const type = await resourceTypeOrDefault(database.db, link.workspaceId, link.resourceType);
  const key = { workspaceId: link.workspaceId, type: link.resourceType, id: resourceId, version: at.version, table: tableKey };
  const first = await listTableRows(database.db, key, -1, BATCH);
  const columns = tableColumns(type, tableKey, first.map((r) => r.data));
  async function* rows(): AsyncIterable<Row> {
    let batch = first;
    while (batch.length > 0) {
      for (const r of batch) yield r.data;
      if (batch.length < BATCH) return;
      batch = await listTableRows(database.db, key, batch[batch.length - 1].position, BATCH);
    }
  }
  return { basename: `${safeFilename(at.title)}-${safeFilename(tableKey)}-${day}`, columns, rows: rows(), grant: access.grant, grantExpiresAt: access.grantExpiresAt };
}
