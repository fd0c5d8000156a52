import { AppError } from '../domain/errors.js';
import type { FieldValue, Row } from '../domain/resource.js';
import type { Executor } from '../storage/database.js';
import { advanceResourceHead, copyTableRows, insertVersion, saveResourceHead, type StoredResource } from '../storage/resources.js';

/** A resource's next head: version `previous + 1` (or 1) with this content, keeping when it was first made. */
export function nextResourceHead(
  key: { workspaceId: string; type: string; id: string },
  previous: StoredResource | null,
  content: { title: string; fields: Record<string, FieldValue>; contentHash: string },
  now: number,
): StoredResource {
  return {
    ...key,
    title: content.title,
    fields: content.fields,
    latestVersion: (previous?.latestVersion ?? 0) + 1,
    contentHash: content.contentHash,
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
  };
}

/** Where a new version's table rows come from: given in full (PUT), or those of an earlier version (an edit of fields). */
export type VersionRows = { tables: Record<string, Row[]> } | { copyFrom: number; tableCounts: Record<string, number> };

/**
 * What every new resource version takes, inside the caller's transaction:
 * moves the head to `next` (only from `previous` as the caller read it), then
 * stores the immutable version and its table rows. Throws `conflict` when
 * another writer made a version since `previous` was read: nothing is written
 * then, and the caller's transaction rolls back.
 */
export async function writeResourceVersion(tx: Executor, next: StoredResource, previous: StoredResource | null, createdBy: string, rows: VersionRows): Promise<void> {
  if (previous === null) await saveResourceHead(tx, next, true);
  else if (!(await advanceResourceHead(tx, next, { version: previous.latestVersion, contentHash: previous.contentHash }))) {
    throw new AppError('conflict', 'The resource was changed by someone else at the same moment; read it again and retry', { conflict: 'stale_version' });
  }
  const key = { workspaceId: next.workspaceId, type: next.type, id: next.id };
  const tableCounts = 'tables' in rows ? Object.fromEntries(Object.entries(rows.tables).map(([k, list]) => [k, list.length])) : rows.tableCounts;
  await insertVersion(
    tx,
    key,
    { version: next.latestVersion, title: next.title, fields: next.fields, tableCounts, contentHash: next.contentHash, createdBy, createdAt: next.updatedAt },
    'tables' in rows ? rows.tables : {},
  );
  if ('copyFrom' in rows) await copyTableRows(tx, key, rows.copyFrom, next.latestVersion);
}
