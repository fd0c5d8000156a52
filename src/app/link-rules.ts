import { AppError } from '../domain/errors.js';
import type { LinkSettings } from '../domain/link.js';
import type { ResourceType } from '../domain/resource.js';
import { checkFieldSelection, resolveExpiry, type ExpiryRequest, type WorkspacePolicy } from '../domain/workspace-policy.js';
import type { UpdateLinkBody } from './link-inputs.js';

/** Reads the expiry a create or patch body asks for; both forms at once is a contradiction. */
export function expiryRequest(body: Pick<UpdateLinkBody, 'expires_in_days' | 'expires_at'>): ExpiryRequest | null {
  if (body.expires_in_days !== undefined && body.expires_at !== undefined) {
    throw new AppError('invalid_request', 'Give expires_in_days or expires_at, not both', { field: 'expires_at' });
  }
  if (body.expires_in_days !== undefined) return { kind: 'days', days: body.expires_in_days };
  if (body.expires_at === null) return { kind: 'never' };
  if (body.expires_at !== undefined) return { kind: 'at', at: Date.parse(body.expires_at) };
  return null;
}

/** Merges a settings patch (snake_case, from the API) over current settings and checks it against policy and type. */
export function mergeSettings(
  current: LinkSettings,
  patch: UpdateLinkBody['settings'],
  policy: WorkspacePolicy,
  type: ResourceType,
): LinkSettings {
  const next: LinkSettings = {
    fields: patch?.fields ?? current.fields,
    allowExport: patch?.allow_export ?? current.allowExport,
    allowOpenRecords: patch?.allow_open_records ?? current.allowOpenRecords,
    displayToolbar: patch?.display_toolbar ?? current.displayToolbar,
    notifyOnView: patch?.notify_on_view ?? current.notifyOnView,
  };
  checkFieldSelection(policy, next);
  if (Array.isArray(next.fields) && type.declared) {
    const known = new Set(['id', 'title', 'updated_at', ...type.fields.map((f) => f.key)]);
    const unknown = next.fields.filter((k) => !known.has(k));
    if (unknown.length) {
      throw new AppError('invalid_request', `Unknown field(s) for type ${type.type}: ${unknown.join(', ')}`, {
        field: 'settings.fields',
      });
    }
  }
  return next;
}

export { resolveExpiry };
