import { z } from 'zod';
import { accessRoles } from '../domain/link.js';

/** Names of types, fields and tables: short identifiers, safe in URLs and JSON paths. */
export const keyName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'must be 1-100 letters, digits, _ . - (starting with a letter or digit)');
export const resourceIdParam = z.string().min(1).max(200).regex(/^[^/\s]+$/, 'must not contain / or spaces');

const scalar = z.union([z.string().max(1000), z.number(), z.boolean()]);
export const linkFilter = z
  .record(keyName, z.union([scalar, z.array(scalar).min(1).max(100)]))
  .refine((f) => Object.keys(f).length <= 20, 'at most 20 filter keys');

export const fieldSelection = z.union([z.literal('default'), z.literal('all'), z.array(keyName).min(1).max(200)]);

export const linkSettingsPatch = z
  .object({
    fields: fieldSelection.optional(),
    allow_export: z.boolean().optional(),
    allow_open_records: z.boolean().optional(),
    display_toolbar: z.boolean().optional(),
    notify_on_view: z.boolean().optional(),
  })
  .strict();

const email = z.email().max(320);
const futureDate = z.iso.datetime({ offset: true });
const metadata = z
  .record(z.string().max(100), z.unknown())
  .refine((m) => JSON.stringify(m).length <= 8192, 'metadata must serialise to at most 8 KB');

const accessFields = {
  access_role: z.enum(accessRoles).optional(),
  password: z.string().min(4).max(200).nullable().optional(),
  requires_auth: z.boolean().optional(),
  recipient_email: email.nullable().optional(),
  recipient_contact_id: z.string().min(1).max(200).nullable().optional(),
  allowed_emails: z.array(email).max(100).optional(),
  allowed_domains: z.array(z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'must be a domain name')).max(100).optional(),
  expires_in_days: z.number().int().min(1).max(36500).optional(),
  expires_at: futureDate.nullable().optional(),
  max_views: z.number().int().min(1).max(1_000_000_000).nullable().optional(),
  settings: linkSettingsPatch.optional(),
  label: z.string().max(200).nullable().optional(),
  metadata: metadata.optional(),
};

/** Mailing the recipient when a link is made (DESIGN §5). */
const notificationFields = {
  send_notification: z
    .boolean()
    .optional()
    .describe(
      'Mail the link to its recipient_email (required then), in the same transaction as the link: who shared it, what, the custom_message, the URL and its expiry. Never the password. A notified event is written on the link.',
    ),
  custom_message: z.string().min(1).max(2000).optional().describe('A note quoted in the mail; only with send_notification.'),
};

export const createLinkBody = z
  .object({
    resource_type: keyName,
    resource_id: resourceIdParam.nullable(),
    filter: linkFilter.nullable().optional(),
    snapshot: z.boolean().optional(),
    reuse_active: z
      .boolean()
      .optional()
      .describe(
        "Return the caller's active link to the same target with the same access instead of a new one (200). An explicit expires_at must match; a default or expires_in_days is met by a link that ends no later than asked and has at least half of the asked time left. Never for password links. With send_notification, the recipient is mailed the reused link (and a notified event written on it).",
      ),
    ...accessFields,
    ...notificationFields,
  })
  .strict();
export type CreateLinkBody = z.infer<typeof createLinkBody>;

/** What every link of a bulk call shares: a create body without its recipient, and never a reused link. */
export const linkTemplate = createLinkBody
  .omit({ reuse_active: true, recipient_email: true, recipient_contact_id: true })
  .describe('Settings every link gets: as POST /v1/links, without reuse_active and the recipient fields. label and custom_message are defaults a recipient may override.');
export type LinkTemplate = z.infer<typeof linkTemplate>;

export const bulkRecipient = z
  .object({
    recipient_email: email,
    recipient_contact_id: z.string().min(1).max(200).nullable().optional(),
    label: z.string().max(200).nullable().optional().describe("This link's label instead of the template's."),
    custom_message: notificationFields.custom_message.describe("This recipient's note instead of the template's; only with template.send_notification."),
  })
  .strict();

/** Bulk creation tops out here: one transaction, one request body. */
export const MAX_BULK_LINKS = 100;

export const bulkCreateLinksBody = z
  .object({
    template: linkTemplate,
    recipients: z
      .array(bulkRecipient)
      .min(1)
      .max(MAX_BULK_LINKS)
      .describe(`One link per recipient (1 to ${MAX_BULK_LINKS}, each address once), answered in this order.`),
  })
  .strict()
  .describe('One link per recipient, each with its own token, short code, view count and audit trail, all created in one transaction or none.');
export type BulkCreateLinksBody = z.infer<typeof bulkCreateLinksBody>;

export const updateLinkBody = z
  .object({ ...accessFields, enabled: z.boolean().optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'the body must change at least one field');
export type UpdateLinkBody = z.infer<typeof updateLinkBody>;
