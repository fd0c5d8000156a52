import { own, type ColumnDef, type Row } from '../../../domain/resource.js';
import type { Paging } from '../paging.js';
import { rowRange } from '../format.js';
import { isNumeric, Value } from './value.js';

/** A row of a table, with where it leads when it can be opened as a record. */
export type TableRow = { cells: Row; href?: string };

/**
 * A table as a recipient reads it: scrolls sideways on a narrow screen, keeps
 * its header row in view, highlights missing cells.
 */
export function DataTable({ label, columns, rows, locale, linkColumn }: { label: string; columns: ColumnDef[]; rows: TableRow[]; locale: string; linkColumn?: string }) {
  if (columns.length === 0 || rows.length === 0) return <p className="empty">Nothing here yet.</p>;
  return (
    <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
      <table>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className={isNumeric(c.format) ? 'num' : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              {columns.map((c) => {
                const v = own(row.cells, c.key);
                const empty = v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
                const cls = [`cell-${c.format}`, isNumeric(c.format) ? 'num' : '', empty ? 'gap-cell' : ''].filter(Boolean).join(' ');
                const value = <Value value={v} format={c.format} locale={locale} compact />;
                return (
                  <td key={c.key} className={cls}>
                    {row.href && c.key === linkColumn ? (
                      <a className="row-link" href={row.href}>
                        {empty ? 'Open record' : value}
                      </a>
                    ) : (
                      value
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "rows 1–100 of 250" and the links to the pages around. */
export function Pager({ paging, shown, total }: { paging: Paging; shown: number; total: number }) {
  const hasLinks = paging.previous || paging.first || paging.next;
  return (
    <nav className="pager" aria-label="Pages">
      <p className="count">{rowRange(paging.offset, shown, total)}</p>
      {hasLinks ? (
        <p className="pager-links">
          {paging.previous ? (
            <a className="button secondary" href={paging.previous} rel="prev">
              ← Previous
            </a>
          ) : null}
          {paging.first ? (
            <a className="button secondary" href={paging.first}>
              ⇤ First page
            </a>
          ) : null}
          {paging.next ? (
            <a className="button secondary" href={paging.next} rel="next">
              Next page →
            </a>
          ) : null}
        </p>
      ) : null}
    </nav>
  );
}
