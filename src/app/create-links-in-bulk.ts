import type { Actor } from '../domain/actor.js';
import { AppError, isAppError, notFound } from '../domain/errors.js';
import { authorize, canCreateLink } from '../domain/policies.js';
import { findWorkspace } from '../storage/workspaces.js';
import type { AppContext } from './context.js';
import type { CreatedLink } from './create-link.js';
import type { BulkCreateLinksBody } from './link-inputs.js';
import { checkNotification, insertNewLink, newLinkRow, planLink, senderName, type ShareNotice } from './link-creation.js';

/** Runs `fn`, naming the field of an error it throws as the bulk body names it (`template.filter`). */
async function within<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isAppError(e) && typeof e.details?.field === 'string') throw new AppError(e.reason, e.message, { ...e.details, field: `${prefix}.${e.details.field}` });
    throw e;
  }
}

/**
 * `POST /v1/links/bulk`: one link per recipient from one template, each with
 * its own token, short code, view count and audit trail (`created`, and
 * `notified` when the template sends notifications), all written in one
 * transaction: any refused item refuses the whole call, naming the item
 * (`recipients.3.recipient_email`), and nothing is created or mailed.
 * Answered in the recipients' order.
 */
export async function createLinksInBulk(ctx: AppContext, actor: Actor, body: BulkCreateLinksBody): Promise<CreatedLink[]> {
  authorize(canCreateLink(actor), 'create links');
  const { template, recipients } = body;
  const send = template.send_notification;
  if (template.custom_message !== undefined && !send) {
    throw new AppError('invalid_request', 'custom_message is sent only in the recipients\' mail: add "send_notification": true to the template', { field: 'template.custom_message' });
  }
  const firstIndex = new Map<string, number>();
  recipients.forEach((r, i) => {
    const at = `recipients.${i}`;
    checkNotification({ send, message: r.custom_message, recipient: r.recipient_email }, { message: `${at}.custom_message`, recipient: `${at}.recipient_email` });
    const email = r.recipient_email.toLowerCase();
    const first = firstIndex.get(email);
    if (first !== undefined) {
      throw new AppError('invalid_request', `${at} has the address of recipients.${first}: one link per recipient`, { field: `${at}.recipient_email` });
    }
    firstIndex.set(email, i);
  });

  const { db } = ctx.database;
  const now = ctx.now();
  const workspace = await findWorkspace(db, actor.workspaceId);
  if (!workspace) throw notFound('Workspace');
  const plan = await within('template', () => planLink(ctx, actor, workspace.policy, template, now));
  const sender = send ? await senderName(db, actor, workspace) : null;

  const items = recipients.map((r) => ({
    row: newLinkRow(ctx, plan, { email: r.recipient_email.toLowerCase(), contactId: r.recipient_contact_id ?? null }, r.label !== undefined ? r.label : plan.label, now),
    notice:
      sender === null
        ? null
        : ({ sender, sharedName: plan.sharedName, message: r.custom_message ?? template.custom_message ?? null, actor: plan.createdBy } satisfies ShareNotice),
  }));
  const links = await db.transaction().execute(async (tx) => {
    const made = [];
    for (const { row, notice } of items) made.push(await insertNewLink(tx, ctx, row, notice, now));
    return made;
  });
  if (sender !== null) ctx.mail.kick();
  return links.map((link) => ({ link, reused: false, notified: sender !== null }));
}
