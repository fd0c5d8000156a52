import { AppError } from '../domain/errors.js';
import { changesField, editableFields, fieldValueProblem, type EditableField } from '../domain/field-edits.js';
import type { Link } from '../domain/link.js';
import { contentHashOf, own, type FieldValue, type Row, type TableRowPages } from '../domain/resource.js';
import { findResource, findVersion, listTableRows, type StoredResource } from '../storage/resources.js';
import type { ContentHints } from './authorize-public.js';
import type { AppContext } from './context.js';
import { isInsideLink } from './shared-content.js';

// What editing a record through an editor link (DESIGN §3) and showing its form share.

/** A record as an editor link may change it: its head, its latest version's table counts, and the fields the link lets it edit. */
export type EditTarget = {
  link: Link;
  recordId: string;
  typeLabel: string;
  head: StoredResource;
  tableCounts: Record<string, number>;
  fields: EditableField[];
};

/**
 * The record an editor link edits, checked before the gate counts anything:
 * a snapshot link edits nothing (`conflict`); the record must be the link's
 * own resource or lie inside its collection's filter, as record drill-down
 * checks (`not_found`). `recordId` null means the link's own resource.
 */
export async function loadEditTarget(ctx: AppContext, link: Link, recordId: string | null, hints: ContentHints): Promise<EditTarget> {
  if (link.pinnedVersion !== null) {
    throw new AppError('conflict', 'This link shows a fixed snapshot of the record, so it cannot be used to edit it', { conflict: 'snapshot' });
  }
  const id = recordId ?? link.resourceId;
  if (id === null) throw new AppError('not_found', 'A shared list is edited one record at a time: name the record');
  if (!(await isInsideLink(ctx, link, id))) throw new AppError('not_found', 'This record is not part of this share link');
  const db = ctx.database.db;
  const [type, head] = await Promise.all([
    ctx.contentCache.type(db, link.workspaceId, link.resourceType, hints.typeStamp),
    findResource(db, link.workspaceId, link.resourceType, id),
  ]);
  if (!head) throw new AppError('not_found', 'This record does not exist');
  const latest = await findVersion(db, { workspaceId: link.workspaceId, type: link.resourceType, id }, head.latestVersion);
  if (!latest) throw new AppError('not_found', 'This record does not exist');
  return { link, recordId: id, typeLabel: type.label, head, tableCounts: latest.tableCounts, fields: editableFields(type, link.settings.fields, head.fields) };
}

/** An edit checked against its target: the fields it really changes, in the order asked. */
export type EditPlan = { changes: Record<string, FieldValue>; changed: string[] };

/**
 * Checks an edit against what the link may edit, before anything is counted:
 * a field the link does not show (hidden, or unknown) is `forbidden`, naming
 * it, whether or not the record holds it, so hidden fields cannot be probed;
 * a value that does not fit the field's format is `invalid_request`, naming
 * it; a `baseVersion` that is no longer the latest is a `conflict`.
 */
export function planEdit(target: EditTarget, fields: Readonly<Record<string, FieldValue>>, baseVersion: number | undefined): EditPlan {
  const keys = Object.keys(fields);
  const editable = keys.map((key) => target.fields.find((f) => f.key === key));
  // Every key is checked for permission before any value, so a refusal never depends on what was sent for another field.
  const hidden = keys.find((_, i) => editable[i] === undefined);
  if (hidden !== undefined) throw new AppError('forbidden', `This share link does not let you edit the field ${hidden}`, { field: `fields.${hidden}`, key: hidden });
  for (const [i, key] of keys.entries()) {
    const problem = fieldValueProblem(editable[i] as EditableField, fields[key]);
    if (problem) throw new AppError('invalid_request', `Invalid fields.${key}: ${problem}`, { field: `fields.${key}`, key, problem });
  }
  if (baseVersion !== undefined && baseVersion !== target.head.latestVersion) {
    throw new AppError('conflict', `This record was changed since version ${baseVersion}: it is at version ${target.head.latestVersion} now. Read it again and redo your edit on top`, {
      conflict: 'stale_version',
      latestVersion: target.head.latestVersion,
    });
  }
  const changed = keys.filter((key) => changesField(own(target.head.fields, key), fields[key]));
  return { changes: Object.fromEntries(changed.map((key) => [key, fields[key]])), changed };
}

const ROWS_PER_READ = 1000;

/**
 * The content hash of the target's latest version with new fields: its
 * title and table rows unchanged. The rows are read a page at a time (a
 * version is immutable, so this needs no transaction).
 */
export function hashWithFields(ctx: AppContext, target: EditTarget, fields: Record<string, FieldValue>): Promise<string> {
  const { link, recordId, head } = target;
  const tables: TableRowPages[] = Object.keys(target.tableCounts).map((table) => ({
    key: table,
    async *pages(): AsyncIterable<Row[]> {
      const key = { workspaceId: link.workspaceId, type: link.resourceType, id: recordId, version: head.latestVersion, table };
      let after = -1;
      for (;;) {
        const page = await listTableRows(ctx.database.db, key, after, ROWS_PER_READ);
        if (page.length > 0) yield page.map((r) => r.data);
        if (page.length < ROWS_PER_READ) return;
        after = page[page.length - 1].position;
      }
    },
  }));
  return contentHashOf(head.title, fields, tables);
}
