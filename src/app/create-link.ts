import type { Actor } from '../domain/actor.js';
import { notFound } from '../domain/errors.js';
import type { Link } from '../domain/link.js';
import { authorize, canCreateLink } from '../domain/policies.js';
import { canonicalJson } from '../domain/resource.js';
import type { ExpiryRequest } from '../domain/workspace-policy.js';
import type { Executor } from '../storage/database.js';
import { findReusableLink } from '../storage/links.js';
import { findWorkspace } from '../storage/workspaces.js';
import type { AppContext } from './context.js';
import type { CreateLinkBody } from './link-inputs.js';
import { checkNotification, insertNewLink, newLinkRow, notifyRecipient, planLink, senderName, type LinkPlan, type LinkRecipient, type ShareNotice } from './link-creation.js';
import { linkAddresses } from './link-urls.js';

/** A link as `POST /v1/links` made (or reused) it, and whether its recipient was mailed. */
export type CreatedLink = { link: Link; reused: boolean; notified: boolean };

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

/** The caller's active link for the same target that grants exactly what the plan asks for, if any. */
async function findSameActiveLink(db: Executor, plan: LinkPlan, recipient: LinkRecipient, now: number): Promise<Link | null> {
  const candidates = await findReusableLink(db, plan.workspaceId, { resourceType: plan.resourceType, resourceId: plan.resourceId, createdBy: plan.createdBy }, now);
  const sorted = (list: string[]) => canonicalJson([...list].sort());
  return (
    candidates.find(
      (l) =>
        l.passwordHash === null &&
        l.accessRole === plan.accessRole &&
        l.pinnedVersion === plan.pinnedVersion &&
        // Who may open it and how often are part of "the same link": reusing a
        // public link for a request that asked for a recipient check or a view
        // limit would hand out more than was asked for.
        l.maxViews === plan.maxViews &&
        l.requiresAuth === plan.requiresAuth &&
        l.recipientEmail === recipient.email &&
        l.recipientContactId === recipient.contactId &&
        sorted(l.allowedEmails) === sorted(plan.allowedEmails) &&
        sorted(l.allowedDomains) === sorted(plan.allowedDomains) &&
        endMeets(l.expiresAt, plan.expiresAt, plan.expiry.kind, now) &&
        canonicalJson(l.filter) === canonicalJson(plan.filter) &&
        canonicalJson(l.settings) === canonicalJson(plan.settings),
    ) ?? null
  );
}

/**
 * Creates a link under the workspace policy, or with `reuse_active` hands back
 * the caller's active link for the same target and settings. With
 * `send_notification` the recipient's mail and the `notified` event are
 * written in the transaction that creates the link. A reused link is mailed
 * too when the request asks for it (and gets its own `notified` event): the
 * caller asked for the recipient to hold this link, and a reused one is the
 * link they are given; without the flag, reusing mails no one.
 */
export async function createLink(ctx: AppContext, actor: Actor, body: CreateLinkBody): Promise<CreatedLink> {
  authorize(canCreateLink(actor), 'create links');
  checkNotification(
    { send: body.send_notification, message: body.custom_message, recipient: body.recipient_email },
    { message: 'custom_message', recipient: 'recipient_email' },
  );
  const { db } = ctx.database;
  const now = ctx.now();
  const workspace = await findWorkspace(db, actor.workspaceId);
  if (!workspace) throw notFound('Workspace');

  const plan = await planLink(ctx, actor, workspace.policy, body, now);
  const recipient: LinkRecipient = { email: body.recipient_email?.toLowerCase() ?? null, contactId: body.recipient_contact_id ?? null };
  const notice: ShareNotice | null = body.send_notification
    ? { sender: await senderName(db, actor, workspace), sharedName: plan.sharedName, message: body.custom_message ?? null, actor: plan.createdBy }
    : null;

  if (body.reuse_active && !body.password) {
    const found = await findSameActiveLink(db, plan, recipient, now);
    // One made under another secret cannot show or send its URL: a new link is made instead.
    const same = found && linkAddresses(ctx, found) ? found : null;
    if (same && !notice) return { link: same, reused: true, notified: false };
    if (same && notice) {
      const notified = await db.transaction().execute((tx) => notifyRecipient(tx, ctx, same, notice, now));
      if (notified) {
        ctx.mail.kick();
        return { link: notified, reused: true, notified: true };
      }
      // It stopped passing (revoked, disabled, expired) since it was read: a new link is made instead.
    }
  }

  const row = newLinkRow(ctx, plan, recipient, plan.label, now);
  const link = await db.transaction().execute((tx) => insertNewLink(tx, ctx, row, notice, now));
  if (notice) ctx.mail.kick();
  return { link, reused: false, notified: notice !== null };
}
