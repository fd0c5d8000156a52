import type { Actor } from '../domain/actor.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Row } from '../domain/resource.js';
import { findResource, findVersion, listTableRows, listVersions as queryVersions, type StoredResource, type VersionMeta } from '../storage/resources.js';
import type { AppContext } from './context.js';

export type ResourceSnapshot = { resource: StoredResource; version: VersionMeta; tables: Record<string, Row[]> };

/** Hard cap on rows returned inline by the management API; larger tables page through links. */
export const INLINE_TABLE_ROWS = 10_000;

/** A resource at its latest or a given version, with its tables. */
export async function getResource(ctx: AppContext, actor: Actor, type: string, id: string, version?: number): Promise<ResourceSnapshot> {
  const { db } = ctx.database;
  const resource = await findResource(db, actor.workspaceId, type, id);
  if (!resource) throw notFound('Resource');
  const v = await findVersion(db, { workspaceId: actor.workspaceId, type, id }, version ?? resource.latestVersion);
  if (!v) throw new AppError('not_found', `Resource ${type}/${id} has no version ${version}`);
  const tables: Record<string, Row[]> = {};
  for (const key of Object.keys(v.tableCounts)) {
    const rows = await listTableRows(db, { workspaceId: actor.workspaceId, type, id, version: v.version, table: key }, -1, INLINE_TABLE_ROWS);
    tables[key] = rows.map((r) => r.data);
  }
  return { resource, version: v, tables };
}

export async function listResourceVersions(ctx: AppContext, actor: Actor, type: string, id: string) {
  const resource = await findResource(ctx.database.db, actor.workspaceId, type, id);
  if (!resource) throw notFound('Resource');
  return queryVersions(ctx.database.db, { workspaceId: actor.workspaceId, type, id });
}
