import { stringify } from 'csv-stringify';
import { Readable, pipeline } from 'node:stream';

/**
 * Neutralises spreadsheet formulas (DESIGN §8): a cell starting with = + - @,
 * tab or carriage return is prefixed with a single quote so it is read as text.
 */
export function csvCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/**
 * Rows as a CSV stream with a header line, formula cells neutralised, read as
 * the client takes them. Rows that fail part-way (a later batch's read)
 * destroy the stream with them, so the download is cut off at once rather
 * than left hanging, and the error is handled (`pipe` would leave it
 * unhandled, which ends the process).
 */
export function csvStream(rows: AsyncIterable<Record<string, unknown>>, columns: Array<{ key: string; header: string }>): NodeJS.ReadableStream {
  const csv = stringify({ header: true, columns, cast: { string: csvCell, boolean: (b) => (b ? 'true' : 'false') } });
  pipeline(Readable.from(rows), csv, () => {});
  return csv;
}
