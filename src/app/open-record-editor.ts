import type { EditableField } from '../domain/field-edits.js';
import { authorizePublic, type PublicRequest } from './authorize-public.js';
import type { AppContext } from './context.js';
import { loadEditTarget, type EditTarget } from './shared-record-edits.js';
import { publicLink, type PublicLink } from './view-shared-link.js';

/** What the edit form of a record shows: the fields the link lets the holder change, at the version they start from. */
export type RecordEditor = {
  link: PublicLink;
  recordId: string;
  title: string;
  typeLabel: string;
  version: number;
  fields: EditableField[];
  grant: string | null;
  grantExpiresAt: number | null;
};

/**
 * Opens a record for editing through an editor link (the gate's `edit`:
 * other roles are refused with `forbidden`). Counts a view and hands out a
 * grant when none is held, as opening the record does. `recordId` null is
 * the link's own resource.
 */
export async function openRecordEditor(ctx: AppContext, req: PublicRequest, recordId: string | null): Promise<RecordEditor> {
  let target!: EditTarget;
  const access = await authorizePublic(ctx, req, 'edit', {
    prepare: async (link, hints) => {
      target = await loadEditTarget(ctx, link, recordId, hints);
    },
  });
  return {
    link: publicLink(access.link, ctx.now(), access.viewCount),
    recordId: target.recordId,
    title: target.head.title,
    typeLabel: target.typeLabel,
    version: target.head.latestVersion,
    fields: target.fields,
    grant: access.grant,
    grantExpiresAt: access.grantExpiresAt,
  };
}
