import { z } from 'zod';
import { memberRoles } from '../../domain/actor.js';
import type { ApiKey } from '../../storage/accounts.js';
import { iso } from './common.js';

/** A key as listed: identified by its prefix; the secret and its hash never leave the server. */
export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(memberRoles),
  prefix: z.string(),
  created_by: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});

export const presentApiKey = (k: ApiKey): z.infer<typeof apiKeySchema> => ({
  id: k.id,
  name: k.name,
  role: k.role,
  prefix: k.prefix,
  created_by: k.createdBy,
  created_at: iso(k.createdAt) as string,
  last_used_at: iso(k.lastUsedAt),
  revoked_at: iso(k.revokedAt),
});

export const createdApiKeySchema = apiKeySchema.extend({
  key: z.string().describe('The full key, shown this once; store it now'),
});
