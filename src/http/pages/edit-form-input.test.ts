import { describe, expect, it } from 'vitest';
import type { EditableField } from '../../domain/field-edits.js';
import type { FieldFormat, FieldValue } from '../../domain/resource.js';
import { formField, localDateTime, readEditForm } from './edit-form-input.js';

const field = (format: FieldFormat, value: FieldValue, declared = true): EditableField => ({ key: 'k', label: 'K', format, declared, value });

/** What a browser posts for an untouched input, then the post as read back. */
const untouched = (f: EditableField) => {
  const input = formField(f);
  const body: Record<string, string> = { 'shown.k': input.marker };
  if (input.kind !== 'checkbox' || input.checked) body['field.k'] = input.value;
  return readEditForm(body);
};

describe('formField', () => {
  it('gives each format its input, showing the current value', () => {
    expect(formField(field('number', 4.5))).toMatchObject({ kind: 'number', value: '4.5', marker: 'number:4.5' });
    expect(formField(field('date', '2026-12-01'))).toMatchObject({ kind: 'date', value: '2026-12-01' });
    expect(formField(field('datetime', '2026-11-20T14:30:00+02:00'))).toMatchObject({ kind: 'datetime-local', value: '2026-11-20T12:30' });
    expect(formField(field('url', 'https://a.test'))).toMatchObject({ kind: 'url' });
    expect(formField(field('email', 'a@b.test'))).toMatchObject({ kind: 'email' });
    expect(formField(field('status', 'done'))).toMatchObject({ kind: 'text' });
    expect(formField(field('text', 'a\nb'))).toMatchObject({ kind: 'textarea', value: 'a\nb' });
    expect(formField(field('boolean', true))).toMatchObject({ kind: 'checkbox', checked: true, marker: 'boolean:true' });
    expect(formField(field('boolean', null))).toMatchObject({ kind: 'checkbox', checked: false, marker: 'boolean:' });
  });

  it('falls back to a text input where the value does not fit its format, so the browser never drops it', () => {
    expect(formField(field('number', 'lots'))).toMatchObject({ kind: 'text', value: 'lots' });
    expect(formField(field('date', 'soon'))).toMatchObject({ kind: 'text' });
    expect(formField(field('datetime', 'yesterday'))).toMatchObject({ kind: 'text' });
    expect(formField(field('email', 'nobody'))).toMatchObject({ kind: 'text' });
    expect(formField(field('boolean', 'yes'))).toMatchObject({ kind: 'text', value: 'yes' });
  });

  it('edits an undeclared field as what it holds', () => {
    expect(formField(field('text', 3, false))).toMatchObject({ kind: 'number', marker: 'number:3' });
    expect(formField(field('text', false, false))).toMatchObject({ kind: 'checkbox' });
  });

  it('an untouched form changes nothing, whatever the field holds', () => {
    const values: Array<[FieldFormat, FieldValue]> = [
      ['number', 4.5], ['number', null], ['number', 'lots'], ['date', '2026-12-01'], ['datetime', '2026-11-20T14:30:00Z'], ['datetime', '2026-11-20T14:30:05.250Z'],
      ['boolean', true], ['boolean', false], ['boolean', null], ['text', 'a\r\nb'], ['text', null], ['status', 'done'], ['url', 'https://a.test'],
    ];
    for (const [format, value] of values) expect(untouched(field(format, value)).fields, `${format} ${JSON.stringify(value)}`).toEqual({});
  });
});

describe('readEditForm', () => {
  it('reads typed values in their format; empty clears', () => {
    const read = readEditForm({
      base_version: '3',
      'shown.n': 'number:1', 'field.n': '2.5',
      'shown.t': 'text:a', 'field.t': 'line\r\nbreak',
      'shown.d': 'datetime:', 'field.d': '2026-01-02T03:04',
      'shown.s': 'datetime:', 'field.s': '2026-01-02T03:04:05',
      'shown.c': 'status:x', 'field.c': '',
      'shown.b': 'boolean:', 'field.b': 'true',
      'shown.off': 'boolean:true',
    });
    expect(read.baseVersion).toBe(3);
    expect(read.fields).toEqual({ n: 2.5, t: 'line\nbreak', d: '2026-01-02T03:04:00Z', s: '2026-01-02T03:04:05Z', c: null, b: true, off: false });
  });

  it('leaves what does not parse as text, for the edit to refuse by name', () => {
    expect(readEditForm({ 'shown.n': 'number:1', 'field.n': 'lots' }).fields).toEqual({ n: 'lots' });
    expect(readEditForm({ 'shown.n': 'number:1', 'field.n': '1e999' }).fields).toEqual({ n: '1e999' });
  });

  it('refuses a form that is not one of ours', () => {
    const bodies: Array<Record<string, string>> = [{ 'shown.bad key': 'text:' }, { 'shown.k': 'nocolon' }, { 'shown.k': 'weird:x' }, { 'shown.__proto__': 'text:' }, { base_version: 'x' }, { base_version: '0' }];
    for (const body of bodies) {
      expect(() => readEditForm(body), JSON.stringify(body)).toThrow(expect.objectContaining({ reason: 'invalid_request' }));
    }
  });

  it('localDateTime writes what datetime-local inputs write', () => {
    expect(localDateTime('2026-11-20T14:30:00Z')).toBe('2026-11-20T14:30');
    expect(localDateTime('2026-11-20T14:30:07Z')).toBe('2026-11-20T14:30:07');
    expect(localDateTime('2026-11-20T14:30:07.250Z')).toBe('2026-11-20T14:30:07.25');
    expect(localDateTime('not a date')).toBeNull();
  });
});
