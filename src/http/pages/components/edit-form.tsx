import type { RecordEditor } from '../../../app/open-record-editor.js';
import { BASE_VERSION, FIELD_PREFIX, SHOWN_PREFIX, formField, type FormField } from '../edit-form-input.js';
import { Document } from './document.js';

/** Where the form stands: where it posts, where Cancel leads, and what comes back with it after a refused save. */
export type EditFormState = {
  action: string;
  back: string;
  /** The version the edit is made on. */
  baseVersion: number;
  /** What was typed, by key, shown again after an error (a checkbox: `true` when ticked). */
  typed?: Record<string, string | undefined>;
  /** Why the last save was refused; `key` marks the field at fault. */
  error?: { message: string; key?: string };
};

function FieldInput({ input, typed, invalid }: { input: FormField; typed: Record<string, string | undefined> | undefined; invalid: boolean }) {
  const { field, kind } = input;
  const id = `field-${field.key}`;
  const name = `${FIELD_PREFIX}${field.key}`;
  const hasTyped = typed !== undefined && Object.hasOwn(typed, field.key);
  const value = hasTyped ? (typed[field.key] ?? '') : input.value;
  const common = { id, name, 'aria-invalid': invalid || undefined, 'aria-describedby': invalid ? 'edit-error' : undefined };
  const marker = <input type="hidden" name={`${SHOWN_PREFIX}${field.key}`} value={input.marker} />;
  if (kind === 'checkbox') {
    const checked = hasTyped ? typed[field.key] === 'true' : input.checked;
    return (
      <div className="edit-field edit-check">
        <input {...common} type="checkbox" value="true" defaultChecked={checked} />
        <label htmlFor={id}>{field.label}</label>
        {marker}
      </div>
    );
  }
  const label = kind === 'datetime-local' ? `${field.label} (UTC)` : field.label;
  return (
    <div className="edit-field">
      <label htmlFor={id}>{label}</label>
      {kind === 'textarea' ? (
        <textarea {...common} rows={value.length > 200 || value.includes('\n') ? 6 : 3} maxLength={100_000} defaultValue={value} />
      ) : (
        <input
          {...common}
          type={kind}
          defaultValue={value}
          step={kind === 'number' ? 'any' : kind === 'datetime-local' ? 1 : undefined}
          maxLength={kind === 'text' || kind === 'url' || kind === 'email' ? 100_000 : undefined}
          autoComplete="off"
        />
      )}
      {marker}
    </div>
  );
}

/**
 * The edit form of a record (editor links): one input per field the link
 * lets the holder change, suited to its format, with its current value, and
 * the version the edit is made on. A plain POST; no script.
 */
export function EditRecordView({ editor, form }: { editor: RecordEditor; form: EditFormState }) {
  const inputs = editor.fields.map(formField);
  return (
    <Document title={`Edit ${editor.title}`}>
      <nav className="crumbs" aria-label="Back">
        <a href={form.back}>← {editor.title}</a>
      </nav>
      <header className="page-head">
        <div className="head-text">
          <p className="eyebrow">{editor.typeLabel} · Edit</p>
          <h1>{editor.title}</h1>
        </div>
      </header>
      <section className="card" aria-label="Edit fields">
        {form.error ? (
          <p className="form-error edit-error" id="edit-error" role="alert">
            {form.error.message}
          </p>
        ) : null}
        {inputs.length === 0 ? (
          <p className="empty">None of the fields shared here can be edited through this link.</p>
        ) : (
          <form className="form edit-form" method="post" action={form.action}>
            <input type="hidden" name={BASE_VERSION} value={String(form.baseVersion)} />
            {inputs.map((input) => (
              <FieldInput key={input.field.key} input={input} typed={form.typed} invalid={form.error?.key === input.field.key} />
            ))}
            <div className="form-actions">
              <button type="submit">Save changes</button>
              <a className="button secondary" href={form.back}>
                Cancel
              </a>
            </div>
          </form>
        )}
        <p className="version-note">Editing version {form.baseVersion}. Saving keeps it and makes a new version.</p>
      </section>
    </Document>
  );
}
