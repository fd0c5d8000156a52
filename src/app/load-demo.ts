import type { Actor } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import { linkStatus, type Link, type LinkStatus } from '../domain/link.js';
import { findMember, findUserByEmail, firstMembership } from '../storage/accounts.js';
import type { AppContext } from './context.js';
import { createLink } from './create-link.js';
import { demoJobs, demoModels, demoReport, demoTypes, type DemoResource } from './demo-data.js';
import { createLinkBody, type CreateLinkBody } from './link-inputs.js';
import { linkAddresses } from './link-urls.js';
import { listLinks } from './list-links.js';
import { putResourceType } from './put-resource-type.js';
import { putResourceBody, putResourceTypeBody } from './resource-inputs.js';
import { revokeLink } from './revoke-link.js';
import { updateLink } from './update-link.js';
import { upsertResource } from './upsert-resource.js';

export const demoLinkKinds = [
  'plain',
  'snapshot',
  'collection',
  'filtered_collection',
  'short_lived',
  'view_limited',
  'all_fields',
  'disabled',
  'revoked',
] as const;
export type DemoLinkKind = (typeof demoLinkKinds)[number];

/** One demo link as `porthole demo` prints it. */
export type DemoLink = { kind: DemoLinkKind; label: string; link_id: string; url: string; short_url: string; status: LinkStatus };

type LinkPlan = {
  kind: DemoLinkKind;
  label: string;
  target: Pick<CreateLinkBody, 'resource_type' | 'resource_id'>;
  options?: Omit<CreateLinkBody, 'resource_type' | 'resource_id' | 'label' | 'metadata'>;
  /** What the link must end up as: revoked and disabled links are made live first, then switched off. */
  finally?: 'revoke' | 'disable';
};

const job = (id: string) => ({ resource_type: 'job', resource_id: id });
const reportTarget = { resource_type: 'report', resource_id: demoReport.latest.id };
const models = { resource_type: 'model', resource_id: null };

/** Every link kind a newcomer should see, in the order they are printed. */
const linkPlans: LinkPlan[] = [
  { kind: 'plain', label: `${demoJobs.running.title} (running)`, target: job(demoJobs.running.id) },
  { kind: 'snapshot', label: `${demoReport.first.title}: snapshot pinned to version 1`, target: reportTarget, options: { snapshot: true } },
  {
    kind: 'collection',
    label: 'Model inventory (every model, records open)',
    target: models,
    options: { settings: { allow_open_records: true } },
  },
  {
    kind: 'filtered_collection',
    label: 'High-risk models (no export)',
    target: models,
    options: { filter: { risk_tier: 'high' }, settings: { allow_export: false } },
  },
  { kind: 'short_lived', label: `${demoJobs.succeeded.title} (expires in a day)`, target: job(demoJobs.succeeded.id), options: { expires_in_days: 1 } },
  { kind: 'view_limited', label: `${demoReport.latest.title} (3 views)`, target: reportTarget, options: { max_views: 3 } },
  { kind: 'all_fields', label: `${demoJobs.failed.title} failed (all fields, internal notes too)`, target: job(demoJobs.failed.id), options: { settings: { fields: 'all' } } },
  { kind: 'disabled', label: `${demoJobs.failed.title} (disabled)`, target: job(demoJobs.failed.id), finally: 'disable' },
  { kind: 'revoked', label: `${demoJobs.succeeded.title} (revoked)`, target: job(demoJobs.succeeded.id), finally: 'revoke' },
];

async function upsert(ctx: AppContext, actor: Actor, type: string, r: DemoResource): Promise<void> {
  await upsertResource(ctx, actor, type, r.id, putResourceBody.parse({ title: r.title, fields: r.fields, tables: r.tables }));
}

/** The workspace's demo links by kind (newest wins), recognised by `metadata.demo`. */
async function findDemoLinks(ctx: AppContext, actor: Actor): Promise<Map<string, Link>> {
  const found = new Map<string, Link>();
  let cursor: string | undefined;
  do {
    const page = await listLinks(ctx, actor, { includeRevoked: true, cursor, limit: 200 });
    for (const link of page.items) {
      const kind = link.metadata.demo;
      if (typeof kind === 'string' && !found.has(kind)) found.set(kind, link);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return found;
}

/**
 * Whether an earlier run's link still shows what the plan means to show. An
 * active link is kept; a dead one (expired, used up, revoked by hand) is left
 * as history and a fresh one made, so the printed links always work.
 */
function isReusable(plan: LinkPlan, link: Link | undefined, now: number): link is Link {
  if (!link || link.resourceType !== plan.target.resource_type || link.resourceId !== plan.target.resource_id) return false;
  if (plan.finally === 'revoke') return true;
  if (plan.finally === 'disable') return link.revokedAt === null;
  return linkStatus(link, now) === 'active';
}

async function ensureLink(ctx: AppContext, actor: Actor, plan: LinkPlan, earlier: Link | undefined, beforeCreate?: () => Promise<void>): Promise<Link> {
  let link: Link;
  // An earlier link made under another secret cannot show its URL: the demo makes a new one.
  if (isReusable(plan, earlier, ctx.now()) && linkAddresses(ctx, earlier)) {
    link = earlier;
  } else {
    await beforeCreate?.();
    const body = createLinkBody.parse({ ...plan.target, ...plan.options, label: plan.label, metadata: { demo: plan.kind } });
    link = (await createLink(ctx, actor, body)).link;
  }
  if (plan.finally === 'revoke' && link.revokedAt === null) return revokeLink(ctx, actor, link.id);
  if (plan.finally === 'disable' && link.enabled) return updateLink(ctx, actor, link.id, { enabled: false });
  return link;
}

/**
 * Loads the sample jobs, compliance report and model inventory into the
 * actor's workspace, with one link of every kind, and returns those links.
 * Runs again without duplicating: resources have fixed ids and content (so
 * an unchanged one makes no new version), and links are found again by
 * `metadata.demo`.
 */
export async function loadDemo(ctx: AppContext, actor: Actor): Promise<DemoLink[]> {
  for (const [type, declaration] of Object.entries(demoTypes)) {
    await putResourceType(ctx, actor, type, putResourceTypeBody.parse(declaration));
  }
  for (const j of Object.values(demoJobs)) await upsert(ctx, actor, 'job', j);
  for (const m of demoModels()) await upsert(ctx, actor, 'model', m);

  const earlier = await findDemoLinks(ctx, actor);
  const links: Link[] = [];
  for (const plan of linkPlans) {
    if (plan.kind === 'snapshot') {
      // The snapshot must pin the report as first shared, and the report must
      // then move on, so the pinned link visibly shows an older version.
      links.push(await ensureLink(ctx, actor, plan, earlier.get(plan.kind), () => upsert(ctx, actor, 'report', demoReport.first)));
      await upsert(ctx, actor, 'report', demoReport.latest);
    } else {
      links.push(await ensureLink(ctx, actor, plan, earlier.get(plan.kind)));
    }
  }

  const now = ctx.now();
  return links.map((link, i) => {
    // Made or kept under this secret (see ensureLink), so always readable.
    const at = linkAddresses(ctx, link);
    if (!at) throw new Error(`demo link ${link.id} cannot be read under this secret`);
    return { kind: linkPlans[i].kind, label: link.label ?? linkPlans[i].label, link_id: link.id, url: at.url, short_url: at.shortUrl, status: linkStatus(link, now) };
  });
}

/**
 * The member `porthole demo` acts as: the user with this email, in the given
 * workspace or else their first one. Links it makes are theirs in the dashboard.
 */
export async function resolveDemoActor(ctx: AppContext, input: { email: string; workspaceId?: string }): Promise<Actor> {
  const { db } = ctx.database;
  const user = await findUserByEmail(db, input.email.toLowerCase());
  if (!user) throw new AppError('not_found', `No user ${input.email}: pass --email with a workspace member's address`);
  const member = input.workspaceId ? await findMember(db, input.workspaceId, user.id) : await firstMembership(db, user.id);
  if (!member) {
    throw new AppError('not_found', input.workspaceId ? `${input.email} is not a member of workspace ${input.workspaceId}` : `${input.email} belongs to no workspace`);
  }
  return { kind: 'user', workspaceId: member.workspaceId, userId: user.id, role: member.role, email: user.email };
}
