import { describe, expect, it } from 'vitest';
import { pagingLinks, readPageState } from './paging.js';

describe('paging', () => {
  const path = '/shared/tok';

  it('walks forward carrying the way back, and back again', () => {
    const p1 = readPageState({});
    const l1 = pagingLinks(path, p1, 'c1');
    expect(l1).toEqual({ offset: 0, previous: null, first: null, next: '/shared/tok?cursor=c1&n=2' });

    const p2 = readPageState({ cursor: 'c1', n: 2 });
    const l2 = pagingLinks(path, p2, 'c2');
    expect(l2.offset).toBe(100);
    expect(l2.previous).toBe(path);
    expect(l2.next).toBe('/shared/tok?cursor=c2&prev=c1&n=3');

    const p3 = readPageState({ cursor: 'c2', prev: 'c1', n: 3 });
    const l3 = pagingLinks(path, p3, null);
    expect(l3.offset).toBe(200);
    expect(l3.previous).toBe('/shared/tok?cursor=c1&n=2');
    expect(l3.next).toBeNull();
  });

  it('drops tampered trail entries and offers the first page when the way back is lost', () => {
    const s = readPageState({ cursor: 'c9', prev: '"><x.c1', n: 9 });
    expect(s.trail).toEqual(['c1']);
    const lost = pagingLinks(path, readPageState({ cursor: 'c9', n: 9 }), null);
    expect(lost.previous).toBeNull();
    expect(lost.first).toBe(path);
  });

  it('keeps URLs short by dropping a very long trail', () => {
    const long = Array.from({ length: 40 }, (_, i) => `${'x'.repeat(60)}${i}`);
    const l = pagingLinks(path, { cursor: 'cur', trail: long, number: 42 }, 'nxt');
    expect(l.next).toBe('/shared/tok?cursor=nxt&n=43');
  });
});
