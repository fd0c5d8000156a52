import { z } from 'zod';
import { ipStorageModes, type WorkspacePolicy } from '../../domain/workspace-policy.js';
import type { Workspace } from '../../storage/workspaces.js';
import { presentSettings, settingsSchema } from './link.js';

export const policySchema = z.object({
  default_expiry_days: z.number(),
  max_expiry_days: z.number().nullable(),
  allow_never_expiring: z.boolean(),
  allow_all_fields: z.boolean(),
  ip_storage: z.enum(ipStorageModes),
  default_settings: settingsSchema,
  link_retention_days: z.number(),
  event_retention_days: z.number(),
});

export const presentPolicy = (p: WorkspacePolicy): z.infer<typeof policySchema> => ({
  default_expiry_days: p.defaultExpiryDays,
  max_expiry_days: p.maxExpiryDays,
  allow_never_expiring: p.allowNeverExpiring,
  allow_all_fields: p.allowAllFields,
  ip_storage: p.ipStorage,
  default_settings: presentSettings(p.defaultSettings),
  link_retention_days: p.linkRetentionDays,
  event_retention_days: p.eventRetentionDays,
});

export const workspaceSchema = z.object({ id: z.string(), name: z.string(), policy: policySchema });

export const presentWorkspace = (w: Workspace): z.infer<typeof workspaceSchema> => ({
  id: w.id,
  name: w.name,
  policy: presentPolicy(w.policy),
});
