import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import type { SharedExport } from '../../app/export-shared-link.js';
import { csvStream } from './csv.js';

export type ExportFormat = 'csv' | 'json';

/**
 * Streams an export as a download, a row at a time, for the JSON API and the
 * share pages alike: CSV with formula-neutralised cells (DESIGN §8), or one JSON array.
 */
export function sendExport(reply: FastifyReply, exp: SharedExport, format: ExportFormat): FastifyReply {
  reply.header('Content-Disposition', `attachment; filename="${exp.basename}.${format}"`);
  if (format === 'csv') {
    reply.type('text/csv; charset=utf-8');
    return reply.send(csvStream(exp.rows, exp.columns.map((c) => ({ key: c.key, header: c.label }))));
  }
  reply.type('application/json; charset=utf-8');
  return reply.send(Readable.from(jsonArray(exp.rows)));
}

/** Streams rows as one JSON array, a row at a time. */
async function* jsonArray(rows: AsyncIterable<unknown>): AsyncIterable<string> {
  let first = true;
  yield '[';
  for await (const row of rows) {
    yield (first ? '\n' : ',\n') + JSON.stringify(row);
    first = false;
  }
  yield '\n]\n';
}
