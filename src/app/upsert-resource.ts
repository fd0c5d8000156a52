import { actorRef, type Actor } from '../domain/actor.js';
import { authorize, canWriteResources } from '../domain/policies.js';
import { contentHash, type ResourceContent } from '../domain/resource.js';
import { findResource, type StoredResource } from '../storage/resources.js';
import type { AppContext } from './context.js';
import type { PutResourceBody } from './resource-inputs.js';
import { nextResourceHead, writeResourceVersion } from './write-resource-version.js';

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
    const resource = nextResourceHead({ workspaceId: actor.workspaceId, type, id }, existing, { title: body.title, fields: body.fields, contentHash: hash }, now);
    await writeResourceVersion(tx, resource, existing, actorRef(actor), { tables: body.tables });
    return { resource, created: !existing, versionCreated: true };
  });
}
