import { describe, expect, it } from 'vitest';
import { newId } from './ids.js';

describe('newId', () => {
  it('is the prefix, 10 characters of time and 16 random ones, in Crockford base32', () => {
    expect(newId('lnk')).toMatch(/^lnk_[0-9abcdefghjkmnpqrstvwxyz]{26}$/);
  });

  it('ids made in one millisecond sort in the order they were made', () => {
    const now = 1_790_000_000_000;
    const ids = Array.from({ length: 2000 }, () => newId('evt', now));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('ids of later milliseconds sort after, and a new millisecond draws a new random part', () => {
    const a = newId('cmt', 1_790_000_000_000);
    const b = newId('cmt', 1_790_000_000_001);
    const c = newId('cmt', 1_790_000_000_001);
    expect([a, b, c].sort()).toEqual([a, b, c]);
    expect(a.slice(14)).not.toBe(b.slice(14));
  });
});
