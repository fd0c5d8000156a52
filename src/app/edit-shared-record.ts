import type { FieldValue } from '../domain/resource.js';
import { authorizePublic, type PublicAccess, type PublicRequest } from './authorize-public.js';
import type { AppContext } from './context.js';
import { recordContent, type RecordContent } from './shared-content.js';
import { hashWithFields, loadEditTarget, planEdit, type EditPlan, type EditTarget } from './shared-record-edits.js';
import { publicLink, type PublicLink } from './view-shared-link.js';
import { nextResourceHead, writeResourceVersion } from './write-resource-version.js';
import { writeThroughLink } from './write-through-link.js';

export type EditRecordInput = {
  /** The new values by field key (at least one); `null` clears a field. */
  fields: Record<string, FieldValue>;
  /** The version the editor started from: when it is no longer the latest, nothing is written (`conflict`). */
  baseVersion?: number;
};

export type EditedRecord = {
  link: PublicLink;
  /** The record as the link shows it after the edit. */
  record: RecordContent;
  /** The keys the edit changed; empty when it changed nothing (then no version was made). */
  changed: string[];
  grant: string | null;
  grantExpiresAt: number | null;
};

/**
 * An editor link's holder changes fields of a shared record (DESIGN §3): the
 * record is the link's own resource or a row inside its collection, and only
 * fields the link shows may change. The change makes a new immutable version,
 * exactly as a PUT of the same content would (title and table rows carried
 * over, the same content hash), created by the editor; identical content makes
 * none. The version and its `edited` event are written in one transaction.
 * The gate decides (`edit`), and counts a view and hands out a grant when
 * none is held; every check of the edit itself runs before anything is counted.
 */
export async function editSharedRecord(ctx: AppContext, req: PublicRequest, recordId: string | null, input: EditRecordInput): Promise<EditedRecord> {
  let target!: EditTarget;
  let plan!: EditPlan;
  const access = await authorizePublic(ctx, req, 'edit', {
    throttle: ctx.editSaves,
    prepare: async (link, hints) => {
      target = await loadEditTarget(ctx, link, recordId, hints);
      plan = planEdit(target, input.fields, input.baseVersion);
    },
  });
  const { link } = access;
  if (plan.changed.length > 0) await saveEdit(ctx, req, access, target, plan);
  // Read after the write and past the caches' hints, which the lookup took before it.
  const record = await recordContent(ctx, link, target.recordId, null);
  // A list whose rows cannot be opened shows a row's fields, never its tables: nor does this answer.
  const shown = link.resourceId === null && !link.settings.allowOpenRecords ? { ...record, tables: [] } : record;
  return { link: publicLink(link, ctx.now(), access.viewCount), record: shown, changed: plan.changed, grant: access.grant, grantExpiresAt: access.grantExpiresAt };
}

async function saveEdit(ctx: AppContext, req: PublicRequest, access: PublicAccess, target: EditTarget, plan: EditPlan): Promise<void> {
  const { link } = access;
  const { head } = target;
  const fields = { ...head.fields, ...plan.changes };
  // Outside the transaction: the rows hashed belong to an immutable version, and the write lock is held only for the writes.
  const contentHash = await hashWithFields(ctx, target, fields);
  const now = ctx.now();
  const editor = access.email ? `email:${access.email}` : `link:${link.id}`;
  const next = nextResourceHead({ workspaceId: link.workspaceId, type: link.resourceType, id: target.recordId }, head, { title: head.title, fields, contentHash }, now);
  await writeThroughLink(
    ctx,
    req,
    access,
    'edit',
    // Who and from where as the gate's events record it; the keys changed, never their values.
    { ...access.events, actor: editor, type: 'edited', metadata: { record_id: target.recordId, version: next.latestVersion, fields: plan.changed } },
    (tx) => writeResourceVersion(tx, next, head, editor, { copyFrom: head.latestVersion, tableCounts: target.tableCounts }),
  );
}
