import type { Actor } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import { humanize, type ResourceType } from '../domain/resource.js';
import { findResourceType, upsertResourceType } from '../storage/resources.js';
import type { AppContext } from './context.js';
import type { PutResourceTypeBody } from './resource-inputs.js';

function duplicates(keys: string[]): string[] {
  return keys.filter((k, i) => keys.indexOf(k) !== i);
}

/** Declares (or redeclares) a resource type: its labels, formats, public fields and tables. */
export async function putResourceType(ctx: AppContext, actor: Actor, type: string, body: PutResourceTypeBody): Promise<ResourceType> {
  const dupFields = duplicates(body.fields.map((f) => f.key));
  if (dupFields.length) throw new AppError('invalid_request', `Duplicate field key(s): ${dupFields.join(', ')}`, { field: 'fields' });
  const dupTables = duplicates(body.tables.map((t) => t.key));
  if (dupTables.length) throw new AppError('invalid_request', `Duplicate table key(s): ${dupTables.join(', ')}`, { field: 'tables' });
  for (const [i, t] of body.tables.entries()) {
    const dupColumns = duplicates(t.columns.map((c) => c.key));
    if (dupColumns.length) {
      throw new AppError('invalid_request', `Duplicate column key(s) in table ${t.key}: ${dupColumns.join(', ')}`, { field: `tables.${i}.columns` });
    }
  }
  const declared = {
    type,
    label: body.label ?? humanize(type),
    fields: body.fields.map((f) => ({ key: f.key, label: f.label ?? humanize(f.key), format: f.format, public: f.public })),
    tables: body.tables.map((t) => ({
      key: t.key,
      label: t.label ?? humanize(t.key),
      columns: t.columns.map((c) => ({ key: c.key, label: c.label ?? humanize(c.key), format: c.format })),
    })),
  };
  await upsertResourceType(ctx.database.db, actor.workspaceId, declared, ctx.now());
  return (await findResourceType(ctx.database.db, actor.workspaceId, type)) as ResourceType;
}
