import { z } from 'zod';
import { memberRoles } from '../domain/actor.js';
import { ipStorageModes, retentionBounds } from '../domain/workspace-policy.js';
import { linkSettingsPatch } from './link-inputs.js';

/**
 * Any stored email may sign in, so login takes a plain string rather than
 * re-validating the address format (an account created by the CLI must not be locked out).
 */
export const loginBody = z
  .object({
    email: z.string().trim().min(3).max(320),
    password: z.string().min(1).max(1000),
  })
  .strict();
export type LoginBody = z.infer<typeof loginBody>;

/** A password a person will choose or be given for their account. */
export const accountPassword = z.string().min(8, 'must be at least 8 characters').max(200);

export const addMemberBody = z
  .object({
    email: z.email().max(320),
    role: z.enum(memberRoles),
    /** Only for a new account; without it a password is generated and returned once. */
    password: accountPassword.optional(),
  })
  .strict();
export type AddMemberBody = z.infer<typeof addMemberBody>;

export const updateMemberBody = z.object({ role: z.enum(memberRoles) }).strict();
export type UpdateMemberBody = z.infer<typeof updateMemberBody>;

/** Keys never hold the owner role: ownership belongs to a person. */
export const apiKeyRoles = ['admin', 'member'] as const;

export const createApiKeyBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    role: z.enum(apiKeyRoles).default('member'),
  })
  .strict();
export type CreateApiKeyBody = z.infer<typeof createApiKeyBody>;

const days = z.number().int().min(1).max(36500);

export const policyPatch = z
  .object({
    default_expiry_days: days.optional(),
    max_expiry_days: days.nullable().optional(),
    allow_never_expiring: z.boolean().optional(),
    allow_all_fields: z.boolean().optional(),
    ip_storage: z.enum(ipStorageModes).optional(),
    default_settings: linkSettingsPatch.optional(),
    link_retention_days: z.number().int().min(retentionBounds.linkRetentionDays.min).max(retentionBounds.linkRetentionDays.max).optional(),
    event_retention_days: z.number().int().min(retentionBounds.eventRetentionDays.min).max(retentionBounds.eventRetentionDays.max).optional(),
  })
  .strict();
export type PolicyPatch = z.infer<typeof policyPatch>;

export const updateWorkspaceBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    policy: policyPatch.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'the body must change at least one field');
export type UpdateWorkspaceBody = z.infer<typeof updateWorkspaceBody>;
