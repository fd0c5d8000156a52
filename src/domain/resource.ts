import { createHash } from 'node:crypto';
import type { FieldSelection } from './link.js';

export const fieldFormats = ['text', 'number', 'date', 'datetime', 'status', 'boolean', 'url', 'email'] as const;
export type FieldFormat = (typeof fieldFormats)[number];

export type FieldDef = { key: string; label: string; format: FieldFormat; public: boolean };
export type ColumnDef = { key: string; label: string; format: FieldFormat };
export type TableDef = { key: string; label: string; columns: ColumnDef[] };

export type ResourceType = {
  type: string;
  label: string;
  fields: FieldDef[];
  tables: TableDef[];
  /** False for a type nobody declared: the defaults of DESIGN §2 apply. */
  declared: boolean;
};

export type FieldValue = string | number | boolean | null;
export type Row = Record<string, FieldValue>;

export type ResourceContent = {
  title: string;
  fields: Record<string, FieldValue>;
  tables: Record<string, Row[]>;
};

export type ResourceVersion = ResourceContent & {
  workspaceId: string;
  type: string;
  id: string;
  version: number;
  contentHash: string;
  createdAt: number;
};

/**
 * A property of a plain object by a key that came from outside: only its own
 * properties count, so keys like `constructor` or `valueOf` never reach the prototype.
 */
export function own<V>(obj: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Formats of the meta fields every resource has, unless its type declares them otherwise. */
export const metaFieldFormats: Readonly<Record<string, FieldFormat>> = Object.freeze({ updated_at: 'datetime' });

/** Fields public by default on an undeclared type. */
export const undeclaredPublicFields = ['id', 'title', 'updated_at'] as const;

/** The behaviour of a type nobody declared: every field is text, only id/title/updated_at public. */
export function undeclaredType(type: string): ResourceType {
  return { type, label: humanize(type), fields: [], tables: [], declared: false };
}

export function humanize(key: string): string {
  const s = key.replace(/[_-]+/g, ' ').trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Stable serialisation (sorted keys) so identical content hashes identically. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => canonicalKeyOrder(a, b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export const contentHash = (c: ResourceContent): string =>
  createHash('sha256').update(canonicalJson(c)).digest('hex');

/** The order in which `canonicalJson` writes an object's keys. */
export const canonicalKeyOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Feeds `contentHashOf` one table: its key and its rows in order, a page at a time. */
export type TableRowPages = { key: string; pages: () => AsyncIterable<Row[]> };

/**
 * The same digest as `contentHash`, with the tables read a page at a time
 * instead of held in memory: a version made by an edit carries the rows of
 * the one before it, and its hash must be the one a PUT of the same content
 * would compute, so that identical content still makes no version.
 */
export async function contentHashOf(title: string, fields: Record<string, FieldValue>, tables: TableRowPages[]): Promise<string> {
  const hash = createHash('sha256');
  // canonicalJson({title, fields, tables}): the keys sorted, so fields, tables, title.
  hash.update(`{"fields":${canonicalJson(fields)},"tables":{`);
  const sorted = [...tables].sort((a, b) => canonicalKeyOrder(a.key, b.key));
  for (let i = 0; i < sorted.length; i++) {
    hash.update(`${i > 0 ? ',' : ''}${JSON.stringify(sorted[i].key)}:[`);
    let first = true;
    for await (const page of sorted[i].pages()) {
      for (const row of page) {
        hash.update(`${first ? '' : ','}${canonicalJson(row)}`);
        first = false;
      }
    }
    hash.update(']');
  }
  hash.update(`},"title":${JSON.stringify(title)}}`);
  return hash.digest('hex');
}

/**
 * An email address as an `email` field may hold it. Deliberately narrow: no
 * spaces, quotes, angle brackets or query characters, so it can be written
 * into a mailto: link without smuggling headers in.
 */
export const PLAIN_EMAIL = /^[^\s@<>()[\]\\,;:"?&=/]+@[^\s@<>()[\]\\,;:"?&=/]+\.[^\s@<>()[\]\\,;:"?&=/]+$/;

/** A field of the resource as a recipient sees it, with its label and format. */
export type ShownField = { key: string; label: string; format: FieldFormat; value: FieldValue };

/**
 * Which field keys a link shows. `default` is the type's public flags (or
 * id/title/updated_at for an undeclared type); `all` is every field present;
 * a list is exactly those keys.
 */
export function visibleFieldKeys(type: ResourceType, selection: FieldSelection, present: string[]): string[] {
  if (selection === 'all') {
    const declared = type.fields.map((f) => f.key);
    return [...declared.filter((k) => present.includes(k)), ...present.filter((k) => !declared.includes(k))];
  }
  if (selection === 'default') {
    if (!type.declared) return present.filter((k) => (undeclaredPublicFields as readonly string[]).includes(k));
    return type.fields.filter((f) => f.public).map((f) => f.key);
  }
  return selection;
}

/** Projects a resource's fields to the ones a link allows, in declaration order, with labels. */
export function projectFields(
  type: ResourceType,
  selection: FieldSelection,
  fields: Record<string, FieldValue>,
): ShownField[] {
  return visibleFieldKeys(type, selection, Object.keys(fields)).map((key) => shownField(type, key, fields));
}

/** One field as shown: the type's label and format when it declares the key, else a label made from the key (and a meta field's own format, else text). */
export function shownField(type: ResourceType, key: string, fields: Readonly<Record<string, FieldValue>>): ShownField {
  const def = type.fields.find((f) => f.key === key);
  return { key, label: def?.label ?? humanize(key), format: def?.format ?? own(metaFieldFormats, key) ?? 'text', value: own(fields, key) ?? null };
}

/** Keeps only the visible keys of a row (for collections, where each row is a resource). */
export function projectRow(keys: string[], row: Row): Row {
  const out: Row = {};
  for (const k of keys) out[k] = own(row, k) ?? null;
  return out;
}

/** Columns of a declared table, or the keys seen in its rows when undeclared. */
export function tableColumns(type: ResourceType, key: string, rows: Row[]): ColumnDef[] {
  const def = type.tables.find((t) => t.key === key);
  if (def) return def.columns;
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen].map((k) => ({ key: k, label: humanize(k), format: 'text' as const }));
}
