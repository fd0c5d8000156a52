import type { Link } from '../domain/link.js';
import type { OutgoingMail } from '../storage/outbox.js';
import { oneLine } from './mail-text.js';

/** What the recipient's mail says besides the link itself. */
export type LinkSharedMailInput = {
  /** The link as created (or reused); its `recipientEmail` is the address mailed. */
  link: Link;
  /** The page the link opens: the secret this mail exists to deliver. */
  url: string;
  /** Who shared it, as the recipient knows them: a member's name and address, or the workspace's name for an API key. */
  sender: string;
  /** What it shares: the resource's title, or the type's label for a collection. */
  sharedName: string;
  message: string | null;
};

/** The kind the outbox and the `notified` event record for this mail. */
export const LINK_SHARED = 'link_shared';

const when = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });

/** A note quoted line by line, with control characters other than line breaks and tabs dropped. */
const quote = (message: string): string =>
  message
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]+/g, '')
    .split('\n')
    .map((line) => (line ? `> ${line}` : '>'))
    .join('\n');

/**
 * The mail that hands a recipient their link (`send_notification`): who shared
 * what, their note quoted, the URL, how long and how often it works, and what
 * it will ask for. It never holds the password: that travels another way.
 * The outbox drops the text once the mail is sent, so the URL does not stay there.
 */
export function linkSharedMail({ link, url, sender, sharedName, message }: LinkSharedMailInput): OutgoingMail {
  if (!link.recipientEmail) throw new Error('linkSharedMail: the link has no recipient');
  const what = link.label && link.label !== sharedName ? `“${link.label}” (${sharedName})` : `“${link.label ?? sharedName}”`;
  const terms = [
    link.expiresAt === null ? 'The link does not expire.' : `The link works until ${when.format(link.expiresAt)} UTC.`,
    ...(link.maxViews !== null ? [`It can be opened ${link.maxViews} ${link.maxViews === 1 ? 'time' : 'times'}.`] : []),
    ...(link.passwordHash !== null ? [`It asks for a password, which is not in this mail: ask ${sender} for it.`] : []),
    ...(link.requiresAuth
      ? [`It asks you to confirm your email address: when you open it, a one-time code is mailed to ${link.recipientEmail}.`]
      : ['Anyone who has this link can open it, so please do not forward it.']),
  ];
  const text = [
    `${sender} shared ${what} with you.`,
    ...(message ? ['', `${sender} wrote:`, '', quote(message)] : []),
    '',
    'Open it here:',
    url,
    '',
    ...terms,
    '',
  ].join('\n');
  return {
    workspaceId: link.workspaceId,
    kind: LINK_SHARED,
    to: link.recipientEmail,
    subject: oneLine(`${sender} shared “${link.label ?? sharedName}” with you`, 200),
    text,
  };
}
