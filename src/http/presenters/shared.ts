import { z } from 'zod';
import type { CollectionContent, RecordContent, TablePage } from '../../app/shared-content.js';
import type { PublicLink } from '../../app/view-shared-link.js';
import { fieldFormats } from '../../domain/resource.js';
import { iso } from './common.js';

const value = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const column = z.object({ key: z.string(), label: z.string(), format: z.enum(fieldFormats) });

export const publicLinkSchema = z.object({
  id: z.string(),
  access_role: z.string(),
  status: z.string(),
  expires_at: z.string().nullable(),
  view_count: z.number(),
  max_views: z.number().nullable(),
  label: z.string().nullable(),
  display_toolbar: z.boolean(),
  permissions: z.object({ export: z.boolean(), open_records: z.boolean(), comment: z.boolean(), edit: z.boolean() }),
});

export const tablePageSchema = z.object({
  key: z.string(),
  label: z.string(),
  columns: z.array(column),
  rows: z.array(z.record(z.string(), value)),
  total: z.number(),
  next_cursor: z.string().nullable(),
});

export const recordSchema = z.object({
  type: z.string(),
  type_label: z.string(),
  id: z.string(),
  title: z.string(),
  version: z.number(),
  latest_version: z.number(),
  updated_at: z.string(),
  fields: z.array(z.object({ key: z.string(), label: z.string(), format: z.enum(fieldFormats), value })),
  tables: z.array(tablePageSchema),
});

export const collectionSchema = z.object({
  type: z.string(),
  type_label: z.string(),
  columns: z.array(column),
  rows: z.array(z.object({ id: z.string(), title: z.string(), cells: z.record(z.string(), value) })),
  total: z.number(),
  next_cursor: z.string().nullable(),
});

export const presentPublicLink = (l: PublicLink): z.infer<typeof publicLinkSchema> => ({
  id: l.id,
  access_role: l.accessRole,
  status: l.status,
  expires_at: iso(l.expiresAt),
  view_count: l.viewCount,
  max_views: l.maxViews,
  label: l.label,
  display_toolbar: l.displayToolbar,
  permissions: { export: l.permissions.export, open_records: l.permissions.openRecords, comment: l.permissions.comment, edit: l.permissions.edit },
});

export const presentTablePage = (t: TablePage): z.infer<typeof tablePageSchema> => ({
  key: t.key,
  label: t.label,
  columns: t.columns,
  rows: t.rows,
  total: t.total,
  next_cursor: t.nextCursor,
});

export const presentRecord = (r: RecordContent): z.infer<typeof recordSchema> => ({
  type: r.type,
  type_label: r.typeLabel,
  id: r.id,
  title: r.title,
  version: r.version,
  latest_version: r.latestVersion,
  updated_at: iso(r.updatedAt) as string,
  fields: r.fields,
  tables: r.tables.map(presentTablePage),
});

export const presentCollection = (c: CollectionContent): z.infer<typeof collectionSchema> => ({
  type: c.type,
  type_label: c.typeLabel,
  columns: c.columns,
  rows: c.rows,
  total: c.total,
  next_cursor: c.nextCursor,
});
