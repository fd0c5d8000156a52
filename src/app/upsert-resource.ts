import { actorRef, type Actor } from '../domain/actor.js';
import { authorize, canWriteResources } from '../domain/policies.js';
import { contentHash, type ResourceContent } from '../domain/resource.js';
import { findResource, insertVersion, saveResourceHead, type StoredResource } from '../storage/resources.js';
import type { AppContext } from './context.js';
import type { PutResourceBody } from './resource-inputs.js';

export type UpsertResult = { resource: StoredResource; created: boolean; versionCreated: boolean };

/**
 * Stores a resource's content. Identical content is a no-op; any change makes
 * a new immutable version and moves the head to it.
 */
export async function upsertResource(ctx: AppContext, actor: Actor, type: string, id: string, body: PutResourceBody): Promise<UpsertResult> {
  authorize(canWriteResources(actor), 'write resources');
  const content: ResourceContent = { title: body.title, fields: body.fields, tables: body.tables };
  const hash = contentHash(content);
  const now = ctx.now();
  return ctx.database.db.transaction().execute(async (tx) => {
    const existing = await findResource(tx, actor.workspaceId, type, id);
    if (existing && existing.contentHash === hash) return { resource: existing, created: false, versionCreated: false };
    const version = (existing?.latestVersion ?? 0) + 1;
    const resource: StoredResource = {
      workspaceId: actor.workspaceId,
      type,
      id,
      title: body.title,
      fields: body.fields,
      latestVersion: version,
      contentHash: hash,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    await saveResourceHead(tx, resource, !existing);
    const tableCounts = Object.fromEntries(Object.entries(body.tables).map(([k, rows]) => [k, rows.length]));
    await insertVersion(
      tx,
      { workspaceId: actor.workspaceId, type, id },
      { version, title: body.title, fields: body.fields, tableCounts, contentHash: hash, createdBy: actorRef(actor), createdAt: now },
      body.tables,
    );
    return { resource, created: !existing, versionCreated: true };
  });
}
