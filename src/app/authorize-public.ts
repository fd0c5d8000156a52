import { evaluateAccess, type AccessAction, type DenyReason } from '../domain/access.js';
import { AppError } from '../domain/errors.js';
import type { EventInput } from '../domain/event.js';
import { GRANT_TTL_MS, issueGrant, readGrant, type GrantClaims } from '../domain/grants.js';
import type { Link } from '../domain/link.js';
import { verifyPassword } from '../domain/passwords.js';
import { parseLinkIdentifier, sha256 } from '../domain/tokens.js';
import { storedIp, type IpStorageMode } from '../domain/workspace-policy.js';
import type { Tx } from '../storage/database.js';
import { appendLinkEvent, chainedEvent, insertEvent } from '../storage/events.js';
import { parseJson } from '../storage/json.js';
import { countView, findLinkById, findPublicLink, setLastEventHash } from '../storage/links.js';
import type { AppContext } from './context.js';

/** Who is asking, as the HTTP layer knows it. Secrets here are never logged. */
export type PublicRequest = {
  identifier: string;
  grant?: string;
  password?: string;
  ip?: string;
  userAgent?: string;
};

export type PublicAccess = {
  link: Link;
  /** The grant the caller should use from now on (a new one after a view, else the one they sent). */
  grant: string | null;
  grantExpiresAt: number | null;
  /** Counters after this request's view or download, if it counted one. */
  viewCount: number;
  downloadCount: number;
  email: string | null;
  /** What the lookup learnt about the target, so content can come from the caches. */
  hints: ContentHints;
};

/** The target's latest version and stamps, read with the link in the same query. */
export type ContentHints = { latestVersion: number | null; resourceStamp: number | null; typeStamp: number | null };

const messages: Record<DenyReason, string> = {
  rate_limited: 'Too many attempts from your address; try again later',
  invalid_token: 'This is not a valid share link',
  not_found: 'This share link does not exist',
  revoked: 'This share link has been revoked',
  disabled: 'This share link is switched off',
  expired: 'This share link has expired',
  max_views_reached: 'This share link has reached its view limit',
  password_required: 'This share link needs a password',
  password_invalid: 'The password is not correct',
  auth_required: 'This share link needs you to confirm your email address',
  export_disabled: 'Exports are not allowed for this share link',
  records_disabled: 'Opening single records is not allowed for this share link',
  forbidden: 'This share link does not allow that',
};

/** The error for a denial, with the message a recipient reads. */
export const denial = (reason: DenyReason, details?: Record<string, unknown>): AppError => new AppError(reason, messages[reason], details);

function eventBase(req: PublicRequest, ipMode: IpStorageMode, email: string | null): Omit<EventInput, 'type'> {
  return {
    ip: storedIp(req.ip, ipMode),
    userAgent: req.userAgent ? req.userAgent.slice(0, 500) : null,
    email,
    actor: email ? `email:${email}` : null,
  };
}

/** Writes the denial's event (`expired`, or `access_denied` with its reason) in its own grouped commit. */
async function recordDenial(ctx: AppContext, link: Link, reason: DenyReason, base: Omit<EventInput, 'type'>, action: AccessAction): Promise<void> {
  const input: EventInput =
    reason === 'expired'
      ? { ...base, type: 'expired', reason, metadata: { action } }
      : { ...base, type: 'access_denied', reason, metadata: { action } };
  await ctx.committer.run(link.id, (tx) => appendLinkEvent(tx, link, input, ctx.now()).then(() => undefined));
}

type CountResult = { ok: true; viewCount: number; downloadCount: number } | { ok: false; reason: DenyReason };

/**
 * Counts a view and/or a download and chains their events, in a grouped
 * commit. When the conditional update finds the link changed under it
 * (revoked, limit reached by a concurrent view…), a second read names the
 * reason through the same evaluator and the denial is written instead.
 */
async function countAndRecord(
  tx: Tx,
  link: Link,
  opts: { view: boolean; download: boolean; action: AccessAction; grant: GrantClaims | null; password: 'none' | 'valid' | 'invalid' },
  base: Omit<EventInput, 'type'>,
  metadata: Record<string, unknown>,
  now: number,
): Promise<CountResult> {
  const types: Array<'viewed' | 'downloaded'> = [...(opts.view ? (['viewed'] as const) : []), ...(opts.download ? (['downloaded'] as const) : [])];
  const counted = await countView(tx, link, { view: opts.view, download: opts.download, events: types.length }, now);
  if (counted) {
    let prev = counted.lastEventHash;
    let seq = counted.eventSeq - types.length;
    for (const type of types) {
      const event = chainedEvent(link, ++seq, prev, { ...base, type, metadata }, now);
      await insertEvent(tx, event);
      prev = event.hash;
    }
    await setLastEventHash(tx, link.id, prev as string);
    return { ok: true, viewCount: counted.viewCount, downloadCount: counted.downloadCount };
  }
  const fresh = await findLinkById(tx, link.workspaceId, link.id);
  const decision = evaluateAccess({ action: opts.action, now, identifierValid: true, rateLimited: false, link: fresh, grant: opts.grant, password: opts.password });
  // The row changed between read and write; if it now passes, it was the grant epoch: the grant is void.
  const reason: DenyReason = decision.allow ? 'forbidden' : decision.reason;
  if (fresh) {
    const type = reason === 'expired' ? 'expired' : 'access_denied';
    await appendLinkEvent(tx, fresh, { ...base, type, reason, metadata: { action: opts.action } }, now);
  }
  return { ok: false, reason };
}

/**
 * The gate of every public surface: parses the identifier, applies the miss
 * limiter, looks the link up, checks a password if one was sent, asks the
 * evaluator, records what happened, and hands out a grant after a view.
 * Throws the denial as an AppError; returns the link when access is allowed.
 * Every outcome is counted in the metrics.
 */
export async function authorizePublic(
  ctx: AppContext,
  req: PublicRequest,
  action: AccessAction,
  opts: GateOptions = {},
): Promise<PublicAccess> {
  try {
    const access = await gate(ctx, req, action, opts);
    ctx.metrics.publicOutcome(action, 'allowed');
    return access;
  } catch (e) {
    ctx.metrics.publicOutcome(action, e instanceof AppError ? e.reason : 'error');
    throw e;
  }
}

export type GateOptions = {
  /** This request downloads: count it and write `downloaded`. */
  download?: boolean;
  eventMetadata?: Record<string, unknown>;
  /**
   * Runs once the evaluator allows and before anything is counted, so a
   * request that fails here (an unknown table, record or cursor) burns no
   * view or download and writes no event.
   */
  prepare?: (link: Link, hints: ContentHints) => Promise<void>;
};

async function gate(ctx: AppContext, req: PublicRequest, action: AccessAction, opts: GateOptions): Promise<PublicAccess> {
  const now = ctx.now();
  const client = req.ip ?? 'unknown';
  const retryAfter = ctx.misses.retryAfter(client, now);
  const parsed = parseLinkIdentifier(req.identifier);
  const grant = readGrant(ctx.box, req.grant);
  const base = { now, grant, rateLimited: retryAfter > 0, action } as const;

  if (retryAfter > 0 || !parsed) {
    const d = evaluateAccess({ ...base, identifierValid: parsed !== null, link: null, password: 'none' });
    if (!d.allow && d.reason === 'invalid_token') ctx.misses.recordMiss(client, now);
    throw denial(d.allow ? 'not_found' : d.reason, retryAfter > 0 ? { retryAfter } : undefined);
  }

  const found = await findPublicLink(ctx.database.db, parsed.kind, sha256(parsed.value));
  if (!found) {
    ctx.misses.recordMiss(client, now);
    throw denial('not_found');
  }
  const { link } = found;
  const hints: ContentHints = { latestVersion: found.latestVersion, resourceStamp: found.resourceStamp, typeStamp: found.typeStamp };
  const ipMode = parseJson<{ ipStorage?: IpStorageMode }>(found.workspacePolicy, {}).ipStorage ?? 'truncated';

  // Password guesses are limited per link and client (DESIGN §8): a locked-out client is rate limited before any hash is checked.
  const attemptKey = `${link.id}\u0000${client}`;
  const attemptsRetry = req.password !== undefined && link.passwordHash !== null ? ctx.passwordAttempts.retryAfter(attemptKey, now) : 0;
  if (attemptsRetry > 0) {
    const d = evaluateAccess({ ...base, rateLimited: true, identifierValid: true, link, password: 'none' });
    throw denial(d.allow ? 'rate_limited' : d.reason, { retryAfter: attemptsRetry });
  }
  let password: 'none' | 'valid' | 'invalid' = 'none';
  if (req.password !== undefined && link.passwordHash !== null) {
    password = (await verifyPassword(req.password, link.passwordHash)) ? 'valid' : 'invalid';
    if (password === 'invalid') ctx.passwordAttempts.recordMiss(attemptKey, now);
  }
  const decision = evaluateAccess({ ...base, identifierValid: true, link, password });
  const events = eventBase(req, ipMode, decision.allow ? decision.email : null);
  if (!decision.allow) {
    await recordDenial(ctx, link, decision.reason, events, action);
    throw denial(decision.reason);
  }

  await opts.prepare?.(link, hints);

  const download = opts.download === true;
  if (!decision.countsView && !download) {
    return { link, grant: decision.hasGrant ? (req.grant ?? null) : null, grantExpiresAt: decision.hasGrant ? (grant?.expiresAt ?? null) : null, viewCount: link.viewCount, downloadCount: link.downloadCount, email: decision.email, hints };
  }

  const result = await ctx.committer.run(link.id, (tx) =>
    countAndRecord(tx, link, { view: decision.countsView, download, action, grant, password }, events, { action, ...opts.eventMetadata }, now),
  );
  if (!result.ok) throw denial(result.reason);
  ctx.metrics.counted(decision.countsView ? 1 : 0, download ? 1 : 0);

  if (!decision.countsView) {
    return { link, grant: req.grant ?? null, grantExpiresAt: grant?.expiresAt ?? null, viewCount: result.viewCount, downloadCount: result.downloadCount, email: decision.email, hints };
  }
  const expiresAt = Math.min(now + GRANT_TTL_MS, link.expiresAt ?? Infinity);
  const issued = issueGrant(ctx.box, {
    linkId: link.id,
    epoch: link.grantEpoch,
    expiresAt,
    passwordUnlocked: decision.passwordUnlocked,
    email: decision.email,
  });
  return { link, grant: issued, grantExpiresAt: expiresAt, viewCount: result.viewCount, downloadCount: result.downloadCount, email: decision.email, hints };
}
