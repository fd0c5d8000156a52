import http from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildLink, buildResource, buildWorkspace } from './helpers/factories.js';
import { listening, startHarness, type Harness } from './helpers/harness.js';

// Clients that are slow on purpose or by accident cannot hold the server: one that sends its
// request slowly (slowloris: headers or body a byte at a time) gets a 408 in our shape within
// the request timeout, its connection closed; one that stops reading a download does not keep a
// stopping server from stopping. The limits are 30 s and 10 s in production; here a fraction.

let h: Harness & { close(): Promise<void> };
let port = 0;
beforeAll(async () => {
  h = await startHarness('sqlite', {}, { requestTimeoutMs: 400 });
  port = Number(new URL(await listening(h.app)).port);
});
afterAll(() => h.close());

/** Sends `head` (and nothing more), then reads until the server closes: what it said, and after how long. */
function trickle(head: string): Promise<{ answer: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let answer = '';
    socket.on('data', (c) => (answer += String(c)));
    socket.on('close', () => resolve({ answer, ms: performance.now() - started }));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error('the server kept the connection open'));
    });
  });
}

it.each([
  ['a body that never finishes', 'POST /v1/shared/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/unlock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"password":'],
  ['headers that never finish', 'GET /v1/shared/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\nHost: x\r\nX-Slow: '],
])('%s: 408 request_timeout in our shape, connection closed', async (_what, head) => {
  const { answer, ms } = await trickle(head);
  expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  const [headers, body] = answer.split('\r\n\r\n');
  expect(headers.toLowerCase()).toContain('connection: close');
  expect(JSON.parse(body)).toEqual({ error: 'The request took too long to arrive', reason: 'request_timeout' });
  expect(ms).toBeGreaterThanOrEqual(350);
  expect(ms).toBeLessThan(3_000);
});

it('a request that arrives in time is served as usual', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  expect(res.status).toBe(200);
});

it('a client that stopped reading a download holds a stopping server only for the close grace, then its download is cut', async () => {
  const own = await startHarness('sqlite', {}, { closeGraceMs: 300 });
  let closed = false;
  try {
    const base = await listening(own.app);
    const ws = await buildWorkspace(own);
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ n: i, note: `row ${i} ${'x'.repeat(200)}` }));
    const r = await buildResource(ws, { type: 'bulk', title: 'Big table', tables: { lines: rows } });
    const link = await buildLink(ws, { resource_type: 'bulk', resource_id: r.id });
    // The download starts, then its reader stops reading: the server fills the socket and waits.
    const res = await new Promise<http.IncomingMessage>((resolve) => http.get(`${base}/v1/shared/${link.token}/export.csv`, resolve));
    expect(res.statusCode).toBe(200);
    res.pause();
    const ended = new Promise<boolean>((resolve) => res.on('close', () => resolve(res.complete)));
    await new Promise((r) => setTimeout(r, 200));
    const started = performance.now();
    await own.app.close();
    closed = true;
    expect(performance.now() - started).toBeLessThan(3_000);
    res.resume();
    expect(await ended).toBe(false);
  } finally {
    if (!closed) await own.app.close();
    await own.close();
  }
}, 30_000);
