import type { Actor } from '../domain/actor.js';
import { notFound } from '../domain/errors.js';
import type { Link } from '../domain/link.js';
import type { Executor } from '../storage/database.js';
import { findLinkById } from '../storage/links.js';
import type { AppContext } from './context.js';

/** A link of the actor's workspace; another workspace's id is simply not found. */
export async function loadLink(db: Executor, actor: Actor, id: string): Promise<Link> {
  const link = await findLinkById(db, actor.workspaceId, id);
  if (!link) throw notFound('Link');
  return link;
}

export async function getLink(ctx: AppContext, actor: Actor, id: string): Promise<Link> {
  return loadLink(ctx.database.db, actor, id);
}
