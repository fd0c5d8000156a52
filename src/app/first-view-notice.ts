import { memberOf } from '../domain/actor.js';
import type { Link } from '../domain/link.js';
import { findUserById } from '../storage/accounts.js';
import type { Executor } from '../storage/database.js';
import { appendLinkEvent } from '../storage/events.js';
import { enqueueMail } from '../storage/outbox.js';
import { oneLine } from './mail-text.js';
import { sharedName } from './shared-name.js';

/**
 * What the ledger needs to tell a link's creator of its first view: plain
 * data, as it crosses to the writer thread with the view.
 */
export type FirstViewNotice = {
  userId: string;
  label: string | null;
  resourceType: string;
  resourceId: string | null;
  publicUrl: string;
};

/**
 * The notice a view carries when it may be the link's first (its lookup read
 * no view yet) and the link's creator, a member, asked for it
 * (`notify_on_view`). Links made by API keys tell nobody.
 */
export function firstViewNotice(link: Link, publicUrl: string): FirstViewNotice | undefined {
  const userId = memberOf(link.createdBy);
  if (!link.settings.notifyOnView || link.viewCount > 0 || userId === null) return undefined;
  return { userId, label: link.label, resourceType: link.resourceType, resourceId: link.resourceId, publicUrl };
}

/**
 * Queues the creator's mail and writes `notified`, in the transaction that
 * counted the link's first view. False when there is no one to tell (the
 * member is gone).
 */
export async function queueFirstViewNotice(
  tx: Executor,
  link: { id: string; workspaceId: string },
  notice: FirstViewNotice,
  viewer: { email?: string | null },
  now: number,
): Promise<boolean> {
  const owner = await findUserById(tx, notice.userId);
  if (!owner) return false;
  const shared = await sharedName(tx, { workspaceId: link.workspaceId, resourceType: notice.resourceType, resourceId: notice.resourceId });
  const name = notice.label ?? shared;
  const who = viewer.email ? `${viewer.email} (a verified address)` : 'Someone';
  const text = [
    `${who} just opened your share link “${name}”${notice.label ? ` (${shared})` : ''} for the first time, at ${new Date(now).toISOString().replace('T', ' ').slice(0, 16)} UTC.`,
    '',
    `Every access to it is recorded at ${notice.publicUrl}/v1/links/${link.id}/events.`,
    '',
    'You get this mail because the link was created with notify_on_view.',
    '',
  ].join('\n');
  await enqueueMail(tx, { workspaceId: link.workspaceId, kind: 'first_view_notice', to: owner.email, subject: oneLine(`First view of “${name}”`, 200), text }, now);
  await appendLinkEvent(tx, link, { type: 'notified', metadata: { kind: 'first_view_notice', to: `user:${notice.userId}` } }, now);
  return true;
}
