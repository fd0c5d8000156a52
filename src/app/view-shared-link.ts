import { linkStatus, type AccessRole, type Link } from '../domain/link.js';
import { authorizePublic, type PublicRequest } from './authorize-public.js';
import type { AppContext } from './context.js';
import { collectionPage, recordContent, servedVersion, type CollectionContent, type RecordContent } from './shared-content.js';

/** What a link holder may do, for clients and pages to show the right controls. */
export type PublicPermissions = { export: boolean; openRecords: boolean; comment: boolean; edit: boolean };

/** The public face of a link: nothing a recipient should not learn. */
export type PublicLink = {
  id: string;
  accessRole: AccessRole;
  status: ReturnType<typeof linkStatus>;
  expiresAt: number | null;
  viewCount: number;
  maxViews: number | null;
  label: string | null;
  displayToolbar: boolean;
  permissions: PublicPermissions;
};

export type SharedView = {
  link: PublicLink;
  content: RecordContent | CollectionContent;
  grant: string | null;
  grantExpiresAt: number | null;
};

export function publicLink(link: Link, now: number, viewCount = link.viewCount): PublicLink {
  return {
    id: link.id,
    accessRole: link.accessRole,
    status: linkStatus({ ...link, viewCount: Math.min(viewCount, link.viewCount) }, now),
    expiresAt: link.expiresAt,
    viewCount,
    maxViews: link.maxViews,
    label: link.label,
    displayToolbar: link.settings.displayToolbar,
    permissions: {
      export: link.settings.allowExport,
      openRecords: link.settings.allowOpenRecords && link.resourceId === null,
      comment: link.accessRole !== 'viewer',
      // A snapshot stays as it was: an editor link pinned to one cannot edit.
      edit: link.accessRole === 'editor' && link.pinnedVersion === null,
    },
  };
}

/** Opens a link: counts the view (unless a grant covers it) and returns the projected content and a grant. */
export async function viewSharedLink(ctx: AppContext, req: PublicRequest): Promise<SharedView> {
  const access = await authorizePublic(ctx, req, 'view');
  const { link } = access;
  const content =
    link.resourceId === null
      ? await collectionPage(ctx, link, undefined)
      : await recordContent(ctx, link, link.resourceId, servedVersion(link), access.hints);
  return { link: publicLink(link, ctx.now(), access.viewCount), content, grant: access.grant, grantExpiresAt: access.grantExpiresAt };
}
