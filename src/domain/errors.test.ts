import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { statusFor } from '../http/error-handler.js';
import { AppError, errorReasons, isAppError, notFound } from './errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

/** `| \`reason\` | status | …` rows of the doc's tables. */
const documented = new Map(
  [...doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((m) => [m[1], Number(m[2])] as const),
);

describe('docs/errors.md', () => {
  it.each(errorReasons)('documents %s', (reason) => {
    expect(documented.has(reason), `docs/errors.md has no table row for \`${reason}\``).toBe(true);
  });

  it('gives each reason the status the error handler answers with', () => {
    for (const reason of errorReasons) expect({ reason, status: documented.get(reason) }).toEqual({ reason, status: statusFor[reason] });
  });

  it('documents no reason that does not exist', () => {
    expect([...documented.keys()].filter((r) => !(errorReasons as readonly string[]).includes(r))).toEqual([]);
  });
});

describe('AppError', () => {
  it('carries its reason, message and details', () => {
    const e = new AppError('policy_violation', 'Too long', { rule: 'max_expiry_days' });
    expect(isAppError(e)).toBe(true);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'AppError', reason: 'policy_violation', message: 'Too long', details: { rule: 'max_expiry_days' } });
    expect(isAppError(new Error('x'))).toBe(false);
  });

  it('notFound names what is missing', () => {
    expect(notFound('Link')).toMatchObject({ reason: 'not_found', message: 'Link not found' });
  });

  it('has snake_case reasons, each once', () => {
    for (const r of errorReasons) expect(r).toMatch(/^[a-z]+(_[a-z]+)*$/);
    expect(new Set(errorReasons).size).toBe(errorReasons.length);
  });
});
