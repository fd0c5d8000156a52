import { actorRef, type Actor } from '../domain/actor.js';
import { AppError, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Link } from '../domain/link.js';
import { hashPassword } from '../domain/passwords.js';
import { authorize, canCreateLink } from '../domain/policies.js';
import { canonicalJson } from '../domain/resource.js';
import { newLinkToken, newShortCode, sha256 } from '../domain/tokens.js';
import { resolveExpiry, type ExpiryRequest } from '../domain/workspace-policy.js';
import { appendLinkEvent } from '../storage/events.js';
import { findReusableLink, insertLink, toLink } from '../storage/links.js';
import { findResource, isKnownType, resourceTypeOrDefault } from '../storage/resources.js';
import { findWorkspace } from '../storage/workspaces.js';
import type { AppContext } from './context.js';
import type { CreateLinkBody } from './link-inputs.js';
import { expiryRequest, mergeSettings } from './link-rules.js';

export type CreatedLink = { link: Link; reused: boolean };

/**
 * Whether an active link's end meets a request's, for `reuse_active`. An
 * explicit end (a time, or never) must be the same. A default or a number of
 * days asks for a link that lasts about that long: the link must not outlive
 * it (that would hand out more than was asked) and must have at least half of
 * it left (one about to end is of no use to the caller).
 */
function endMeets(existing: number | null, requested: number | null, kind: ExpiryRequest['kind'], now: number): boolean {
  if (kind !== 'default' && kind !== 'days') return existing === requested;
  if (requested === null) return existing === null;
  return existing !== null && existing <= requested && existing - now >= (requested - now) / 2;
}

/**
 * Creates a link under the workspace policy, or with `reuse_active` hands back
 * the caller's active link for the same target and settings.
 */
export async function createLink(ctx: AppContext, actor: Actor, body: CreateLinkBody): Promise<CreatedLink> {
  authorize(canCreateLink(actor), 'create links');
  const { db } = ctx.database;
  const now = ctx.now();
  const workspace = await findWorkspace(db, actor.workspaceId);
  if (!workspace) throw notFound('Workspace');
  const { policy } = workspace;

  const isCollection = body.resource_id === null;
  if (!isCollection && body.filter) {
    throw new AppError('invalid_request', 'A filter applies only to collection links (resource_id: null)', { field: 'filter' });
  }
  const type = await resourceTypeOrDefault(db, actor.workspaceId, body.resource_type);
  let pinnedVersion: number | null = null;
  if (isCollection) {
    if (!(await isKnownType(db, actor.workspaceId, body.resource_type))) {
      throw new AppError('unknown_resource_type', `No resource type ${body.resource_type} in this workspace`, { field: 'resource_type' });
    }
    if (body.snapshot) throw new AppError('invalid_request', 'A collection link cannot be a snapshot', { field: 'snapshot' });
    if (body.filter && type.declared) {
      const known = new Set(['id', 'title', ...type.fields.map((f) => f.key)]);
      const unknown = Object.keys(body.filter).filter((k) => !known.has(k));
      if (unknown.length) throw new AppError('invalid_request', `Unknown filter field(s): ${unknown.join(', ')}`, { field: 'filter' });
    }
  } else {
    const resource = await findResource(db, actor.workspaceId, body.resource_type, body.resource_id as string);
    if (!resource) throw notFound('Resource');
    if (body.snapshot) pinnedVersion = resource.latestVersion;
  }

  const settings = mergeSettings(policy.defaultSettings, body.settings, policy, type);
  const expiry = expiryRequest(body) ?? { kind: 'default' as const };
  const expiresAt = resolveExpiry(policy, expiry, now);
  const createdBy = actorRef(actor);
  const filter = isCollection ? (body.filter ?? null) : null;
  const accessRole = body.access_role ?? 'viewer';
  const recipientEmail = body.recipient_email?.toLowerCase() ?? null;
  const allowedEmails = (body.allowed_emails ?? []).map((e) => e.toLowerCase());
  const allowedDomains = (body.allowed_domains ?? []).map((d) => d.toLowerCase());

  if (body.reuse_active && !body.password) {
    const candidates = await findReusableLink(db, actor.workspaceId, { resourceType: body.resource_type, resourceId: body.resource_id, createdBy }, now);
    const same = candidates.find(
      (l) =>
        l.passwordHash === null &&
        l.accessRole === accessRole &&
        l.pinnedVersion === pinnedVersion &&
        // Who may open it and how often are part of "the same link": reusing a
        // public link for a request that asked for a recipient check or a view
        // limit would hand out more than was asked for.
        l.maxViews === (body.max_views ?? null) &&
        l.requiresAuth === (body.requires_auth ?? false) &&
        l.recipientEmail === recipientEmail &&
        l.recipientContactId === (body.recipient_contact_id ?? null) &&
        canonicalJson([...l.allowedEmails].sort()) === canonicalJson([...allowedEmails].sort()) &&
        canonicalJson([...l.allowedDomains].sort()) === canonicalJson([...allowedDomains].sort()) &&
        endMeets(l.expiresAt, expiresAt, expiry.kind, now) &&
        canonicalJson(l.filter) === canonicalJson(filter) &&
        canonicalJson(l.settings) === canonicalJson(settings),
    );
    if (same) return { link: same, reused: true };
  }

  const passwordHash = body.password ? await hashPassword(body.password) : null;
  const token = newLinkToken();
  const code = newShortCode();
  const id = newId('lnk', now);
  const row = {
    id,
    workspace_id: actor.workspaceId,
    token_hash: sha256(token),
    short_code_hash: sha256(code),
    token_sealed: ctx.box.seal(token),
    short_code_sealed: ctx.box.seal(code),
    resource_type: body.resource_type,
    resource_id: body.resource_id,
    filter: filter === null ? null : JSON.stringify(filter),
    pinned_version: pinnedVersion,
    access_role: accessRole,
    password_hash: passwordHash,
    requires_auth: body.requires_auth ? 1 : 0,
    recipient_email: recipientEmail,
    recipient_contact_id: body.recipient_contact_id ?? null,
    allowed_emails: JSON.stringify(allowedEmails),
    allowed_domains: JSON.stringify(allowedDomains),
    expires_at: expiresAt,
    max_views: body.max_views ?? null,
    view_count: 0,
    download_count: 0,
    first_viewed_at: null,
    last_viewed_at: null,
    enabled: 1,
    revoked_at: null,
    revoked_by: null,
    settings: JSON.stringify(settings),
    label: body.label ?? null,
    metadata: JSON.stringify(body.metadata ?? {}),
    created_by: createdBy,
    created_at: now,
    updated_at: now,
    grant_epoch: 0,
    event_seq: 0,
    last_event_hash: null,
  };
  await db.transaction().execute(async (tx) => {
    await insertLink(tx, row);
    await appendLinkEvent(
      tx,
      { id, workspaceId: actor.workspaceId },
      { type: 'created', actor: createdBy, metadata: { resource_type: body.resource_type, resource_id: body.resource_id } },
      now,
    );
  });
  return { link: toLink({ ...row, event_seq: 1 }), reused: false };
}
