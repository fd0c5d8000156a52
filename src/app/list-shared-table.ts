import { AppError } from '../domain/errors.js';
import { authorizePublic, type PublicRequest } from './authorize-public.js';
import type { AppContext } from './context.js';
import { COLLECTION_TABLE, collectionPage, recordTablePage, type CollectionContent, type TablePage } from './shared-content.js';

export type SharedTable = { page: TablePage | CollectionContent; grant: string | null; grantExpiresAt: number | null };

/** A page of a table: the collection's resources (`items`) or one of the record's tables. */
export async function listSharedTable(ctx: AppContext, req: PublicRequest, key: string, cursor: string | undefined): Promise<SharedTable> {
  const access = await authorizePublic(ctx, req, 'table');
  const { link } = access;
  let page: TablePage | CollectionContent;
  if (link.resourceId === null) {
    if (key !== COLLECTION_TABLE) throw new AppError('not_found', `A collection link has one table: ${COLLECTION_TABLE}`);
    page = await collectionPage(ctx, link, cursor);
  } else {
    page = await recordTablePage(ctx, link, key, cursor);
  }
  return { page, grant: access.grant, grantExpiresAt: access.grantExpiresAt };
}
