import { expect, it } from 'vitest';
import { createTurnBatch } from '../src/storage/turn-batch.js';

it('loads the keys of one turn in one call, each once, and answers every caller', async () => {
  const calls: string[][] = [];
  const batch = createTurnBatch<string, number>(async (keys) => {
    calls.push(keys);
    return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, k.length]));
  });
  const answers = await Promise.all(['a', 'bb', 'a', 'missing', 'ccc'].map((k) => batch.get(k)));
  expect(answers).toEqual([1, 2, 1, undefined, 3]);
  expect(calls).toEqual([['a', 'bb', 'missing', 'ccc']]);
  // The next turn is another call.
  expect(await batch.get('dddd')).toBe(4);
  expect(calls).toHaveLength(2);
});

it('fails every caller of a turn whose load failed, thrown or rejected, and goes on afterwards', async () => {
  let mode: 'throw' | 'reject' | 'ok' = 'throw';
  const batch = createTurnBatch<string, string>((keys) => {
    if (mode === 'throw') throw new Error('thrown');
    if (mode === 'reject') return Promise.reject(new Error('rejected'));
    return Promise.resolve(new Map(keys.map((k) => [k, k.toUpperCase()])));
  });
  await expect(Promise.all([batch.get('x'), batch.get('y')])).rejects.toThrow('thrown');
  mode = 'reject';
  const both = await Promise.allSettled([batch.get('x'), batch.get('y')]);
  expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  mode = 'ok';
  expect(await batch.get('z')).toBe('Z');
});
