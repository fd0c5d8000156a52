import { AppError } from '../../domain/errors.js';
import { fieldValueProblem, type EditableField } from '../../domain/field-edits.js';
import type { FieldFormat, FieldValue } from '../../domain/resource.js';

// The record edit form (no script): what each field's input is, and how a post of it reads back as an edit.

/** The input a field gets: typed where the browser can help and the current value fits it, plain text otherwise. */
export type InputKind = 'textarea' | 'text' | 'number' | 'date' | 'datetime-local' | 'url' | 'email' | 'checkbox';

/** One field of the form: its input, what the input shows, and the hidden marker that says what it showed. */
export type FormField = { field: EditableField; kind: InputKind; value: string; checked: boolean; marker: string };

/** Form names: `field.<key>` carries the value, `shown.<key>` what the form showed (`<format>:<text>`), `base_version` the version. */
export const FIELD_PREFIX = 'field.';
export const SHOWN_PREFIX = 'shown.';
export const BASE_VERSION = 'base_version';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * A stored date-time as a `datetime-local` input writes it, in UTC (the
 * page says so): `YYYY-MM-DDTHH:MM`, with seconds only when there are some
 * and a fraction only as long as it needs, as browsers normalise it. Null
 * when it is not a date-time such an input can show.
 */
export function localDateTime(value: string): string | null {
  if (fieldValueProblem({ format: 'datetime', declared: true }, value) !== null) return null;
  const d = new Date(value);
  const y = d.getUTCFullYear();
  if (Number.isNaN(d.getTime()) || y < 1 || y > 9999) return null;
  const base = `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  const s = d.getUTCSeconds();
  const ms = d.getUTCMilliseconds();
  if (s === 0 && ms === 0) return base;
  // The shortest form, as browsers write it: no trailing zeros in the fraction.
  return ms === 0 ? `${base}:${pad(s)}` : `${base}:${pad(s)}.${pad(ms, 3).replace(/0+$/, '')}`;
}

/** What a field is edited as: its declared format, or for a field nobody declared, what it holds (a number stays a number). */
export function editFormat(field: EditableField): FieldFormat {
  if (field.declared) return field.format;
  if (typeof field.value === 'number') return 'number';
  if (typeof field.value === 'boolean') return 'boolean';
  return 'text';
}

const fits = (field: EditableField, format: FieldFormat) => field.value === null || fieldValueProblem({ format, declared: true }, field.value) === null;

/** The input of one field, showing its current value. */
export function formField(field: EditableField): FormField {
  const format = editFormat(field);
  const v = field.value;
  const text = v === null ? '' : String(v);
  const as = (kind: InputKind, value = text): FormField => ({ field, kind, value, checked: false, marker: `${format}:${value}` });
  switch (format) {
    case 'boolean':
      if (v !== null && typeof v !== 'boolean') return as('text');
      return { field, kind: 'checkbox', value: 'true', checked: v === true, marker: `boolean:${v === null ? '' : String(v)}` };
    case 'number':
      return as(fits(field, 'number') ? 'number' : 'text');
    case 'date':
      return as(fits(field, 'date') ? 'date' : 'text');
    case 'datetime': {
      const local = typeof v === 'string' ? localDateTime(v) : null;
      return v === null || local !== null ? as('datetime-local', local ?? '') : as('text');
    }
    case 'url':
      return as(fits(field, 'url') ? 'url' : 'text');
    case 'email':
      return as(fits(field, 'email') ? 'email' : 'text');
    case 'status':
      return as('text');
    case 'text':
      return as('textarea');
  }
}

/** Browsers send a textarea's line breaks as CRLF; stored text has LF. */
const lines = (s: string) => s.replace(/\r\n?/g, '\n');
const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const LOCAL_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?$/;
const NUMBER = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

/** A posted text as a value of the format: empty clears; what does not parse stays text, for the edit's check to name. */
function valueOf(format: FieldFormat, raw: string): FieldValue {
  if (raw.trim() === '') return null;
  switch (format) {
    case 'number':
      return NUMBER.test(raw) && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'datetime':
      return LOCAL_DATETIME.test(raw) ? `${raw.length === 16 ? `${raw}:00` : raw}Z` : raw;
    case 'text':
      return lines(raw);
    default:
      return raw;
  }
}

const FORMATS: ReadonlySet<string> = new Set(['text', 'number', 'date', 'datetime', 'status', 'boolean', 'url', 'email']);

export type PostedEdit = {
  /** Only the fields whose input changed from what the form showed. */
  fields: Record<string, FieldValue>;
  baseVersion: number | undefined;
  /** What was typed, by key, to show again when the form comes back with an error. */
  typed: Record<string, string | undefined>;
};

/**
 * Reads a posted edit form. Each `shown.<key>` names a field the form had;
 * a field whose input still holds what the form showed is left out, so
 * saving an untouched form changes nothing. An unchecked checkbox sends
 * nothing: it means false, unless the form showed the field unset.
 */
export function readEditForm(body: Readonly<Record<string, string>>): PostedEdit {
  const fields = new Map<string, FieldValue>();
  const typed: Record<string, string | undefined> = {};
  let count = 0;
  for (const [name, marker] of Object.entries(body)) {
    if (!name.startsWith(SHOWN_PREFIX)) continue;
    const key = name.slice(SHOWN_PREFIX.length);
    const colon = marker.indexOf(':');
    const format = marker.slice(0, colon);
    if (!KEY.test(key) || colon < 0 || !FORMATS.has(format) || ++count > 500) {
      throw new AppError('invalid_request', 'The form sent a field it does not have', { field: name });
    }
    const shown = marker.slice(colon + 1);
    const raw = Object.hasOwn(body, FIELD_PREFIX + key) ? body[FIELD_PREFIX + key] : undefined;
    typed[key] = raw;
    if (raw === undefined) {
      // Only a checkbox may be missing: unchecked.
      if (format === 'boolean' && shown === 'true') fields.set(key, false);
      continue;
    }
    if (lines(raw) === lines(shown)) continue;
    fields.set(key, valueOf(format as FieldFormat, raw));
  }
  const version = body[BASE_VERSION];
  let baseVersion: number | undefined;
  if (version !== undefined && version !== '') {
    if (!/^\d{1,10}$/.test(version) || Number(version) < 1) throw new AppError('invalid_request', 'The form’s base_version is not a version number', { field: BASE_VERSION });
    baseVersion = Number(version);
  }
  return { fields: Object.fromEntries(fields), baseVersion, typed };
}
