import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './resource.js';
import { canonicalEventJson, eventHash, verifyChain, type AuditEvent, type EventType } from './event.js';

const T0 = Date.UTC(2026, 0, 15, 12);
/** The hash the first version of the chain gave the first event of `chain(['created'])`. */
const FROZEN_CREATED_HASH = '0475e6111624d72c4c2581eb7bf77d23270edb50eef1cb9307f39686e7f445dc';

/** A correctly chained trail of `types` for link `lnk_1`, as the storage layer writes it. */
function chain(types: EventType[]): AuditEvent[] {
  const out: AuditEvent[] = [];
  let prev: string | null = null;
  types.forEach((type, i) => {
    const base = {
      id: `evt_${i + 1}`,
      workspaceId: 'wsp_1',
      linkId: 'lnk_1',
      seq: i + 1,
      type,
      reason: type === 'access_denied' ? 'password_invalid' : null,
      actor: i === 0 ? 'user:u1' : null,
      ip: '203.0.113.0',
      userAgent: 'curl/8',
      email: null,
      viewer: null,
      metadata: { n: i, nested: { a: 1, b: [1, 2] } },
      createdAt: T0 + i * 1000,
      prevHash: prev,
    };
    const e: AuditEvent = { ...base, hash: eventHash(base) };
    out.push(e);
    prev = e.hash;
  });
  return out;
}

const last = (events: AuditEvent[]) => events.at(-1)?.hash ?? null;
const rehash = (e: AuditEvent): AuditEvent => ({ ...e, hash: eventHash(e) });
const problems = (events: AuditEvent[], lastHash: string | null) =>
  verifyChain('lnk_1', events, lastHash).map((b) => [b.eventId, b.problem]);

describe('eventHash', () => {
  it('is a hex SHA-256, the same whatever the metadata key order', () => {
    const [e] = chain(['created']);
    expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(eventHash({ ...e, metadata: { nested: { b: [1, 2], a: 1 }, n: 0 } })).toBe(e.hash);
  });

  it('writes exactly the canonical JSON of the stored fields, so stored chains keep their hashes', () => {
    const text = fc.option(fc.string(), { nil: null });
    const event = fc.record({
      id: fc.string(),
      workspaceId: fc.string(),
      linkId: text,
      seq: fc.option(fc.integer({ min: 0 }), { nil: null }),
      type: fc.constantFrom<EventType>('viewed', 'downloaded', 'access_denied', 'updated'),
      reason: text,
      actor: text,
      ip: text,
      userAgent: text,
      email: text,
      viewer: text,
      metadata: fc.dictionary(fc.string(), fc.jsonValue()),
      createdAt: fc.integer({ min: 0 }),
      prevHash: text,
    });
    fc.assert(
      fc.property(event, (e) => {
        const stored = {
          id: e.id,
          workspace_id: e.workspaceId,
          link_id: e.linkId,
          seq: e.seq,
          type: e.type,
          reason: e.reason,
          actor: e.actor,
          ip: e.ip,
          user_agent: e.userAgent,
          email: e.email,
          // A viewer is content only when there is one, so chains from before it keep their hashes.
          ...(e.viewer === null ? {} : { viewer: e.viewer }),
          metadata: e.metadata,
          created_at: e.createdAt,
        };
        expect(canonicalEventJson(e)).toBe(canonicalJson(stored));
      }),
    );
  });

  it('keeps the hash of a known event (the chain format is frozen)', () => {
    const [e] = chain(['created']);
    expect(e.hash).toBe(FROZEN_CREATED_HASH);
  });

  it('covers the viewer when there is one, and hashes an event without one as before viewers existed', () => {
    const [e] = chain(['created']);
    const withViewer = { ...e, viewer: 'AbCdEfGhIjKlMnOpQrStUv' };
    expect(eventHash(withViewer)).not.toBe(e.hash);
    expect(eventHash({ ...withViewer, viewer: 'AbCdEfGhIjKlMnOpQrStUw' })).not.toBe(eventHash(withViewer));
    expect(verifyChain('lnk_1', [{ ...e, viewer: 'AbCdEfGhIjKlMnOpQrStUv' }], e.hash).map((b) => b.problem)).toEqual(['content does not match its hash']);
  });

  it('depends on the predecessor', () => {
    const [e] = chain(['created']);
    expect(eventHash({ ...e, prevHash: 'f'.repeat(64) })).not.toBe(e.hash);
  });
});

describe('verifyChain', () => {
  const trail = chain(['created', 'viewed', 'access_denied', 'updated', 'revoked']);

  it('passes an intact chain and an empty one', () => {
    expect(verifyChain('lnk_1', trail, last(trail))).toEqual([]);
    expect(verifyChain('lnk_1', [], null)).toEqual([]);
  });

  it.each<[string, Partial<AuditEvent>]>([
    ['type', { type: 'viewed' }],
    ['reason', { reason: 'expired' }],
    ['actor', { actor: 'user:mallory' }],
    ['ip', { ip: '198.51.100.0' }],
    ['metadata', { metadata: { n: 2, nested: { a: 1, b: [1, 2] }, extra: true } }],
    ['created_at', { createdAt: T0 + 2001 }],
    ['email', { email: 'x@example.test' }],
  ])('names the event whose %s was edited', (_field, change) => {
    const edited = trail.map((e) => (e.seq === 3 ? { ...e, ...change } : e));
    expect(problems(edited, last(trail))).toEqual([['evt_3', 'content does not match its hash']]);
  });

  it('catches an edit whose hash was recomputed, at the next event', () => {
    const edited = trail.map((e) => (e.seq === 3 ? rehash({ ...e, type: 'viewed' }) : e));
    expect(problems(edited, last(trail))).toEqual([['evt_4', 'previous hash does not match']]);
  });

  it('catches a wrong previous hash', () => {
    const edited = trail.map((e) => (e.seq === 2 ? rehash({ ...e, prevHash: 'f'.repeat(64) }) : e));
    expect(problems(edited, last(trail))).toContainEqual(['evt_2', 'previous hash does not match']);
  });

  it('catches a missing event by its sequence gap', () => {
    const withoutThird = trail.filter((e) => e.seq !== 3);
    expect(problems(withoutThird, last(trail))).toEqual([
      ['evt_4', 'expected sequence 3, found 4'],
      ['evt_4', 'previous hash does not match'],
    ]);
  });

  it('catches a missing first event', () => {
    expect(problems(trail.slice(1), last(trail))).toEqual([
      ['evt_2', 'expected sequence 1, found 2'],
      ['evt_2', 'previous hash does not match'],
    ]);
  });

  it('catches swapped events', () => {
    const swapped = [trail[0], trail[2], trail[1], ...trail.slice(3)];
    expect(verifyChain('lnk_1', swapped, last(trail)).length).toBeGreaterThan(0);
  });

  it('catches a truncated chain or a wrong last hash through the link', () => {
    const cut = trail.slice(0, -1);
    const [b] = verifyChain('lnk_1', cut, last(trail));
    expect(b).toEqual({ linkId: 'lnk_1', seq: null, eventId: '', problem: 'the link does not end its chain on the last event' });
    expect(problems(trail, 'f'.repeat(64))).toEqual([['', 'the link does not end its chain on the last event']]);
    expect(problems([], last(trail))).toEqual([['', 'the link does not end its chain on the last event']]);
    expect(problems(trail, null)).toHaveLength(1);
  });

  it('detects any single-field edit anywhere in the chain (property)', () => {
    const fields = ['type', 'reason', 'actor', 'ip', 'userAgent', 'email', 'createdAt', 'workspaceId', 'linkId', 'id'] as const;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: trail.length - 1 }), fc.constantFrom(...fields), fc.string({ minLength: 1, maxLength: 8 }), (i, field, noise) => {
        const edited = trail.map((e, j) => {
          if (j !== i) return e;
          const value = field === 'createdAt' ? e.createdAt + noise.length : `${String(e[field])}${noise}`;
          return { ...e, [field]: value } as AuditEvent;
        });
        expect(verifyChain('lnk_1', edited, last(trail)).length).toBeGreaterThan(0);
      }),
    );
  });
});

describe('verifyChain after retention', () => {
  const trail = chain(['created', 'updated', 'viewed', 'viewed', 'revoked']);
  const problemsFrom = (events: AuditEvent[], end: Parameters<typeof verifyChain>[2], start: Parameters<typeof verifyChain>[3]) =>
    verifyChain('lnk_1', events, end, start).map((b) => [b.eventId, b.problem]);

  it('checks a cut chain from its floor: the first remaining event follows the last one deleted', () => {
    const floor = { seq: 2, hash: trail[1].hash };
    expect(problemsFrom(trail.slice(2), last(trail), floor)).toEqual([]);
    // All of it cut: the floor is the head.
    expect(problemsFrom([], last(trail), { seq: 5, hash: last(trail) })).toEqual([]);
    // An event deleted past the floor, by hand.
    expect(problemsFrom(trail.slice(3), last(trail), floor)).toEqual([
      ['evt_4', 'expected sequence 3, found 4'],
      ['evt_4', 'previous hash does not match'],
    ]);
    // A floor that names another hash than the event before the first remaining one.
    expect(problemsFrom(trail.slice(2), last(trail), { seq: 2, hash: trail[0].hash })).toEqual([['evt_3', 'previous hash does not match']]);
  });

  it("checks a deleted link's chain from its first remaining event to the head its deleted event recorded", () => {
    const head = { hash: last(trail), seq: 5 };
    expect(problemsFrom(trail.slice(2), head, 'unknown')).toEqual([]);
    expect(problemsFrom([], head, 'unknown')).toEqual([]);
    expect(problemsFrom(trail.slice(2, 4), head, 'unknown')).toEqual([['', 'the link does not end its chain on the last event']]);
    expect(problemsFrom(trail.slice(2), { hash: last(trail), seq: 6 }, 'unknown')).toEqual([['', 'the link does not end its chain on the last event']]);
    expect(problemsFrom([trail[2], trail[4]], head, 'unknown')).toEqual([
      ['evt_5', 'expected sequence 4, found 5'],
      ['evt_5', 'previous hash does not match'],
    ]);
  });
});
