import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { linkAddresses } from '../../app/link-urls.js';
import type { Actor } from '../../domain/actor.js';
import { accessRoles, linkStatus, linkStatuses, type Link, type LinkSettings } from '../../domain/link.js';
import { linkPermissionsFor } from '../../domain/policies.js';
import { iso } from './common.js';

export const settingsSchema = z.object({
  fields: z.union([z.literal('default'), z.literal('all'), z.array(z.string())]),
  allow_export: z.boolean(),
  allow_open_records: z.boolean(),
  display_toolbar: z.boolean(),
  notify_on_view: z.boolean(),
});

export const presentSettings = (s: LinkSettings): z.infer<typeof settingsSchema> => ({
  fields: s.fields,
  allow_export: s.allowExport,
  allow_open_records: s.allowOpenRecords,
  display_toolbar: s.displayToolbar,
  notify_on_view: s.notifyOnView,
});

export const linkSchema = z.object({
  id: z.string(),
  // Null when this instance's PORTHOLE_SECRET is not the one the link was made under: it still opens, but its URL cannot be read back (rotate it for a new one).
  url: z.string().nullable().describe('The page the token opens. Null when this instance runs under another PORTHOLE_SECRET than the link was made under: the link still opens, its URL cannot be shown again; rotate it for a new one.'),
  short_url: z.string().nullable(),
  token: z.string().nullable(),
  short_code: z.string().nullable(),
  status: z.enum(linkStatuses),
  resource_type: z.string(),
  resource_id: z.string().nullable(),
  filter: z.record(z.string(), z.unknown()).nullable(),
  pinned_version: z.number().nullable(),
  access_role: z.enum(accessRoles),
  has_password: z.boolean(),
  requires_auth: z.boolean(),
  recipient_email: z.string().nullable(),
  recipient_contact_id: z.string().nullable(),
  allowed_emails: z.array(z.string()),
  allowed_domains: z.array(z.string()),
  expires_at: z.string().nullable(),
  max_views: z.number().nullable(),
  view_count: z.number(),
  download_count: z.number(),
  first_viewed_at: z.string().nullable(),
  last_viewed_at: z.string().nullable(),
  enabled: z.boolean(),
  revoked_at: z.string().nullable(),
  revoked_by: z.string().nullable(),
  settings: settingsSchema,
  label: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  permissions: z.object({ can_update: z.boolean(), can_revoke: z.boolean() }),
});
export type LinkView = z.infer<typeof linkSchema>;

/** A link as creating it answers: whether its recipient was mailed (`send_notification`) besides. */
export const createdLinkSchema = linkSchema.extend({
  notified: z.boolean().describe('Whether this call queued the mail to recipient_email (and wrote a notified event).'),
});

/** A link as its owners see it, token and code decrypted so they can copy it again. */
export function presentLink(ctx: AppContext, actor: Actor, link: Link): LinkView {
  const at = linkAddresses(ctx, link);
  return {
    id: link.id,
    url: at?.url ?? null,
    short_url: at?.shortUrl ?? null,
    token: at?.token ?? null,
    short_code: at?.code ?? null,
    status: linkStatus(link, ctx.now()),
    resource_type: link.resourceType,
    resource_id: link.resourceId,
    filter: link.filter,
    pinned_version: link.pinnedVersion,
    access_role: link.accessRole,
    has_password: link.passwordHash !== null,
    requires_auth: link.requiresAuth,
    recipient_email: link.recipientEmail,
    recipient_contact_id: link.recipientContactId,
    allowed_emails: link.allowedEmails,
    allowed_domains: link.allowedDomains,
    expires_at: iso(link.expiresAt),
    max_views: link.maxViews,
    view_count: link.viewCount,
    download_count: link.downloadCount,
    first_viewed_at: iso(link.firstViewedAt),
    last_viewed_at: iso(link.lastViewedAt),
    enabled: link.enabled,
    revoked_at: iso(link.revokedAt),
    revoked_by: link.revokedBy,
    settings: presentSettings(link.settings),
    label: link.label,
    metadata: link.metadata,
    created_by: link.createdBy,
    created_at: iso(link.createdAt) as string,
    updated_at: iso(link.updatedAt) as string,
    permissions: linkPermissionsFor(actor, link),
  };
}
