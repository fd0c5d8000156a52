import { connect, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AppContext } from '../src/app/context.js';
import { closeContext, openContext } from '../src/app/open-context.js';
import { loadConfig } from '../src/config/config.js';
import { buildApp } from '../src/http/build-app.js';
import { scratchDatabase, type ScratchDatabase } from './helpers/databases.js';

// A client that sends its request slowly (slowloris: headers or a body a byte at a time) gets a
// 408 in our shape within the request timeout and its connection closed: it cannot hold one open
// for ever. The limit is 30 s in production; here 400 ms.

let scratch: ScratchDatabase;
let ctx: AppContext;
let app: FastifyInstance;
let port = 0;
beforeAll(async () => {
  scratch = await scratchDatabase('sqlite');
  ctx = await openContext(loadConfig({ DATA_DIR: scratch.dataDir, LOG_LEVEL: 'silent' }), { scheduleCleanup: false });
  app = await buildApp(ctx, { requestTimeoutMs: 400 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await app.close();
  await closeContext(ctx);
  await scratch.drop();
});

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
