import { describe, expect, it } from 'vitest';
import { changesField, editableFields, fieldValueProblem } from './field-edits.js';
import { undeclaredType, type FieldFormat, type ResourceType } from './resource.js';

const job: ResourceType = {
  type: 'job',
  label: 'Job',
  declared: true,
  fields: [
    { key: 'status', label: 'Status', format: 'status', public: true },
    { key: 'cost', label: 'Cost', format: 'number', public: false },
    { key: 'due', label: 'Due date', format: 'date', public: true },
    { key: 'title', label: 'Title', format: 'text', public: true },
  ],
  tables: [],
};
const keys = (type: ResourceType, selection: Parameters<typeof editableFields>[1], fields: Record<string, string | number | null>) => editableFields(type, selection, fields).map((f) => f.key);

describe('editableFields: what the view shows, less the meta fields', () => {
  const fields = { status: 'running', cost: 120, note: 'internal' };

  it('default: the declared public fields, present or not', () => {
    expect(editableFields(job, 'default', fields)).toEqual([
      { key: 'status', label: 'Status', format: 'status', declared: true, value: 'running' },
      { key: 'due', label: 'Due date', format: 'date', declared: true, value: null },
    ]);
  });

  it('all: every declared field and every field present, undeclared ones as text', () => {
    expect(keys(job, 'all', fields)).toEqual(['status', 'cost', 'due', 'note']);
    expect(editableFields(job, 'all', fields).at(-1)).toEqual({ key: 'note', label: 'Note', format: 'text', declared: false, value: 'internal' });
  });

  it('a list: exactly its keys', () => {
    expect(keys(job, ['cost', 'nope', 'id', 'updated_at'], fields)).toEqual(['cost', 'nope']);
  });

  it('an undeclared type by default shows only id, title and updated_at: nothing to edit', () => {
    expect(keys(undeclaredType('thing'), 'default', { status: 'x' })).toEqual([]);
    expect(keys(undeclaredType('thing'), 'all', { status: 'x', n: 1 })).toEqual(['status', 'n']);
  });

  it('a prototype name is a key like any other, never a property of Object', () => {
    expect(editableFields(job, ['constructor'], {})).toEqual([{ key: 'constructor', label: 'Constructor', format: 'text', declared: false, value: null }]);
  });
});

describe('fieldValueProblem', () => {
  const declared = (format: FieldFormat) => ({ format, declared: true });
  const cases: Array<[FieldFormat, unknown[], unknown[]]> = [
    ['text', ['', 'a\nb\tc'], [1, true]],
    ['number', [0, -1.5, 1e21], ['1', true, Number.POSITIVE_INFINITY, Number.NaN]],
    ['boolean', [true, false], ['true', 0]],
    ['date', ['2026-02-28', '2024-02-29'], ['2026-02-29', '2026-13-01', '2026-1-1', '2026-01-01T00:00:00Z', 20260101]],
    ['datetime', ['2026-02-28T10:00:00Z', '2026-02-28T10:00Z', '2026-02-28T10:00:00.123+05:30'], ['2026-02-28T10:00:00', '2026-02-28 10:00:00Z', '2026-02-30T10:00:00Z', '2026-02-28T24:00:00Z', 0]],
    ['url', ['https://example.com', 'http://a.test/x?y=1#z'], ['javascript:alert(1)', 'ftp://a.test', 'example.com', 'https://a b.test', `https://a.test/${'x'.repeat(2048)}`]],
    ['email', ['ada@example.test'], ['ada', 'ada@example', 'a b@example.test', '<a@b.test>', 1]],
    ['status', ['done', 'in review'], ['', '   ', 'two\nlines', 'x'.repeat(201), 1]],
  ];
  for (const [format, good, bad] of cases) {
    it(`${format}: takes ${good.map((v) => JSON.stringify(v)).join(', ')}`, () => {
      for (const v of good) expect(fieldValueProblem(declared(format), v as never), JSON.stringify(v)).toBeNull();
      for (const v of bad) expect(fieldValueProblem(declared(format), v as never), JSON.stringify(v)).toEqual(expect.any(String));
    });
  }

  it('null always fits; a NUL never does; an undeclared field takes any scalar', () => {
    for (const format of ['text', 'number', 'date', 'url'] as const) expect(fieldValueProblem(declared(format), null)).toBeNull();
    expect(fieldValueProblem(declared('text'), 'a\u0000b')).toMatch(/NUL/);
    const loose = { format: 'text' as const, declared: false };
    for (const v of ['x', 3, false]) expect(fieldValueProblem(loose, v)).toBeNull();
    expect(fieldValueProblem(loose, '\u0000')).toMatch(/NUL/);
  });
});

describe('changesField', () => {
  it('an absent field reads as null', () => {
    expect(changesField(undefined, null)).toBe(false);
    expect(changesField(null, null)).toBe(false);
    expect(changesField(undefined, 'x')).toBe(true);
    expect(changesField(3, 3)).toBe(false);
    expect(changesField(3, '3')).toBe(true);
    expect(changesField(false, null)).toBe(true);
  });
});
