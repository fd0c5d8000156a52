import { AppError } from '../domain/errors.js';
import { authorizePublic, type PublicRequest } from './authorize-public.js';
import type { AppContext } from './context.js';
import { isInsideLink, recordContent, recordTablePage, servedVersion, type RecordContent, type TablePage } from './shared-content.js';
import { publicLink, type PublicLink } from './view-shared-link.js';

export type SharedRecord = { link: PublicLink; record: RecordContent; grant: string | null; grantExpiresAt: number | null };

/** Opens one row of a collection link as a record, only when the link allows it and the row lies inside its filter. */
export async function openSharedRecord(ctx: AppContext, req: PublicRequest, resourceId: string): Promise<SharedRecord> {
  const access = await authorizePublic(ctx, req, 'record', {
    // Checked before the view is counted: asking for a row outside the link burns nothing.
    prepare: async (link) => {
      if (!(await isInsideLink(ctx, link, resourceId))) throw new AppError('not_found', 'This record is not part of this share link');
    },
  });
  const { link } = access;
  const version = link.resourceId === null ? null : servedVersion(link);
  const record = await recordContent(ctx, link, resourceId, version);
  return { link: publicLink(link, ctx.now(), access.viewCount), record, grant: access.grant, grantExpiresAt: access.grantExpiresAt };
}

export type SharedRecordTable = { page: TablePage; grant: string | null; grantExpiresAt: number | null };

/** A later page of one table of a record opened from a collection link (same rules as opening the record). */
export async function listSharedRecordTable(
  ctx: AppContext,
  req: PublicRequest,
  resourceId: string,
  key: string,
  cursor: string | undefined,
): Promise<SharedRecordTable> {
  let page!: TablePage;
  const access = await authorizePublic(ctx, req, 'record', {
    prepare: async (link) => {
      if (!(await isInsideLink(ctx, link, resourceId))) throw new AppError('not_found', 'This record is not part of this share link');
      page = await recordTablePage(ctx, link, key, cursor, resourceId);
    },
  });
  return { page, grant: access.grant, grantExpiresAt: access.grantExpiresAt };
}
