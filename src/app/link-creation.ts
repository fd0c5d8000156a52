import { actorRef, type Actor } from '../domain/actor.js';
import { AppError, notFound } from '../domain/errors.js';
import type { AuditEvent } from '../domain/event.js';
import { newId } from '../domain/ids.js';
import type { Link } from '../domain/link.js';
import { hashPassword } from '../domain/passwords.js';
import { newLinkToken, newShortCode, sha256 } from '../domain/tokens.js';
import { resolveExpiry, type ExpiryRequest, type WorkspacePolicy } from '../domain/workspace-policy.js';
import { findMember } from '../storage/accounts.js';
import type { Executor } from '../storage/database.js';
import { appendLinkEvent, appendLiveLinkEvent } from '../storage/events.js';
import { insertLink, toLink, type LinkRow } from '../storage/links.js';
import { enqueueMail } from '../storage/outbox.js';
import { findResource, isKnownType, resourceTypeOrDefault } from '../storage/resources.js';
import type { Workspace } from '../storage/workspaces.js';
import type { AppContext } from './context.js';
import type { LinkTemplate } from './link-inputs.js';
import { expiryRequest, mergeSettings } from './link-rules.js';
import { LINK_SHARED, linkSharedMail } from './link-shared-mail.js';
import { linkAddresses } from './link-urls.js';

/**
 * What creating a link shares between `POST /v1/links` and `/v1/links/bulk`:
 * a body checked against the workspace once (planLink), a row with its own
 * secrets per link (newLinkRow), and the writes of one link inside the
 * caller's transaction (insertNewLink, notifyRecipient).
 */

/** A link's target, access and lifetime, checked against the workspace: everything but its secrets and recipient. */
export type LinkPlan = Pick<
  Link,
  | 'workspaceId'
  | 'resourceType'
  | 'resourceId'
  | 'filter'
  | 'pinnedVersion'
  | 'accessRole'
  | 'passwordHash'
  | 'requiresAuth'
  | 'allowedEmails'
  | 'allowedDomains'
  | 'expiresAt'
  | 'maxViews'
  | 'settings'
  | 'label'
  | 'metadata'
  | 'createdBy'
> & {
  expiry: ExpiryRequest;
  /** What the link shares, for people reading a mail: the resource's title, or the type's label for a collection. */
  sharedName: string;
};

/** Who a link is for (DESIGN §3): an address (stored lower-case) and the app's own contact id. */
export type LinkRecipient = { email: string | null; contactId: string | null };

/** The recipient's mail to queue with a link: who shares it and their note. */
export type ShareNotice = { sender: string; sharedName: string; message: string | null; actor: string };

/**
 * Checks a body's target, filter, snapshot, settings and expiry against the
 * workspace and its policy, and hashes its password: the work every link made
 * from the body shares.
 */
export async function planLink(ctx: AppContext, actor: Actor, policy: WorkspacePolicy, body: LinkTemplate, now: number): Promise<LinkPlan> {
  const { db } = ctx.database;
  const isCollection = body.resource_id === null;
  if (!isCollection && body.filter) {
    throw new AppError('invalid_request', 'A filter applies only to collection links (resource_id: null)', { field: 'filter' });
  }
  const type = await resourceTypeOrDefault(db, actor.workspaceId, body.resource_type);
  let pinnedVersion: number | null = null;
  let sharedName: string;
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
    sharedName = type.label;
  } else {
    const resource = await findResource(db, actor.workspaceId, body.resource_type, body.resource_id as string);
    if (!resource) throw notFound('Resource');
    if (body.snapshot) pinnedVersion = resource.latestVersion;
    sharedName = resource.title;
  }

  const settings = mergeSettings(policy.defaultSettings, body.settings, policy, type);
  const expiry = expiryRequest(body) ?? { kind: 'default' as const };
  return {
    workspaceId: actor.workspaceId,
    resourceType: body.resource_type,
    resourceId: body.resource_id,
    filter: isCollection ? (body.filter ?? null) : null,
    pinnedVersion,
    accessRole: body.access_role ?? 'viewer',
    passwordHash: body.password ? await hashPassword(body.password) : null,
    requiresAuth: body.requires_auth ?? false,
    allowedEmails: (body.allowed_emails ?? []).map((e) => e.toLowerCase()),
    allowedDomains: (body.allowed_domains ?? []).map((d) => d.toLowerCase()),
    expiry,
    expiresAt: resolveExpiry(policy, expiry, now),
    maxViews: body.max_views ?? null,
    settings,
    label: body.label ?? null,
    metadata: body.metadata ?? {},
    createdBy: actorRef(actor),
    sharedName,
  };
}

/**
 * Refuses a notification that cannot be sent, before anything is read or
 * written: `send_notification` needs a recipient address, and a
 * `custom_message` is only ever sent in that mail. `fields` name the request's
 * fields as the caller knows them (a bulk item's carry its index).
 */
export function checkNotification(
  request: { send: boolean | undefined; message: string | undefined; recipient: string | null | undefined },
  fields: { message: string; recipient: string },
): void {
  if (request.message !== undefined && !request.send) {
    throw new AppError('invalid_request', 'custom_message is sent only in the recipient\'s mail: add "send_notification": true', { field: fields.message });
  }
  if (request.send && !request.recipient) {
    throw new AppError('invalid_request', 'send_notification mails the recipient: give a recipient_email', { field: fields.recipient });
  }
}

/** How the recipient knows who shared with them: a member's name and address, or the workspace's name for an API key (and the app user it acts for). */
export async function senderName(db: Executor, actor: Actor, workspace: Workspace): Promise<string> {
  if (actor.kind === 'api_key') return workspace.name;
  const member = await findMember(db, actor.workspaceId, actor.userId);
  return member?.name ? `${member.name} (${actor.email})` : actor.email;
}

/** A new link from a plan: its own id, token and short code (stored hashed and sealed), for one recipient. */
export function newLinkRow(ctx: Pick<AppContext, 'box'>, plan: LinkPlan, recipient: LinkRecipient, label: string | null, now: number): LinkRow {
  const token = newLinkToken();
  const code = newShortCode();
  return {
    id: newId('lnk', now),
    workspace_id: plan.workspaceId,
    token_hash: sha256(token),
    short_code_hash: sha256(code),
    token_sealed: ctx.box.seal(token),
    short_code_sealed: ctx.box.seal(code),
    resource_type: plan.resourceType,
    resource_id: plan.resourceId,
    filter: plan.filter === null ? null : JSON.stringify(plan.filter),
    pinned_version: plan.pinnedVersion,
    access_role: plan.accessRole,
    password_hash: plan.passwordHash,
    requires_auth: plan.requiresAuth ? 1 : 0,
    recipient_email: recipient.email,
    recipient_contact_id: recipient.contactId,
    allowed_emails: JSON.stringify(plan.allowedEmails),
    allowed_domains: JSON.stringify(plan.allowedDomains),
    expires_at: plan.expiresAt,
    max_views: plan.maxViews,
    view_count: 0,
    download_count: 0,
    first_viewed_at: null,
    last_viewed_at: null,
    enabled: 1,
    revoked_at: null,
    revoked_by: null,
    settings: JSON.stringify(plan.settings),
    label,
    metadata: JSON.stringify(plan.metadata),
    created_by: plan.createdBy,
    created_at: now,
    updated_at: now,
    grant_epoch: 0,
    event_seq: 0,
    last_event_hash: null,
  };
}

const withHead = (link: Link, event: AuditEvent): Link => ({ ...link, eventSeq: event.seq ?? link.eventSeq, lastEventHash: event.hash });

/**
 * Queues the recipient's mail (`link_shared`, holding the link's URL) and
 * writes its `notified` event (the kind and address; never the note or the
 * token), in the caller's transaction. Only while the link still passes (not
 * revoked, disabled, expired or rotated since it was read): null then, and
 * nothing is queued. The caller kicks the mail dispatcher after commit.
 */
export async function notifyRecipient(tx: Executor, ctx: Pick<AppContext, 'box' | 'config'>, link: Link, notice: ShareNotice, now: number): Promise<Link | null> {
  if (!link.recipientEmail) throw new Error('notifyRecipient: the link has no recipient');
  const event = await appendLiveLinkEvent(tx, link, { type: 'notified', actor: notice.actor, metadata: { kind: LINK_SHARED, to: link.recipientEmail } }, now);
  if (!event) return null;
  const at = linkAddresses(ctx, link);
  // A link made under another secret has no URL to send (createLink does not reuse one).
  if (!at) throw new Error(`notifyRecipient: link ${link.id} cannot be read under this secret`);
  const mail = linkSharedMail({ link, url: at.url, sender: notice.sender, sharedName: notice.sharedName, message: notice.message });
  await enqueueMail(tx, mail, now);
  return withHead(link, event);
}

/** Writes a new link and its `created` event, and with a notice its recipient's mail and `notified` event, in the caller's transaction. */
export async function insertNewLink(tx: Executor, ctx: Pick<AppContext, 'box' | 'config'>, row: LinkRow, notice: ShareNotice | null, now: number): Promise<Link> {
  await insertLink(tx, row);
  const created = await appendLinkEvent(
    tx,
    { id: row.id, workspaceId: row.workspace_id },
    { type: 'created', actor: row.created_by, metadata: { resource_type: row.resource_type, resource_id: row.resource_id } },
    now,
  );
  const link = withHead(toLink(row), created);
  if (!notice) return link;
  const notified = await notifyRecipient(tx, ctx, link, notice, now);
  if (!notified) throw new Error('insertNewLink: a link just created does not pass');
  return notified;
}
