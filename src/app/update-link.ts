import { actorRef, type Actor } from '../domain/actor.js';
import { AppError, notFound } from '../domain/errors.js';
import type { EventType } from '../domain/event.js';
import type { Link } from '../domain/link.js';
import { hashPassword } from '../domain/passwords.js';
import { authorize, canUpdateLink } from '../domain/policies.js';
import { resolveExpiry } from '../domain/workspace-policy.js';
import { appendLinkEvent } from '../storage/events.js';
import { linkColumns, updateLiveLink } from '../storage/links.js';
import { resourceTypeOrDefault } from '../storage/resources.js';
import { findWorkspace } from '../storage/workspaces.js';
import type { AppContext } from './context.js';
import { loadLink } from './get-link.js';
import type { UpdateLinkBody } from './link-inputs.js';
import { expiryRequest, mergeSettings } from './link-rules.js';

/**
 * Changes a link's settings, expiry, limit, role, recipient, password or
 * enabled flag. Writes `enabled`/`disabled` for the switch and `updated` for
 * the rest, with the changed field names; disabling or a password change voids every grant.
 */
export async function updateLink(ctx: AppContext, actor: Actor, id: string, body: UpdateLinkBody): Promise<Link> {
  const { db } = ctx.database;
  const now = ctx.now();
  const link = await loadLink(db, actor, id);
  authorize(canUpdateLink(actor, link), 'change this link');
  if (link.revokedAt !== null) throw new AppError('conflict', 'A revoked link cannot be changed');
  const workspace = await findWorkspace(db, actor.workspaceId);
  if (!workspace) throw notFound('Workspace');

  const patch: Partial<Link> = {};
  if (body.settings !== undefined) {
    const type = await resourceTypeOrDefault(db, actor.workspaceId, link.resourceType);
    patch.settings = mergeSettings(link.settings, body.settings, workspace.policy, type);
  }
  const expiry = expiryRequest(body);
  if (expiry) patch.expiresAt = resolveExpiry(workspace.policy, expiry, now);
  if (body.max_views !== undefined) patch.maxViews = body.max_views;
  if (body.access_role !== undefined) patch.accessRole = body.access_role;
  if (body.requires_auth !== undefined) patch.requiresAuth = body.requires_auth;
  if (body.recipient_email !== undefined) patch.recipientEmail = body.recipient_email?.toLowerCase() ?? null;
  if (body.recipient_contact_id !== undefined) patch.recipientContactId = body.recipient_contact_id;
  if (body.allowed_emails !== undefined) patch.allowedEmails = body.allowed_emails.map((e) => e.toLowerCase());
  if (body.allowed_domains !== undefined) patch.allowedDomains = body.allowed_domains.map((d) => d.toLowerCase());
  if (body.label !== undefined) patch.label = body.label;
  if (body.metadata !== undefined) patch.metadata = body.metadata;
  if (body.password !== undefined) patch.passwordHash = body.password === null ? null : await hashPassword(body.password);

  const changed = Object.keys(body).filter((k) => k !== 'enabled' && k !== 'password');
  if (body.password !== undefined) changed.push('password');
  const switched = body.enabled !== undefined && body.enabled !== link.enabled;
  if (switched) patch.enabled = body.enabled;
  const voidsGrants = body.password !== undefined || (switched && body.enabled === false) || body.access_role !== undefined || body.requires_auth !== undefined;

  const actorName = actorRef(actor);
  await db.transaction().execute(async (tx) => {
    const updated = await updateLiveLink(tx, actor.workspaceId, id, { ...linkColumns(patch), updated_at: now }, { voidGrants: voidsGrants });
    // Revoked since it was read: the transaction rolls back and nothing is written.
    if (!updated) throw new AppError('conflict', 'A revoked link cannot be changed');
    if (changed.length) {
      await appendLinkEvent(tx, link, { type: 'updated', actor: actorName, metadata: { fields: changed.sort() } }, now);
    }
    if (switched) {
      const type: EventType = body.enabled ? 'enabled' : 'disabled';
      await appendLinkEvent(tx, link, { type, actor: actorName }, now);
    }
  });
  return loadLink(db, actor, id);
}
