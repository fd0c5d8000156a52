import { actorRef, type Actor } from '../domain/actor.js';
import { AppError, notFound } from '../domain/errors.js';
import type { EventType } from '../domain/event.js';
import type { Link } from '../domain/link.js';
import { canonicalJson, own } from '../domain/resource.js';
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

/** The link field each PATCH key writes (`enabled` and `password` are handled apart). */
const linkFieldOf: Record<string, keyof Link> = {
  settings: 'settings',
  expires_in_days: 'expiresAt',
  expires_at: 'expiresAt',
  max_views: 'maxViews',
  access_role: 'accessRole',
  requires_auth: 'requiresAuth',
  recipient_email: 'recipientEmail',
  recipient_contact_id: 'recipientContactId',
  allowed_emails: 'allowedEmails',
  allowed_domains: 'allowedDomains',
  label: 'label',
  metadata: 'metadata',
};

/**
 * Changes a link's settings, expiry, limit, role, recipient, password or
 * enabled flag. Writes `enabled`/`disabled` for the switch and `updated` for
 * the rest, naming the fields whose value changed; disabling, a new password,
 * a new role or a new auth requirement voids every grant.
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

  // The event names what actually changed: a field sent again with its current value is no change.
  const changed = Object.keys(body).filter((key) => {
    const field = own(linkFieldOf, key);
    return field !== undefined && canonicalJson(patch[field]) !== canonicalJson(link[field]);
  });
  const passwordChanged = body.password !== undefined && !(body.password === null && link.passwordHash === null);
  if (passwordChanged) changed.push('password');
  const switched = body.enabled !== undefined && body.enabled !== link.enabled;
  if (switched) patch.enabled = body.enabled;
  const voidsGrants = passwordChanged || (switched && body.enabled === false) || changed.includes('access_role') || changed.includes('requires_auth');

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
