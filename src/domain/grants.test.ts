import { describe, expect, it } from 'vitest';
import { GRANT_TTL_MS, issueGrant, readGrant, type GrantClaims } from './grants.js';
import { createSecretBox } from './tokens.js';

const box = createSecretBox('11'.repeat(32));
const otherBox = createSecretBox('22'.repeat(32));
const claims: GrantClaims = { linkId: 'lnk_01abc', epoch: 4, expiresAt: 1_800_000_000_000 + GRANT_TTL_MS, passwordUnlocked: true, email: 'ada@example.test' };

describe('grants', () => {
  it('round-trips what was issued', () => {
    const g = issueGrant(box, claims);
    expect(g).toMatch(/^g1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(readGrant(box, g)).toEqual(claims);
    const plain = { ...claims, passwordUnlocked: false, email: null };
    expect(readGrant(box, issueGrant(box, plain))).toEqual(plain);
  });

  it('a tampered payload is null', () => {
    const [v, payload, sig] = issueGrant(box, claims).split('.');
    const forged = Buffer.from(JSON.stringify([claims.linkId, claims.epoch + 1, claims.expiresAt, 1, claims.email])).toString('base64url');
    expect(readGrant(box, `${v}.${forged}.${sig}`)).toBeNull();
    // One character flipped.
    const flipped = payload.slice(0, -1) + (payload.endsWith('A') ? 'B' : 'A');
    expect(readGrant(box, `${v}.${flipped}.${sig}`)).toBeNull();
  });

  it('a tampered signature is null', () => {
    const [v, payload, sig] = issueGrant(box, claims).split('.');
    expect(readGrant(box, `${v}.${payload}.${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    expect(readGrant(box, `${v}.${payload}.`)).toBeNull();
    expect(readGrant(box, `${v}.${payload}`)).toBeNull();
  });

  it('a grant signed under another secret is null', () => {
    expect(readGrant(otherBox, issueGrant(box, claims))).toBeNull();
    expect(readGrant(box, issueGrant(otherBox, claims))).toBeNull();
  });

  it('anything else is null, never a throw', () => {
    for (const s of [undefined, '', 'g1', 'g1..', 'g2.a.b', 'x'.repeat(2000), 'g1.%%%.sig']) expect(readGrant(box, s)).toBeNull();
    // A correctly signed payload of the wrong shape is refused too.
    for (const body of ['null', '{}', '["lnk", "1", 2]', 'not json']) {
      const payload = Buffer.from(body).toString('base64url');
      expect(readGrant(box, `g1.${payload}.${box.sign(`g1.${payload}`)}`)).toBeNull();
    }
  });
});
