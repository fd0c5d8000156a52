import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Row } from '../../domain/resource.js';
import { sendExport, type ExportFormat } from './export-stream.js';

// Rows that fail part-way, as a database read fails in the middle of an export: the download
// has begun (200, headers sent), so the client must see it cut off, never wait for the rest.
async function* failingAfter(n: number): AsyncIterable<Row> {
  for (let i = 0; i < n; i++) yield { n: i, v: `row ${i} ${'x'.repeat(100)}` };
  throw new Error('the database went away');
}

const app = Fastify({ logger: false });
let base = '';
beforeAll(async () => {
  app.get('/export.:format', (request, reply) => {
    const { format } = request.params as { format: ExportFormat };
    return sendExport(reply, { basename: 'rows', columns: [{ key: 'n', label: 'N', format: 'number' }, { key: 'v', label: 'V', format: 'text' }], rows: failingAfter(3000), grant: null, grantExpiresAt: null }, format);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(() => app.close());

/** How the download ended: whole, cut off, or still waiting after 5 s. */
function download(url: string): Promise<{ ending: 'complete' | 'cut off' | 'hung'; bytes: number; status: number }> {
  return new Promise((resolve) => {
    http.get(url, (res) => {
      let bytes = 0;
      const timer = setTimeout(() => {
        res.destroy();
        resolve({ ending: 'hung', bytes, status: res.statusCode ?? 0 });
      }, 5000);
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('error', () => {});
      res.on('close', () => {
        clearTimeout(timer);
        resolve({ ending: res.complete ? 'complete' : 'cut off', bytes, status: res.statusCode ?? 0 });
      });
    });
  });
}

it.each(['csv', 'json'] as const)('a %s export whose rows fail part-way is cut off at once, never left hanging or passed off as whole', async (format) => {
  const outcome = await download(`${base}/export.${format}`);
  expect(outcome.status).toBe(200);
  expect(outcome.bytes).toBeGreaterThan(100_000);
  expect(outcome.ending).toBe('cut off');
});
