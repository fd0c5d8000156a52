import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateAccess, isGrantValid, type AccessAction, type AccessRequest } from './access.js';
import type { GrantClaims } from './grants.js';
import { defaultLinkSettings, type Link } from './link.js';

const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;

function link(overrides: Partial<Link> = {}): Link {
  return {
    id: 'lnk_1',
    workspaceId: 'wsp_1',
    resourceType: 'job',
    resourceId: 'job-1',
    filter: null,
    pinnedVersion: null,
    accessRole: 'viewer',
    passwordHash: null,
    requiresAuth: false,
    recipientEmail: null,
    recipientContactId: null,
    allowedEmails: [],
    allowedDomains: [],
    expiresAt: NOW + 24 * HOUR,
    maxViews: null,
    viewCount: 0,
    downloadCount: 0,
    firstViewedAt: null,
    lastViewedAt: null,
    enabled: true,
    revokedAt: null,
    revokedBy: null,
    settings: { ...defaultLinkSettings },
    label: null,
    metadata: {},
    createdBy: 'user:usr_1',
    createdAt: NOW - HOUR,
    updatedAt: NOW - HOUR,
    grantEpoch: 3,
    eventSeq: 0,
    lastEventHash: null,
    tokenSealed: 'v1.x',
    shortCodeSealed: 'v1.y',
    ...overrides,
  };
}

function grant(overrides: Partial<GrantClaims> = {}): GrantClaims {
  return { linkId: 'lnk_1', epoch: 3, expiresAt: NOW + 10 * 60_000, passwordUnlocked: false, email: null, ...overrides };
}

function req(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return { action: 'view', now: NOW, identifierValid: true, rateLimited: false, link: link(), grant: null, password: 'none', ...overrides };
}

const reasonOf = (r: AccessRequest) => {
  const d = evaluateAccess(r);
  return d.allow ? 'allow' : d.reason;
};

const PASSWORD = 'scrypt$16384$8$1$c2FsdA$aGFzaA';
const exhausted = { maxViews: 3, viewCount: 3 };
const expired = { expiresAt: NOW - 1 };

describe('evaluateAccess: one row of DESIGN §4 each', () => {
  it('rate limited → rate_limited', () => {
    expect(reasonOf(req({ rateLimited: true }))).toBe('rate_limited');
  });
  it('malformed identifier → invalid_token', () => {
    expect(reasonOf(req({ identifierValid: false, link: null }))).toBe('invalid_token');
  });
  it('no such link → not_found', () => {
    expect(reasonOf(req({ link: null }))).toBe('not_found');
  });
  it('revoked → revoked', () => {
    expect(reasonOf(req({ link: link({ revokedAt: NOW - 1 }) }))).toBe('revoked');
  });
  it('disabled → disabled', () => {
    expect(reasonOf(req({ link: link({ enabled: false }) }))).toBe('disabled');
  });
  it('past expires_at → expired (at the very instant too)', () => {
    expect(reasonOf(req({ link: link(expired) }))).toBe('expired');
    expect(reasonOf(req({ link: link({ expiresAt: NOW }) }))).toBe('expired');
    expect(reasonOf(req({ link: link({ expiresAt: NOW + 1 }) }))).toBe('allow');
    expect(reasonOf(req({ link: link({ expiresAt: null }) }))).toBe('allow');
  });
  it('view limit reached → max_views_reached; one below still passes', () => {
    expect(reasonOf(req({ link: link(exhausted) }))).toBe('max_views_reached');
    expect(reasonOf(req({ link: link({ maxViews: 3, viewCount: 2 }) }))).toBe('allow');
  });
  it('password set: none → password_required, wrong → password_invalid, right → allow', () => {
    const l = link({ passwordHash: PASSWORD });
    expect(reasonOf(req({ link: l }))).toBe('password_required');
    expect(reasonOf(req({ link: l, password: 'invalid' }))).toBe('password_invalid');
    expect(evaluateAccess(req({ link: l, password: 'valid' }))).toMatchObject({ allow: true, passwordUnlocked: true, countsView: true });
  });
  it('identity required, not proven → auth_required; a grant with a verified email passes', () => {
    const l = link({ requiresAuth: true });
    expect(reasonOf(req({ link: l }))).toBe('auth_required');
    expect(reasonOf(req({ link: l, grant: grant() }))).toBe('auth_required');
    expect(evaluateAccess(req({ link: l, grant: grant({ email: 'ada@example.test' }) }))).toMatchObject({ allow: true, email: 'ada@example.test' });
  });
  it('a one-time code proves the address in this request; a wrong one → code_invalid, in the place of auth_required', () => {
    const l = link({ requiresAuth: true });
    expect(evaluateAccess(req({ link: l, emailCode: { email: 'ada@example.test' } }))).toMatchObject({ allow: true, email: 'ada@example.test', countsView: true });
    expect(reasonOf(req({ link: l, emailCode: 'invalid' }))).toBe('code_invalid');
    // The password comes first: a right code does not stand in for it.
    const both = link({ requiresAuth: true, passwordHash: 'scrypt$x' });
    expect(reasonOf(req({ link: both, emailCode: { email: 'ada@example.test' } }))).toBe('password_required');
    expect(reasonOf(req({ link: both, password: 'valid', emailCode: 'invalid' }))).toBe('code_invalid');
    expect(evaluateAccess(req({ link: both, password: 'valid', emailCode: { email: 'ada@example.test' } }))).toMatchObject({ allow: true, passwordUnlocked: true, email: 'ada@example.test' });
    // A grant's own address wins over a code's.
    expect(evaluateAccess(req({ link: l, grant: grant({ email: 'bo@example.test' }), emailCode: { email: 'ada@example.test' } }))).toMatchObject({ email: 'bo@example.test', countsView: false });
  });
  it('a signed-in member of the workspace passes a link that names no one, as a proven address, and no other', () => {
    const member = { userId: 'usr_1', email: 'mia@example.test' };
    const membersOnly = link({ requiresAuth: true });
    expect(evaluateAccess(req({ link: membersOnly, member }))).toEqual({ allow: true, countsView: true, hasGrant: false, email: 'mia@example.test', passwordUnlocked: false, member });
    // A link naming an address, an allowed address or a domain asks everyone, members too, for a code.
    for (const named of [{ recipientEmail: 'ada@example.test' }, { allowedEmails: ['mia@example.test'] }, { allowedDomains: ['example.test'] }]) {
      expect(reasonOf(req({ link: link({ requiresAuth: true, ...named }), member }))).toBe('auth_required');
    }
    // The password still comes first, and a proven address (grant, then code) wins over the session.
    expect(reasonOf(req({ link: link({ requiresAuth: true, passwordHash: 'scrypt$x' }), member }))).toBe('password_required');
    expect(evaluateAccess(req({ link: membersOnly, member, emailCode: { email: 'ada@example.test' } }))).toEqual({ allow: true, countsView: true, hasGrant: false, email: 'ada@example.test', passwordUnlocked: false });
    expect(reasonOf(req({ link: membersOnly, member, emailCode: 'invalid' }))).toBe('code_invalid');
    // Being signed in changes nothing where no identity is asked for.
    expect(evaluateAccess(req({ link: link(), member }))).toEqual({ allow: true, countsView: true, hasGrant: false, email: null, passwordUnlocked: false });
  });
  it('asking for a code (verify) is stopped by the link state and the view limit, never by the password or identity check, and counts no view', () => {
    const l = link({ requiresAuth: true, passwordHash: 'scrypt$x' });
    expect(evaluateAccess(req({ link: l, action: 'verify' }))).toMatchObject({ allow: true, countsView: false, email: null });
    expect(reasonOf(req({ link: link({ requiresAuth: true, maxViews: 2, viewCount: 2 }), action: 'verify' }))).toBe('max_views_reached');
    expect(reasonOf(req({ link: link({ requiresAuth: true, maxViews: 2, viewCount: 2 }), action: 'verify', grant: grant() }))).toBe('allow');
    expect(reasonOf(req({ link: link({ revokedAt: NOW - 1 }), action: 'verify' }))).toBe('revoked');
  });
  it('export off → export_disabled', () => {
    const l = link({ settings: { ...defaultLinkSettings, allowExport: false } });
    expect(reasonOf(req({ link: l, action: 'export' }))).toBe('export_disabled');
    expect(reasonOf(req({ link: l, action: 'export', grant: grant() }))).toBe('export_disabled');
    expect(reasonOf(req({ link: l, action: 'view' }))).toBe('allow');
  });
  it('records off → records_disabled', () => {
    const l = link({ resourceId: null, settings: { ...defaultLinkSettings, allowOpenRecords: false } });
    expect(reasonOf(req({ link: l, action: 'record' }))).toBe('records_disabled');
    expect(reasonOf(req({ link: l, action: 'record', grant: grant() }))).toBe('records_disabled');
    const on = link({ resourceId: null, settings: { ...defaultLinkSettings, allowOpenRecords: true } });
    expect(reasonOf(req({ link: on, action: 'record' }))).toBe('allow');
  });
  it('role too low → forbidden: a viewer may not comment, only an editor may edit', () => {
    expect(reasonOf(req({ link: link({ accessRole: 'viewer' }), action: 'comment' }))).toBe('forbidden');
    expect(reasonOf(req({ link: link({ accessRole: 'commenter' }), action: 'comment' }))).toBe('allow');
    expect(reasonOf(req({ link: link({ accessRole: 'editor' }), action: 'comment' }))).toBe('allow');
    expect(reasonOf(req({ link: link({ accessRole: 'viewer' }), action: 'edit' }))).toBe('forbidden');
    expect(reasonOf(req({ link: link({ accessRole: 'commenter' }), action: 'edit' }))).toBe('forbidden');
    expect(reasonOf(req({ link: link({ accessRole: 'editor' }), action: 'edit' }))).toBe('allow');
  });
  it('otherwise → allow, counting a view without a grant', () => {
    expect(evaluateAccess(req())).toEqual({ allow: true, countsView: true, hasGrant: false, email: null, passwordUnlocked: false });
  });
});

describe('evaluateAccess: the order of the checks', () => {
  it('a revoked AND expired (and disabled, exhausted) link says revoked', () => {
    expect(reasonOf(req({ link: link({ revokedAt: NOW - 1, ...expired }) }))).toBe('revoked');
    expect(reasonOf(req({ link: link({ revokedAt: NOW - 1, enabled: false, ...expired, ...exhausted, passwordHash: PASSWORD }) }))).toBe('revoked');
  });
  it('a disabled link past its view limit says disabled', () => {
    expect(reasonOf(req({ link: link({ enabled: false, ...exhausted }) }))).toBe('disabled');
    expect(reasonOf(req({ link: link({ enabled: false, ...expired }) }))).toBe('disabled');
  });
  it('rate-limited beats malformed, malformed beats not found', () => {
    expect(reasonOf(req({ rateLimited: true, identifierValid: false, link: null }))).toBe('rate_limited');
    expect(reasonOf(req({ identifierValid: false, link: null }))).toBe('invalid_token');
    // Even with a link somehow at hand, a malformed identifier never reaches it.
    expect(reasonOf(req({ identifierValid: false }))).toBe('invalid_token');
    expect(reasonOf(req({ rateLimited: true }))).toBe('rate_limited');
  });
  it('expired beats max views', () => {
    expect(reasonOf(req({ link: link({ ...expired, ...exhausted }) }))).toBe('expired');
  });
  it('max views beats the password', () => {
    expect(reasonOf(req({ link: link({ ...exhausted, passwordHash: PASSWORD }), password: 'valid' }))).toBe('max_views_reached');
  });
  it('password before identity', () => {
    const l = link({ passwordHash: PASSWORD, requiresAuth: true });
    expect(reasonOf(req({ link: l }))).toBe('password_required');
    expect(reasonOf(req({ link: l, password: 'invalid' }))).toBe('password_invalid');
    expect(reasonOf(req({ link: l, password: 'valid' }))).toBe('auth_required');
  });
  it('identity before action checks', () => {
    const l = link({ requiresAuth: true, resourceId: null, accessRole: 'viewer', settings: { ...defaultLinkSettings, allowExport: false, allowOpenRecords: false } });
    for (const action of ['export', 'record', 'comment', 'edit'] as const) expect(reasonOf(req({ link: l, action }))).toBe('auth_required');
  });
  it('password before action checks', () => {
    const l = link({ passwordHash: PASSWORD, settings: { ...defaultLinkSettings, allowExport: false } });
    expect(reasonOf(req({ link: l, action: 'export' }))).toBe('password_required');
  });
});

describe('evaluateAccess: grants', () => {
  it('a valid grant passes the view limit and counts no view', () => {
    for (const action of ['view', 'record', 'table', 'export'] as const) {
      const l = link({ ...exhausted, settings: { ...defaultLinkSettings, allowOpenRecords: true } });
      expect(evaluateAccess(req({ link: l, action, grant: grant() }))).toEqual({ allow: true, countsView: false, hasGrant: true, email: null, passwordUnlocked: false });
    }
  });
  it('a grant that unlocked the password stands in for it', () => {
    const l = link({ passwordHash: PASSWORD });
    expect(evaluateAccess(req({ link: l, grant: grant({ passwordUnlocked: true }) }))).toMatchObject({ allow: true, passwordUnlocked: true, countsView: false });
    expect(reasonOf(req({ link: l, grant: grant({ passwordUnlocked: false }) }))).toBe('password_required');
  });
  it('a grant for another link, an old epoch or past its expiry is ignored', () => {
    const l = link(exhausted);
    for (const g of [grant({ linkId: 'lnk_other' }), grant({ epoch: 2 }), grant({ epoch: 4 }), grant({ expiresAt: NOW }), grant({ expiresAt: NOW - 1 })]) {
      expect(isGrantValid(g, l, NOW)).toBe(false);
      expect(reasonOf(req({ link: l, grant: g }))).toBe('max_views_reached');
      const ok = evaluateAccess(req({ link: link(), grant: g }));
      expect(ok).toMatchObject({ allow: true, hasGrant: false, countsView: true });
    }
    // An ignored grant does not unlock the password or prove an email either.
    const guarded = link({ passwordHash: PASSWORD, requiresAuth: true });
    expect(reasonOf(req({ link: guarded, grant: grant({ epoch: 2, passwordUnlocked: true, email: 'a@b.test' }) }))).toBe('password_required');
  });
  it('a grant does not revive a revoked, disabled or expired link', () => {
    expect(reasonOf(req({ link: link({ revokedAt: NOW - 1 }), grant: grant() }))).toBe('revoked');
    expect(reasonOf(req({ link: link({ enabled: false }), grant: grant() }))).toBe('disabled');
    expect(reasonOf(req({ link: link(expired), grant: grant() }))).toBe('expired');
  });
});

describe('evaluateAccess: meta', () => {
  it('is never stopped by password or identity and counts no view', () => {
    const l = link({ passwordHash: PASSWORD, requiresAuth: true });
    expect(evaluateAccess(req({ link: l, action: 'meta' }))).toEqual({ allow: true, countsView: false, hasGrant: false, email: null, passwordUnlocked: false });
    expect(evaluateAccess(req({ link: l, action: 'meta', password: 'invalid' }))).toMatchObject({ allow: true, countsView: false });
  });
  it('is not stopped by the view limit (it burns none)', () => {
    expect(evaluateAccess(req({ link: link(exhausted), action: 'meta' }))).toMatchObject({ allow: true, countsView: false });
  });
  it('still reports revoked, disabled and expired', () => {
    expect(reasonOf(req({ link: link({ revokedAt: NOW - 1 }), action: 'meta' }))).toBe('revoked');
    expect(reasonOf(req({ link: link({ enabled: false }), action: 'meta' }))).toBe('disabled');
    expect(reasonOf(req({ link: link(expired), action: 'meta' }))).toBe('expired');
  });
});

describe('evaluateAccess: properties', () => {
  const actions: AccessAction[] = ['view', 'meta', 'verify', 'record', 'table', 'export', 'comment', 'edit'];
  const arbLink = fc.record({
    revokedAt: fc.option(fc.integer({ min: NOW - 10 * HOUR, max: NOW }), { nil: null }),
    enabled: fc.boolean(),
    expiresAt: fc.option(fc.integer({ min: NOW - 10 * HOUR, max: NOW + 10 * HOUR }), { nil: null }),
    maxViews: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
    viewCount: fc.integer({ min: 0, max: 6 }),
    passwordHash: fc.option(fc.constant(PASSWORD), { nil: null }),
    requiresAuth: fc.boolean(),
    allowedEmails: fc.constantFrom<string[]>([], ['bo@example.test']),
    accessRole: fc.constantFrom('viewer' as const, 'commenter' as const, 'editor' as const),
    resourceId: fc.option(fc.constant('job-1'), { nil: null }),
    grantEpoch: fc.integer({ min: 0, max: 3 }),
    settings: fc.record({
      fields: fc.constant('default' as const),
      allowExport: fc.boolean(),
      allowOpenRecords: fc.boolean(),
      displayToolbar: fc.boolean(),
      notifyOnView: fc.boolean(),
    }),
  });
  const arbGrant = fc.option(
    fc.record({
      linkId: fc.constantFrom('lnk_1', 'lnk_2'),
      epoch: fc.integer({ min: 0, max: 3 }),
      expiresAt: fc.integer({ min: NOW - HOUR, max: NOW + HOUR }),
      passwordUnlocked: fc.boolean(),
      email: fc.option(fc.constant('ada@example.test'), { nil: null }),
    }),
    { nil: null },
  );
  const arbReq = fc.record({
    action: fc.constantFrom(...actions),
    rateLimited: fc.boolean(),
    identifierValid: fc.boolean(),
    link: fc.option(arbLink, { nil: null, freq: 8 }),
    grant: arbGrant,
    password: fc.constantFrom('none' as const, 'valid' as const, 'invalid' as const),
    emailCode: fc.constantFrom('none' as const, 'invalid' as const, { email: 'bo@example.test' }),
    member: fc.constantFrom(null, { userId: 'usr_1', email: 'mia@example.test' }),
  });
  type ArbReq = Omit<AccessRequest, 'now' | 'link'> & { link: Partial<Link> | null };
  const build = (r: ArbReq): AccessRequest => ({ ...r, now: NOW, link: r.link === null ? null : link(r.link) });

  it('any revoked link is denied `revoked`, whatever else holds, unless rate-limited or malformed', () => {
    fc.assert(
      fc.property(arbReq, arbLink, (r, l) => {
        const request = build({ ...r, rateLimited: false, identifierValid: true });
        request.link = link({ ...l, revokedAt: NOW - 1 });
        expect(reasonOf(request)).toBe('revoked');
      }),
    );
  });

  it('rate limiting and malformed identifiers win over anything about the link', () => {
    fc.assert(
      fc.property(arbReq, (r) => {
        const request = build(r);
        if (request.rateLimited) expect(reasonOf(request)).toBe('rate_limited');
        else if (!request.identifierValid) expect(reasonOf(request)).toBe('invalid_token');
      }),
    );
  });

  it('an allowed request counts a view exactly when it holds no valid grant and is not meta or verify', () => {
    fc.assert(
      fc.property(arbReq, (r) => {
        const request = build(r);
        const d = evaluateAccess(request);
        if (!d.allow) return;
        const valid = isGrantValid(request.grant, request.link as Link, NOW);
        expect(d.hasGrant).toBe(valid);
        expect(d.countsView).toBe(!valid && request.action !== 'meta' && request.action !== 'verify');
        // Whatever was allowed is live: not revoked, enabled, not expired.
        const l = request.link as Link;
        expect(l.revokedAt).toBeNull();
        expect(l.enabled).toBe(true);
        if (l.expiresAt !== null) expect(l.expiresAt).toBeGreaterThan(NOW);
        if (d.countsView && l.maxViews !== null) expect(l.viewCount).toBeLessThan(l.maxViews);
        // Past the identity check only with a proven address, unless the request reveals nothing (meta, verify).
        if (l.requiresAuth && request.action !== 'meta' && request.action !== 'verify') expect(d.email).not.toBeNull();
        // A session proves who reads only a link for the workspace's members, and only when nothing else did.
        if (d.member) expect([l.requiresAuth, l.allowedEmails, d.email, request.emailCode]).toEqual([true, [], request.member?.email, 'none']);
      }),
    );
  });

  it('a wrong code is only ever named where a code could have opened the link', () => {
    fc.assert(
      fc.property(arbReq, (r) => {
        const request = build(r);
        if (reasonOf(request) !== 'code_invalid') return;
        expect(request.emailCode).toBe('invalid');
        expect(request.link?.requiresAuth).toBe(true);
      }),
    );
  });

  it('meta is only ever denied for the link-state reasons', () => {
    fc.assert(
      fc.property(arbReq, (r) => {
        const request = build({ ...r, action: 'meta' });
        const reason = reasonOf(request);
        expect(['allow', 'rate_limited', 'invalid_token', 'not_found', 'revoked', 'disabled', 'expired']).toContain(reason);
      }),
    );
  });
});
