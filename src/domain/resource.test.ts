import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  contentHash,
  contentHashOf,
  humanize,
  projectFields,
  projectRow,
  tableColumns,
  undeclaredType,
  visibleFieldKeys,
  type ResourceContent,
  type ResourceType,
  type Row,
} from './resource.js';

const job: ResourceType = {
  type: 'job',
  label: 'Job',
  declared: true,
  fields: [
    { key: 'status', label: 'Status', format: 'status', public: true },
    { key: 'cost', label: 'Cost', format: 'number', public: false },
    { key: 'due', label: 'Due date', format: 'date', public: true },
  ],
  tables: [{ key: 'tasks', label: 'Tasks', columns: [{ key: 'name', label: 'Name', format: 'text' }] }],
};

describe('field projection on a declared type', () => {
  const fields = { cost: 120, status: 'running', due: '2026-02-01', internal_note: 'do not share' };

  it('default shows the public fields, in declaration order, with labels and formats', () => {
    expect(projectFields(job, 'default', fields)).toEqual([
      { key: 'status', label: 'Status', format: 'status', value: 'running' },
      { key: 'due', label: 'Due date', format: 'date', value: '2026-02-01' },
    ]);
  });

  it('all shows every field present: declared ones first, then the rest as text', () => {
    expect(visibleFieldKeys(job, 'all', Object.keys(fields))).toEqual(['status', 'cost', 'due', 'internal_note']);
    expect(projectFields(job, 'all', fields).at(-1)).toEqual({ key: 'internal_note', label: 'Internal note', format: 'text', value: 'do not share' });
  });

  it('a list shows exactly those keys, even private ones, and nothing else', () => {
    expect(projectFields(job, ['cost'], fields)).toEqual([{ key: 'cost', label: 'Cost', format: 'number', value: 120 }]);
    expect(projectFields(job, ['status', 'internal_note'], fields).map((f) => f.key)).toEqual(['status', 'internal_note']);
  });

  it('a shown field the resource lacks is null, never borrowed from elsewhere', () => {
    expect(projectFields(job, 'default', { status: 'done' })).toEqual([
      { key: 'status', label: 'Status', format: 'status', value: 'done' },
      { key: 'due', label: 'Due date', format: 'date', value: null },
    ]);
  });
});

describe('field projection on an undeclared type', () => {
  const type = undeclaredType('model_inventory');
  const fields = { id: 'm-1', title: 'Credit model', owner: 'risk@example.test', updated_at: '2026-01-01', secret: 'x' };

  it('is named after its key and declares nothing', () => {
    expect(type).toEqual({ type: 'model_inventory', label: 'Model inventory', fields: [], tables: [], declared: false });
  });

  it('default shows only id, title and updated_at (Porthole\'s own timestamp, a datetime), the rest as text', () => {
    expect(projectFields(type, 'default', fields)).toEqual([
      { key: 'id', label: 'Id', format: 'text', value: 'm-1' },
      { key: 'title', label: 'Title', format: 'text', value: 'Credit model' },
      { key: 'updated_at', label: 'Updated at', format: 'datetime', value: '2026-01-01' },
    ]);
    expect(visibleFieldKeys(type, 'default', ['owner', 'secret'])).toEqual([]);
  });

  it('all shows every field of the integrator as text', () => {
    const shown = projectFields(type, 'all', fields);
    expect(shown.map((f) => f.key)).toEqual(Object.keys(fields));
    expect(new Set(shown.filter((f) => f.key !== 'updated_at').map((f) => f.format))).toEqual(new Set(['text']));
  });
});

describe('rows and tables', () => {
  it('projectRow keeps only the visible keys, filling gaps with null', () => {
    expect(projectRow(['a', 'c'], { a: 1, b: 2 })).toEqual({ a: 1, c: null });
  });

  it('a declared table has its declared columns; an undeclared one the keys seen in its rows', () => {
    expect(tableColumns(job, 'tasks', [{ name: 'x', extra: 1 }])).toEqual([{ key: 'name', label: 'Name', format: 'text' }]);
    expect(tableColumns(job, 'gaps', [{ rule_id: 'r1' }, { rule_id: 'r2', severity: 'high' }])).toEqual([
      { key: 'rule_id', label: 'Rule id', format: 'text' },
      { key: 'severity', label: 'Severity', format: 'text' },
    ]);
  });

  it('humanize turns keys into labels', () => {
    expect(humanize('due_date')).toBe('Due date');
    expect(humanize('model-inventory')).toBe('Model inventory');
    expect(humanize('x')).toBe('X');
  });
});

/** The same JSON value with every object's keys in reverse insertion order. */
function reverseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reverseKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).reverse().map(([k, x]) => [k, reverseKeys(x)]));
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it('is the same whatever the key order (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(reverseKeys(v))).toBe(canonicalJson(v));
      }),
    );
  });

  it('is valid JSON for the same value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(JSON.parse(canonicalJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });

  it('tells different values apart (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const same = JSON.stringify(JSON.parse(canonicalJson(a))) === JSON.stringify(JSON.parse(canonicalJson(b)));
        expect(canonicalJson(a) === canonicalJson(b)).toBe(same);
      }),
    );
  });
});

describe('contentHash', () => {
  const content: ResourceContent = { title: 'Nightly import', fields: { status: 'done', rows: 120 }, tables: { tasks: [{ name: 'load', ok: true }] } };

  it('is a hex SHA-256 that ignores key order', () => {
    const reordered: ResourceContent = { tables: { tasks: [{ ok: true, name: 'load' }] }, fields: { rows: 120, status: 'done' }, title: 'Nightly import' };
    expect(contentHash(content)).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHash(reordered)).toBe(contentHash(content));
  });

  it('changes with any change of content, including row order', () => {
    const h = contentHash(content);
    expect(contentHash({ ...content, title: 'Nightly import!' })).not.toBe(h);
    expect(contentHash({ ...content, fields: { ...content.fields, rows: 121 } })).not.toBe(h);
    expect(contentHash({ ...content, fields: { ...content.fields, rows: '120' } })).not.toBe(h);
    expect(contentHash({ ...content, tables: { tasks: [...content.tables.tasks, { name: 'index', ok: false }] } })).not.toBe(h);
    const two: ResourceContent = { ...content, tables: { tasks: [{ name: 'a' }, { name: 'b' }] } };
    expect(contentHash({ ...two, tables: { tasks: [{ name: 'b' }, { name: 'a' }] } })).not.toBe(contentHash(two));
  });
});

describe('contentHashOf', () => {
  /** Tables fed in pages of `size` rows, in the order given (not sorted), as storage reads them. */
  const paged = (tables: Record<string, Row[]>, size: number) =>
    Object.entries(tables).map(([key, rows]) => ({
      key,
      async *pages() {
        for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
      },
    }));

  it('is contentHash, whatever the page size and the order the tables come in', async () => {
    const scalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
    const key = fc.string({ minLength: 1, maxLength: 6 });
    const row = fc.dictionary(key, scalar, { maxKeys: 4 });
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 20 }),
        fc.dictionary(key, scalar, { maxKeys: 6 }),
        fc.dictionary(key, fc.array(row, { maxLength: 12 }), { maxKeys: 4 }),
        fc.integer({ min: 1, max: 5 }),
        async (title, fields, tables, size) => {
          const expected = contentHash({ title, fields, tables });
          expect(await contentHashOf(title, fields, paged(tables, size))).toBe(expected);
          expect(await contentHashOf(title, fields, paged(tables, size).reverse())).toBe(expected);
        },
      ),
    );
  });

  it('counts empty tables as contentHash does', async () => {
    const content: ResourceContent = { title: 't', fields: { a: 1 }, tables: { empty: [], rows: [{ x: 1 }] } };
    expect(await contentHashOf(content.title, content.fields, paged(content.tables, 1))).toBe(contentHash(content));
    expect(await contentHashOf('t', { a: 1 }, [])).toBe(contentHash({ title: 't', fields: { a: 1 }, tables: {} }));
  });
});

describe('meta field formats', () => {
  it('shows updated_at as a datetime unless the type declares it otherwise', () => {
    const shown = projectFields(undeclaredType('thing'), 'default', { id: 'a', title: 't', updated_at: '2026-11-24T10:00:00.000Z' });
    expect(shown.find((f) => f.key === 'updated_at')?.format).toBe('datetime');
  });
});
