import { actorRef, type Actor } from '../domain/actor.js';
import { AppError, isAppError, notFound } from '../domain/errors.js';
import { authorize, canManagePolicy } from '../domain/policies.js';
import { checkPolicy, type WorkspacePolicy } from '../domain/workspace-policy.js';
import { insertWorkspaceEvent } from '../storage/events.js';
import { findWorkspace, lockWorkspace, updateWorkspace as saveWorkspace, type Workspace } from '../storage/workspaces.js';
import type { AppContext } from './context.js';
import type { PolicyPatch, UpdateWorkspaceBody } from './account-inputs.js';

/** Lays a partial policy (snake_case, from the API) over the current one. */
export function mergePolicy(current: WorkspacePolicy, patch: PolicyPatch): WorkspacePolicy {
  const s = patch.default_settings;
  return {
    defaultExpiryDays: patch.default_expiry_days ?? current.defaultExpiryDays,
    maxExpiryDays: patch.max_expiry_days !== undefined ? patch.max_expiry_days : current.maxExpiryDays,
    allowNeverExpiring: patch.allow_never_expiring ?? current.allowNeverExpiring,
    allowAllFields: patch.allow_all_fields ?? current.allowAllFields,
    ipStorage: patch.ip_storage ?? current.ipStorage,
    defaultSettings: {
      fields: s?.fields ?? current.defaultSettings.fields,
      allowExport: s?.allow_export ?? current.defaultSettings.allowExport,
      allowOpenRecords: s?.allow_open_records ?? current.defaultSettings.allowOpenRecords,
      displayToolbar: s?.display_toolbar ?? current.defaultSettings.displayToolbar,
      notifyOnView: s?.notify_on_view ?? current.defaultSettings.notifyOnView,
    },
    linkRetentionDays: patch.link_retention_days ?? current.linkRetentionDays,
    eventRetentionDays: patch.event_retention_days ?? current.eventRetentionDays,
  };
}

/** Refuses a policy that contradicts itself, naming the field as the request body spells it. */
function checkMergedPolicy(policy: WorkspacePolicy): void {
  try {
    checkPolicy(policy);
  } catch (e) {
    if (isAppError(e) && typeof e.details?.field === 'string') {
      throw new AppError(e.reason, e.message, { ...e.details, field: `policy.${e.details.field}` });
    }
    throw e;
  }
  // Otherwise every link made with the defaults would be refused by the workspace's own rule.
  if (!policy.allowAllFields && policy.defaultSettings.fields === 'all') {
    throw new AppError('invalid_request', 'default_settings.fields cannot be "all" while allow_all_fields is false', {
      field: 'policy.default_settings.fields',
    });
  }
}

/**
 * Renames the workspace or changes its policy. The patch is merged under the
 * workspace's lock so two admins changing different rules do not undo each other.
 * Existing links keep their settings and expiry; the policy governs what is created or changed next.
 */
export async function updateWorkspace(ctx: AppContext, actor: Actor, body: UpdateWorkspaceBody): Promise<Workspace> {
  authorize(canManagePolicy(actor), 'change the workspace policy');
  const { db } = ctx.database;
  const now = ctx.now();
  await db.transaction().execute(async (tx) => {
    if (!(await lockWorkspace(tx, actor.workspaceId))) throw notFound('Workspace');
    const current = await findWorkspace(tx, actor.workspaceId);
    if (!current) throw notFound('Workspace');
    const policy = body.policy ? mergePolicy(current.policy, body.policy) : undefined;
    if (policy) checkMergedPolicy(policy);
    await saveWorkspace(tx, actor.workspaceId, { name: body.name, policy }, now);
    const fields = [
      ...(body.name !== undefined ? ['name'] : []),
      ...Object.keys(body.policy ?? {}).map((k) => `policy.${k}`),
    ].sort();
    await insertWorkspaceEvent(tx, actor.workspaceId, { type: 'updated', actor: actorRef(actor), metadata: { object: 'workspace', fields } }, now);
  });
  const updated = await findWorkspace(db, actor.workspaceId);
  if (!updated) throw notFound('Workspace');
  return updated;
}
