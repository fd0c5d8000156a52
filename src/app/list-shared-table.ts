import { AppError } from '../domain/errors.js';
import type { Link } from '../domain/link.js';
import { authorizePublic, type PublicRequest } from './authorize-public.js';
import type { AppContext } from './context.js';
import { COLLECTION_TABLE, collectionPage, recordTablePage, type CollectionContent, type TablePage } from './shared-content.js';

export type SharedTable = { page: TablePage | CollectionContent; grant: string | null; grantExpiresAt: number | null };

function readPage(ctx: AppContext, link: Link, key: string, cursor: string | undefined): Promise<TablePage | CollectionContent> {
  if (link.resourceId === null) {
    if (key !== COLLECTION_TABLE) throw new AppError('not_found', `A collection link has one table: ${COLLECTION_TABLE}`);
    return collectionPage(ctx, link, cursor);
  }
  return recordTablePage(ctx, link, key, cursor);
}

/** A page of a table: the collection's resources (`items`) or one of the record's tables. */
export async function listSharedTable(ctx: AppContext, req: PublicRequest, key: string, cursor: string | undefined): Promise<SharedTable> {
  let page!: TablePage | CollectionContent;
  // The page is read before the view is counted: an unknown table or a bad cursor burns nothing.
  const access = await authorizePublic(ctx, req, 'table', {
    prepare: async (link) => {
      page = await readPage(ctx, link, key, cursor);
    },
  });
  return { page, grant: access.grant, grantExpiresAt: access.grantExpiresAt };
}
