import type { FieldSelection } from './link.js';
import { PLAIN_EMAIL, shownField, visibleFieldKeys, type FieldFormat, type FieldValue, type ResourceType } from './resource.js';

/** The fields every resource has that are not its own to edit: the id, the title (a property of the resource) and the time of its version. */
const META_FIELDS: ReadonlySet<string> = new Set(['id', 'title', 'updated_at']);

/** A field an editor link may change, with what it holds now. `declared`: its format comes from the type, not the default. */
export type EditableField = { key: string; label: string; format: FieldFormat; declared: boolean; value: FieldValue };

/**
 * The fields of a record an editor link may change: the ones its field
 * selection shows (the same projection as the view), less the meta fields.
 * With `all`, a declared field the record does not hold yet counts as shown,
 * so it can be filled in; a key nobody declared and the record does not hold
 * is never editable, whatever the selection.
 */
export function editableFields(type: ResourceType, selection: FieldSelection, fields: Readonly<Record<string, FieldValue>>): EditableField[] {
  const present = Object.keys(fields);
  const candidates = selection === 'all' ? [...new Set([...type.fields.map((f) => f.key), ...present])] : present;
  return visibleFieldKeys(type, selection, candidates)
    .filter((key) => !META_FIELDS.has(key))
    .map((key) => ({ ...shownField(type, key, fields), declared: type.fields.some((f) => f.key === key) }));
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

function isCalendarDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

function isDateTime(s: string): boolean {
  const m = DATETIME.exec(s);
  if (!m || !isCalendarDate(m[1])) return false;
  const [h, mi, sec] = [Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
  return h <= 23 && mi <= 59 && sec <= 59 && !Number.isNaN(Date.parse(s));
}

function isHttpUrl(s: string): boolean {
  if (s.length > 2048 || /\s/.test(s) || !/^https?:\/\//i.test(s)) return false;
  try {
    const url = new URL(s);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Why a value does not fit a field, or null when it does. `null` always fits
 * (it clears the field). A declared field takes only its format; a field no
 * type declares (shown as text) takes any text, number or boolean, as PUT does.
 * No string may hold a NUL, and only text may hold other control characters
 * (line breaks, tabs).
 */
export function fieldValueProblem(field: Pick<EditableField, 'format' | 'declared'>, value: FieldValue): string | null {
  if (value === null) return null;
  if (typeof value === 'string' && value.includes('\u0000')) return 'must not contain a NUL character';
  if (!field.declared && field.format === 'text') return null;
  if (typeof value === 'string' && field.format !== 'text' && CONTROL.test(value)) return 'must be on one line, without control characters';
  switch (field.format) {
    case 'text':
      return typeof value === 'string' ? null : 'must be text (a string)';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : 'must be a number';
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'date':
      return typeof value === 'string' && isCalendarDate(value) ? null : 'must be a date written YYYY-MM-DD';
    case 'datetime':
      return typeof value === 'string' && isDateTime(value) ? null : 'must be a date and time in ISO 8601 with a time zone, e.g. 2026-05-01T14:30:00Z';
    case 'url':
      return typeof value === 'string' && isHttpUrl(value) ? null : 'must be an absolute http:// or https:// address';
    case 'email':
      return typeof value === 'string' && value.length <= 320 && PLAIN_EMAIL.test(value) ? null : 'must be an email address';
    case 'status':
      return typeof value === 'string' && value.trim() !== '' && value.length <= 200 ? null : 'must be a status word (1-200 characters)';
  }
}

/** Whether an edit changes a field: a field the record does not hold reads as null, so clearing it changes nothing. */
export const changesField = (current: FieldValue | undefined, next: FieldValue): boolean => (current ?? null) !== next;
