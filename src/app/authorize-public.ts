import { evaluateAccess, type AccessAction, type DenyReason, type EmailCodeCheck } from '../domain/access.js';
import { userRef } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import { GRANT_TTL_MS, issueGrant, readGrant } from '../domain/grants.js';
import { namesNoOne, type Link } from '../domain/link.js';
import { verifyPassword } from '../domain/passwords.js';
import { parseLinkIdentifier, sha256 } from '../domain/tokens.js';
import { limitedClient, parseIp, type Ip } from '../domain/ip.js';
import { storedIp, type IpStorageMode } from '../domain/workspace-policy.js';
import { parseJson } from '../storage/json.js';
import { findPublicLink } from '../storage/links.js';
import { checkEmailCode } from './check-email-code.js';
import { firstViewNotice } from './first-view-notice.js';
import { signedInMember } from './signed-in-member.js';
import type { AppContext } from './context.js';
import type { MissLimiter } from './miss-limiter.js';
import type { EventBase, LedgerLink } from './public-ledger.js';

/** Who is asking, as the HTTP layer knows it. Secrets here are never logged. */
export type PublicRequest = {
  identifier: string;
  grant?: string;
  password?: string;
  /** A one-time code mailed to this address, to prove it (`/verify/confirm`). */
  emailCode?: { email: string; code: string };
  /** The dashboard's session cookie, if sent: read only for a link for its workspace's members. */
  session?: string;
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
  /** Who asked, as events of this request record it (IP stored per the workspace's policy, the proven email): for use-cases that write events of their own. */
  events: EventBase;
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
  code_invalid: 'The code is not correct or has expired',
  export_disabled: 'Exports are not allowed for this share link',
  records_disabled: 'Opening single records is not allowed for this share link',
  forbidden: 'This share link does not allow that',
};

/** The error for a denial, with the message a recipient reads. */
export const denial = (reason: DenyReason, details?: Record<string, unknown>): AppError => new AppError(reason, messages[reason], details);

function eventBase(req: PublicRequest, ip: Ip | null, ipMode: IpStorageMode, email: string | null, member?: { userId: string }): EventBase {
  return {
    ip: storedIp(req.ip, ipMode, ip),
    userAgent: req.userAgent ? req.userAgent.slice(0, 500) : null,
    email,
    actor: member ? userRef(member.userId) : email ? `email:${email}` : null,
  };
}

const ledgerLink = (link: Link): LedgerLink => ({ id: link.id, workspaceId: link.workspaceId, grantEpoch: link.grantEpoch, head: { seq: link.eventSeq, hash: link.lastEventHash } });

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
  /**
   * A limit per link and client on requests that write (comments, edits, codes mailed): over it,
   * the request is `rate_limited` before anything is checked; each request
   * that passes the evaluator and `prepare` counts against it.
   */
  throttle?: MissLimiter;
};

async function gate(ctx: AppContext, req: PublicRequest, action: AccessAction, opts: GateOptions): Promise<PublicAccess> {
  const now = ctx.now();
  // Parsed once: counted per IPv4 address or IPv6 /64 (see limitedClient), and stored as the policy says.
  const ip = req.ip ? parseIp(req.ip) : null;
  const client = limitedClient(req.ip, ip);
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

  // Password and one-time-code guesses are limited per link and client (DESIGN §8): a locked-out client is rate limited before any hash is checked.
  const attemptKey = `${link.id}\u0000${client}`;
  // So are the requests a use-case throttles (comments, edits, codes asked for): both limits are read before anything is checked.
  const guesses = (req.password !== undefined && link.passwordHash !== null) || (req.emailCode !== undefined && link.requiresAuth);
  const limitedFor = Math.max(guesses ? ctx.passwordAttempts.retryAfter(attemptKey, now) : 0, opts.throttle?.retryAfter(attemptKey, now) ?? 0);
  if (limitedFor > 0) {
    const d = evaluateAccess({ ...base, rateLimited: true, identifierValid: true, link, password: 'none' });
    throw denial(d.allow ? 'rate_limited' : d.reason, { retryAfter: limitedFor });
  }
  let password: 'none' | 'valid' | 'invalid' = 'none';
  if (req.password !== undefined && link.passwordHash !== null) {
    password = (await verifyPassword(req.password, link.passwordHash)) ? 'valid' : 'invalid';
    if (password === 'invalid') ctx.passwordAttempts.recordMiss(attemptKey, now);
  }
  // A code is tried only where it could open the link: never past a missing or wrong password, so it is not burnt for nothing.
  let emailCode: EmailCodeCheck = 'none';
  if (req.emailCode !== undefined && link.requiresAuth && (link.passwordHash === null || password === 'valid')) {
    emailCode = await checkEmailCode(ctx, link, req.emailCode, eventBase(req, ip, ipMode, null), now);
    if (emailCode === 'invalid') ctx.passwordAttempts.recordMiss(attemptKey, now);
  }
  // A signed-in member of the workspace passes a link for its members: the session is looked up for such a link only.
  const member = req.session !== undefined && emailCode === 'none' && link.requiresAuth && namesNoOne(link) ? await signedInMember(ctx, req.session, link.workspaceId) : null;
  const decision = evaluateAccess({ ...base, identifierValid: true, link, password, emailCode, member });
  const events = eventBase(req, ip, ipMode, decision.allow ? decision.email : null, decision.allow ? decision.member : undefined);
  if (!decision.allow) {
    await ctx.ledger.deny({ kind: 'deny', link: ledgerLink(link), reason: decision.reason, action, base: events, now });
    throw denial(decision.reason);
  }

  await opts.prepare?.(link, hints);
  opts.throttle?.recordMiss(attemptKey, now);

  const download = opts.download === true;
  if (!decision.countsView && !download) {
    return { link, grant: decision.hasGrant ? (req.grant ?? null) : null, grantExpiresAt: decision.hasGrant ? (grant?.expiresAt ?? null) : null, viewCount: link.viewCount, downloadCount: link.downloadCount, email: decision.email, hints, events };
  }

  // The job crosses to the writer thread by structured clone: optional parts go only when they hold something.
  const notice = decision.countsView ? firstViewNotice(link, ctx.config.publicUrl) : undefined;
  const result = await ctx.ledger.count({
    kind: 'count',
    link: ledgerLink(link),
    view: decision.countsView,
    download,
    action,
    grant,
    password,
    ...(emailCode !== 'none' ? { emailCode } : {}),
    // Only what is counted names its viewer (one keyed hash, on the full address as received): denials never pay for it.
    base: { ...events, viewer: ctx.viewerIds(link.workspaceId, req.ip, req.userAgent, now) },
    metadata: { action, ...opts.eventMetadata },
    now,
    ...(notice ? { notice } : {}),
  });
  if (!result.ok) throw denial(result.reason);
  if (result.queuedMail) ctx.mail.kick();
  ctx.metrics.counted(decision.countsView ? 1 : 0, download ? 1 : 0);

  if (!decision.countsView) {
    return { link, grant: req.grant ?? null, grantExpiresAt: grant?.expiresAt ?? null, viewCount: result.viewCount, downloadCount: result.downloadCount, email: decision.email, hints, events };
  }
  const expiresAt = Math.min(now + GRANT_TTL_MS, link.expiresAt ?? Infinity);
  const issued = issueGrant(ctx.box, {
    linkId: link.id,
    epoch: link.grantEpoch,
    expiresAt,
    passwordUnlocked: decision.passwordUnlocked,
    email: decision.email,
  });
  return { link, grant: issued, grantExpiresAt: expiresAt, viewCount: result.viewCount, downloadCount: result.downloadCount, email: decision.email, hints, events };
}
