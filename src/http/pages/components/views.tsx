import type { ReactNode } from 'react';
import type { CollectionContent, RecordContent, TablePage } from '../../../app/shared-content.js';
import type { ColumnDef } from '../../../domain/resource.js';
import { formatValue } from '../format.js';
import type { Paging } from '../paging.js';
import type { RefusalCopy } from '../refusals.js';
import { DataTable, Pager, type TableRow } from './data-table.js';
import { Document } from './document.js';
import { PageHead, type Chrome } from './toolbar.js';
import { Value } from './value.js';

const firstPage: Paging = { offset: 0, previous: null, first: null, next: null };

function BackLink({ href, label }: { href: string; label: string }) {
  return (
    <nav className="crumbs" aria-label="Back">
      <a href={href}>← {label}</a>
    </nav>
  );
}


function Fields({ record, locale }: { record: RecordContent; locale: string }) {
  if (record.fields.length === 0) return <p className="empty">No fields are shared for this record.</p>;
  return (
    <dl className="fields">
      {record.fields.map((f) => (
        <div className={`field field-${f.format}`} key={f.key}>
          <dt>{f.label}</dt>
          <dd>
            <Value value={f.value} format={f.format} locale={locale} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

function VersionNote({ record, locale }: { record: RecordContent; locale: string }) {
  const updated = formatValue(record.updatedAt, 'datetime', locale);
  const when = updated.kind === 'time' ? updated.text : null;
  return (
    <p className="version-note">
      {record.version < record.latestVersion ? `Snapshot: version ${record.version} of ${record.latestVersion}` : `Version ${record.version}`}
      {when ? ` · saved ${when}` : null}
    </p>
  );
}

/** One table of a record: its first page here, later pages on their own page. */
export function TableSection({ chrome, table, paging, headingLevel = 2, ownDownload = false }: { chrome: Chrome; table: TablePage; paging: Paging; headingLevel?: 1 | 2; ownDownload?: boolean }) {
  const id = `table-${table.key}`;
  const rows: TableRow[] = table.rows.map((cells) => ({ cells }));
  return (
    <section className="card table-card" aria-labelledby={id}>
      <div className="section-head">
        {headingLevel === 2 ? <h2 id={id}>{table.label}</h2> : <h2 id={id} className="sr-only">{table.label}</h2>}
        {ownDownload && chrome.link.displayToolbar && chrome.link.permissions.export ? (
          <a className="small-link" href={`${chrome.base}/export.csv?table=${encodeURIComponent(table.key)}`} download="">
            Download {table.label} as CSV
          </a>
        ) : null}
      </div>
      <DataTable label={table.label} columns={table.columns} rows={rows} locale={chrome.locale} />
      <Pager paging={paging} shown={table.rows.length} total={table.total} />
    </section>
  );
}

/** A single record: its fields, then each of its tables. */
/**
 * `tablesPath` is where the record's table pages live (`…/tables/<key>`);
 * `ownDownloads` offers each table's CSV, which only the link's own resource can export;
 * `children` come last (the comments, where the link takes them).
 */
export function RecordView({
  chrome,
  record,
  back,
  tablesPath,
  ownDownloads = false,
  children,
}: {
  chrome: Chrome;
  record: RecordContent;
  back?: { href: string; label: string };
  tablesPath: string;
  ownDownloads?: boolean;
  children?: ReactNode;
}) {
  const tablePath = (key: string) => `${tablesPath}/tables/${encodeURIComponent(key)}`;
  return (
    <Document title={record.title}>
      {back ? <BackLink {...back} /> : null}
      <PageHead chrome={chrome} eyebrow={record.typeLabel} title={record.title} exportsList={back !== undefined} />
      <section className="card" aria-label="Details">
        <Fields record={record} locale={chrome.locale} />
        <VersionNote record={record} locale={chrome.locale} />
      </section>
      {record.tables.map((t) => (
        <TableSection
          key={t.key}
          chrome={chrome}
          table={t}
          ownDownload={ownDownloads && record.tables.length > 1}
          paging={{ ...firstPage, next: t.nextCursor ? `${tablePath(t.key)}?cursor=${encodeURIComponent(t.nextCursor)}&n=2` : null }}
        />
      ))}
      {children}
    </Document>
  );
}

/** A later page of one of a record's tables. */
/** `back` is the record's page; `exportTable` offers this table's download where the link can export it. */
export function TablePageView({ chrome, title, typeLabel, table, paging, back, exportTable }: { chrome: Chrome; title: string; typeLabel: string; table: TablePage; paging: Paging; back: string; exportTable?: string }) {
  return (
    <Document title={`${table.label} · ${title}`}>
      <BackLink href={back} label={title} />
      <PageHead chrome={chrome} eyebrow={`${typeLabel} · ${title}`} title={table.label} exportTable={exportTable} />
      <TableSection chrome={chrome} table={table} paging={paging} headingLevel={1} />
    </Document>
  );
}

/** The column that leads to a record: the title when shown as text, else a column of its own. */
function linkedColumns(columns: ColumnDef[]): { columns: ColumnDef[]; linkColumn: string } {
  const title = columns.find((c) => c.key === 'title' && c.format === 'text');
  if (title) return { columns, linkColumn: 'title' };
  return { columns: [{ key: '_record', label: 'Record', format: 'text' }, ...columns], linkColumn: '_record' };
}

/** A collection: its resources as one table, paged, rows opening as records when the link allows it; `children` below it. */
export function CollectionView({ chrome, content, paging, children }: { chrome: Chrome; content: CollectionContent; paging: Paging; children?: ReactNode }) {
  const canOpen = chrome.link.permissions.openRecords;
  const base = canOpen ? linkedColumns(content.columns) : { columns: content.columns, linkColumn: undefined };
  const rows: TableRow[] = content.rows.map((r) => ({
    cells: canOpen ? { ...r.cells, _record: r.title } : r.cells,
    href: canOpen ? `${chrome.base}/records/${encodeURIComponent(r.id)}` : undefined,
  }));
  return (
    <Document title={content.typeLabel}>
      <PageHead chrome={chrome} eyebrow="Shared list" title={content.typeLabel} />
      <section className="card table-card bare" aria-label={content.typeLabel}>
        <DataTable label={content.typeLabel} columns={base.columns} rows={rows} locale={chrome.locale} linkColumn={base.linkColumn} />
        <Pager paging={paging} shown={content.rows.length} total={content.total} />
      </section>
      {children}
    </Document>
  );
}

export type RefusalForm =
  | { kind: 'password'; action: string; invalid: boolean }
  | { kind: 'email'; action: string; invalid?: string; email?: string }
  /** The one-time code's form: the address it went to rides along; a link with a password asks for it again here. */
  | { kind: 'code'; action: string; email: string; withPassword: boolean; invalid?: string; restart: string };

/** Drawn inline (no image request, no emoji font needed): a stop sign, a clock, a padlock. */
function RefusalIcon({ tone }: { tone: RefusalCopy['tone'] }) {
  const common = { width: 28, height: 28, viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', strokeWidth: 2, strokeLinecap: 'round', strokeLinejoin: 'round', 'aria-hidden': true, focusable: 'false' } as const;
  if (tone === 'lock') {
    return (
      <svg {...common}>
        <rect x="5" y="11" width="14" height="10" rx="2" />
        <path d="M8 11V7a4 4 0 0 1 8 0v4" />
      </svg>
    );
  }
  if (tone === 'wait') {
    return (
      <svg {...common}>
        <circle cx="12" cy="12" r="9" />
        <path d="M12 7v5l3 2" />
      </svg>
    );
  }
  return (
    <svg {...common}>
      <circle cx="12" cy="12" r="9" />
      <path d="M12 7.5v5.5" />
      <path d="M12 16.5h.01" />
    </svg>
  );
}

/** A page that says, kindly, why the link does not open and what to do about it. */
export function RefusalView({ copy, message, form, back, reference }: { copy: RefusalCopy; message?: string; form?: RefusalForm; back?: string; reference?: string }) {
  return (
    <Document title={copy.heading} bodyClass="refusal-page">
      <section className={`card refusal refusal-${copy.tone}`}>
        <div className="refusal-icon" aria-hidden="true">
          <RefusalIcon tone={copy.tone} />
        </div>
        <h1>{copy.heading}</h1>
        <p className="lead">{message ?? copy.body}</p>
        {form?.kind === 'password' ? (
          <form className="form" method="post" action={form.action}>
            <label htmlFor="password">Password</label>
            <input id="password" name="password" type="password" required autoComplete="current-password" autoFocus maxLength={200} aria-invalid={form.invalid || undefined} />
            {form.invalid ? (
              <p className="form-error" role="alert">
                That password didn’t work. Please try again.
              </p>
            ) : null}
            <button type="submit">Open</button>
          </form>
        ) : null}
        {form?.kind === 'email' ? (
          <form className="form" method="post" action={form.action}>
            <label htmlFor="email">Your email address</label>
            <input id="email" name="email" type="email" required autoComplete="email" autoFocus maxLength={320} defaultValue={form.email} aria-invalid={form.invalid ? true : undefined} />
            {form.invalid ? (
              <p className="form-error" role="alert">
                {form.invalid}
              </p>
            ) : null}
            <button type="submit">Email me a code</button>
          </form>
        ) : null}
        {form?.kind === 'code' ? (
          <>
            <form className="form" method="post" action={form.action}>
              <input type="hidden" name="email" value={form.email} />
              <label htmlFor="code">6-digit code</label>
              <input id="code" name="code" type="text" inputMode="numeric" pattern="[0-9]{6}" required autoComplete="one-time-code" autoFocus maxLength={6} aria-invalid={form.invalid ? true : undefined} />
              {form.withPassword ? (
                <>
                  <label htmlFor="password">Password</label>
                  <input id="password" name="password" type="password" required autoComplete="current-password" maxLength={200} />
                </>
              ) : null}
              {form.invalid ? (
                <p className="form-error" role="alert">
                  {form.invalid}
                </p>
              ) : null}
              <button type="submit">Open</button>
            </form>
            <form className="form form-inline" method="post" action={form.restart}>
              <input type="hidden" name="email" value={form.email} />
              <button type="submit" className="button secondary">
                Send a new code
              </button>
            </form>
          </>
        ) : null}
        <p className="hint">{copy.next}</p>
        {back ? (
          <p>
            <a className="button secondary" href={back}>
              Back to the shared page
            </a>
          </p>
        ) : null}
        {reference ? <p className="reference">Reference: {reference}</p> : null}
      </section>
    </Document>
  );
}

/** What HEAD requests and link-preview robots get: a neutral card, no data, no view counted. */
export function PreviewView() {
  return (
    <Document
      title="Shared with Porthole"
      exactTitle
      head={
        <>
          <meta property="og:title" content="Shared with Porthole" />
          <meta property="og:description" content="Open the link to see what was shared with you." />
          <meta property="og:type" content="website" />
          <meta name="twitter:card" content="summary" />
        </>
      }
    >
      <section className="card refusal">
        <h1>Shared with Porthole</h1>
        <p className="lead">Open the link to see what was shared with you.</p>
      </section>
    </Document>
  );
}
