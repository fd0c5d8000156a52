import { connect, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { beforeAll, expect, it } from 'vitest';
import type { Database } from '../src/storage/database.js';
import { buildLink, buildResource, buildWorkspace, send, type TestWorkspace } from './helpers/factories.js';
import { describeEachDialect, type Harness } from './helpers/harness.js';

type Reply = { status: number; body: any; text: string; headers: Record<string, unknown> };

/** A fresh client (its own IPv6 /64, as limits count them: documentation range) per request, so one test's misses never throttle another's. */
let clients = 0;
const nextIp = () => `2001:db8:${(++clients).toString(16)}::1`;

async function request(h: Harness, url: string, opts: { ip?: string; method?: InjectOptions['method']; headers?: Record<string, string>; body?: unknown } = {}): Promise<Reply> {
  const res = await h.app.inject({
    method: opts.method ?? 'GET',
    url,
    remoteAddress: opts.ip ?? nextIp(),
    headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    ...(opts.body !== undefined ? { payload: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
  });
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, body, text: res.body, headers: res.headers as Record<string, unknown> };
}

const countEvents = async (h: Harness) => Number((await h.ctx.database.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

/** Runs `fn` while counting every use of the database handle by the application. */
async function countingDatabaseUse(h: Harness, fn: () => Promise<void>): Promise<number> {
  const original = h.ctx.database;
  let uses = 0;
  h.ctx.database = new Proxy(original, {
    get(target, prop, receiver) {
      if (prop === 'db') uses++;
      return Reflect.get(target, prop, receiver);
    },
  }) as Database;
  try {
    await fn();
  } finally {
    h.ctx.database = original;
  }
  return uses;
}

const expectError = (res: Reply, status: number, reason: string) => {
  expect([res.status, res.body?.reason]).toEqual([status, reason]);
  expect(typeof res.body.error).toBe('string');
};

describeEachDialect('public API: bad input', (h) => {
  let ws: TestWorkspace;
  let record: any;
  let collection: any;
  beforeAll(async () => {
    ws = await buildWorkspace(h());
    const r = await buildResource(ws, { type: 'job', tables: { tasks: Array.from({ length: 120 }, (_, i) => ({ n: i })) } });
    for (let i = 0; i < 3; i++) await buildResource(ws, { type: 'host', id: `host-${i}`, fields: { zone: i === 2 ? 'b' : 'a' } });
    record = await buildLink(ws, { resource_type: 'job', resource_id: r.id });
    collection = await buildLink(ws, { resource_type: 'host', resource_id: null, filter: { zone: 'a' }, settings: { allow_open_records: true } });
  });

  it('malformed tokens are 400 invalid_token before any database access, and write nothing', async () => {
    const malformed = [
      'abc',
      'A'.repeat(42),
      'A'.repeat(44),
      `${'A'.repeat(42)}.`,
      `${'A'.repeat(42)}+`,
      `${'A'.repeat(42)}=`,
      'abcd_fgh', // short codes have no _ or -
      'abcd-fgh',
      'abcdefg',
      'abcdefghi',
      encodeURIComponent('ÄÖÜäöüßé'),
      encodeURIComponent(`${'A'.repeat(41)}é`),
      '%20%20%20%20%20%20%20%20',
    ];
    const before = await countEvents(h());
    const uses = await countingDatabaseUse(h(), async () => {
      for (const id of malformed) {
        for (const suffix of ['', '/meta', '/records/x', '/tables/tasks', '/export.csv', '/export.json']) {
          const res = await request(h(), `/v1/shared/${id}${suffix}`);
          expect([id, suffix, res.status, res.body?.reason]).toEqual([id, suffix, 400, 'invalid_token']);
        }
        const unlock = await request(h(), `/v1/shared/${id}/unlock`, { method: 'POST', body: { password: 'whatever' } });
        expectError(unlock, 400, 'invalid_token');
      }
    });
    expect(uses).toBe(0);
    expect(await countEvents(h())).toBe(before);
  });

  it('unknown tokens and codes are 404 not_found and write nothing', async () => {
    const before = await countEvents(h());
    for (const id of ['A'.repeat(43), 'z'.repeat(43), 'ZZZZ9999', 'abcdefgh']) {
      for (const suffix of ['', '/meta', '/records/x', '/tables/tasks', '/export.csv']) {
        const res = await request(h(), `/v1/shared/${id}${suffix}`);
        expectError(res, 404, 'not_found');
        expect(res.body.error).toBe('This share link does not exist');
      }
    }
    expect(await countEvents(h())).toBe(before);
  });

  it('garbage cursors, foreign cursors and unknown tables are 4xx and burn no view', async () => {
    const recordView = await request(h(), `/v1/shared/${record.token}`);
    const collectionView = await request(h(), `/v1/shared/${collection.token}`);
    const recordCursor = recordView.body.resource.tables[0].next_cursor as string;
    expect(recordCursor).toEqual(expect.any(String));
    const other = await buildLink(ws, { resource_type: 'job', resource_id: recordView.body.resource.id });
    const otherCursor = (await request(h(), `/v1/shared/${other.token}`)).body.resource.tables[0].next_cursor as string;
    const fakeItemsCursor = Buffer.from(JSON.stringify([collection.id, 5])).toString('base64url');
    const negative = Buffer.from(JSON.stringify([record.id, -5])).toString('base64url');
    const viewsBefore = (await ws.api('GET', `/v1/links/${record.id}`)).body.view_count;

    const cases: Array<[string, number, string]> = [
      [`/v1/shared/${record.token}/tables/tasks?cursor=garbage!!`, 400, 'invalid_cursor'],
      [`/v1/shared/${record.token}/tables/tasks?cursor=${Buffer.from('{"a":1}').toString('base64url')}`, 400, 'invalid_cursor'],
      [`/v1/shared/${record.token}/tables/tasks?cursor=${negative}`, 400, 'invalid_cursor'],
      [`/v1/shared/${record.token}/tables/tasks?cursor=${otherCursor}`, 400, 'invalid_cursor'],
      [`/v1/shared/${record.token}/tables/tasks?cursor=${'A'.repeat(600)}`, 400, 'invalid_request'],
      [`/v1/shared/${record.token}/tables/tasks?cursor=`, 400, 'invalid_request'],
      [`/v1/shared/${collection.token}/tables/items?cursor=${recordCursor}`, 400, 'invalid_cursor'],
      [`/v1/shared/${collection.token}/tables/items?cursor=${fakeItemsCursor}`, 400, 'invalid_cursor'],
      [`/v1/shared/${record.token}/tables/nope`, 404, 'not_found'],
      [`/v1/shared/${record.token}/tables/items`, 404, 'not_found'],
      [`/v1/shared/${collection.token}/tables/tasks`, 404, 'not_found'],
      [`/v1/shared/${record.token}/tables/tasks?page=-1`, 400, 'invalid_request'],
      [`/v1/shared/${record.token}/tables/tasks?limit=1000`, 400, 'invalid_request'],
      [`/v1/shared/${record.token}/export.csv?page=-1`, 400, 'invalid_request'],
      [`/v1/shared/${record.token}/export.json?format=xml`, 400, 'invalid_request'],
      [`/v1/shared/${record.token}/export.csv?table=nope`, 404, 'not_found'],
      [`/v1/shared/${record.token}/export.csv?table=${'x'.repeat(200)}`, 400, 'invalid_request'],
      [`/v1/shared/${collection.token}/export.csv?table=tasks`, 404, 'not_found'],
      [`/v1/shared/${collection.token}/records/host-2`, 404, 'not_found'],
      [`/v1/shared/${collection.token}/records/nobody`, 404, 'not_found'],
      // A NUL cannot be stored (PostgreSQL refuses it in text): such an id or cursor names nothing.
      [`/v1/shared/${collection.token}/records/%00`, 404, 'not_found'],
      [`/v1/shared/${collection.token}/records/host-0%00`, 404, 'not_found'],
      [`/v1/shared/${collection.token}/tables/items?cursor=${Buffer.from(JSON.stringify([collection.id, 'host-0\u0000'])).toString('base64url')}`, 400, 'invalid_cursor'],
      [`/v1/shared/${record.token}/tables/tasks?junk=${'x'.repeat(10_240)}`, 400, 'invalid_request'],
      [`/v1/shared/${record.token}/export.csv?junk=${'x'.repeat(10_240)}`, 400, 'invalid_request'],
      [`/v1/shared/${record.token}/nonsense`, 404, 'not_found'],
    ];
    for (const [url, status, reason] of cases) {
      const res = await request(h(), url);
      expect([url.slice(0, 120), res.status, res.body?.reason]).toEqual([url.slice(0, 120), status, reason]);
      expect(typeof res.body.error).toBe('string');
    }
    // None of those was a successful load: no view, no download, no grant spent.
    const after = (await ws.api('GET', `/v1/links/${record.id}`)).body;
    expect(after.view_count).toBe(viewsBefore);
    expect(after.download_count).toBe(0);
    const c = (await ws.api('GET', `/v1/links/${collection.id}`)).body;
    expect([c.view_count, c.download_count]).toEqual([1, 0]);
  });

  it('the same bad requests with a grant are refused alike', async () => {
    const view = await request(h(), `/v1/shared/${collection.token}`);
    const g = { 'x-porthole-grant': view.body.grant };
    expectError(await request(h(), `/v1/shared/${collection.token}/tables/items?cursor=bad`, { headers: g }), 400, 'invalid_cursor');
    expectError(await request(h(), `/v1/shared/${collection.token}/records/host-2`, { headers: g }), 404, 'not_found');
    expectError(await request(h(), `/v1/shared/${collection.token}/export.json?table=nope`, { headers: g }), 404, 'not_found');
    // A garbage grant is simply no grant.
    const res = await request(h(), `/v1/shared/${collection.token}/tables/items`, { headers: { 'x-porthole-grant': 'g1.garbage.sig' } });
    expect(res.status).toBe(200);
  });

  it('after 30 misses from one client within a minute, the next request is 429 rate_limited with Retry-After', async () => {
    const ip = '203.0.113.9';
    for (let i = 0; i < 30; i++) {
      const res = await request(h(), i % 2 ? `/v1/shared/bad${i}` : `/v1/shared/${'Q'.repeat(40)}${String(i).padStart(3, '0')}`, { ip });
      expect(res.status).toBe(i % 2 ? 400 : 404);
    }
    const before = await countEvents(h());
    const limited = await request(h(), `/v1/shared/${record.token}`, { ip });
    expectError(limited, 429, 'rate_limited');
    const retry = Number(limited.headers['retry-after']);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    expectError(await request(h(), `/v1/shared/bad`, { ip }), 429, 'rate_limited');
    expectError(await request(h(), `/v1/shared/${record.token}/export.csv`, { ip }), 429, 'rate_limited');
    // Rate-limited requests write nothing, and other clients are untouched.
    expect(await countEvents(h())).toBe(before);
    expect((await request(h(), `/v1/shared/${record.token}/meta`, { ip: '203.0.113.10' })).status).toBe(200);

    h().advance(61_000);
    try {
      expect((await request(h(), `/v1/shared/${record.token}/meta`, { ip })).status).toBe(200);
    } finally {
      h().advance(-61_000);
    }
  });

  // Fastify's router rejects these before any route runs; the answer must still be ours.
  it('malformed percent-encodings answer 400 invalid_request with {error, reason}, without echoing the URL', async () => {
    for (const url of [`/v1/shared/${record.token}%zz`, '/v1/shared/%E0%A4%A', `/v1/shared/${record.token}/records/%zz`]) {
      const res = await request(h(), url);
      expectError(res, 400, 'invalid_request');
      expect(res.text).not.toContain(record.token);
    }
  });

  it('unknown query parameters on the view, meta and record routes are 400 invalid_request', async () => {
    const views = (await ws.api('GET', `/v1/links/${collection.id}`)).body.view_count;
    for (const suffix of ['', '/meta', '/records/host-0']) {
      for (const q of ['?page=-1', '?unknown=1', `?junk=${'x'.repeat(10_240)}`]) {
        expectError(await request(h(), `/v1/shared/${collection.token}${suffix}${q}`), 400, 'invalid_request');
      }
    }
    expect((await ws.api('GET', `/v1/links/${collection.id}`)).body.view_count).toBe(views);
  });

  it('nothing returns 500, on the JSON API or the pages: random paths, identifiers, query strings, headers and bodies', async () => {
    const token: string = record.token;
    // Links whose holders may do more: comment and edit, after proving an address.
    const editor = await buildLink(ws, { resource_type: 'host', resource_id: null, filter: { zone: 'a' }, access_role: 'editor', settings: { allow_open_records: true, fields: 'all' } });
    const guarded = await buildLink(ws, { resource_type: 'job', resource_id: record.resource_id, access_role: 'commenter', requires_auth: true, allowed_domains: ['b.example'] });
    const segment = fc.oneof(
      fc.string({ maxLength: 60 }).map(encodeURIComponent),
      fc.stringMatching(/^[A-Za-z0-9_-]{0,50}$/),
      fc.constantFrom('..', '.', '%', '%zz', '%E0%A4%A', '%25', '%00', '%2F', '%C3%A9', '~', '*', "'", '"', '<script>', '%20', '+', ';', ':', '@'),
    );
    const identifier = fc.oneof(
      fc.constantFrom(token, record.short_code, collection.token, collection.short_code, editor.token, editor.short_code, guarded.token),
      segment,
      fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      fc.stringMatching(/^[A-Za-z0-9]{8}$/),
    );
    const suffix = fc.oneof(
      fc.constantFrom('', '/', '/meta', '/export.csv', '/export.json', '/unlock', '/verify/start', '/verify/confirm', '/comments', '/edit', '/records/host-0/edit', '/tables/tasks', '/tables/items', '/records/host-0', '/records/host-2'),
      segment.map((s) => `/tables/${s}`),
      segment.map((s) => `/records/${s}`),
      fc.array(segment, { maxLength: 3 }).map((parts) => `/${parts.join('/')}`),
    );
    const query = fc.oneof(
      fc.constant(''),
      fc.dictionary(fc.constantFrom('cursor', 'table', 'page', 'limit', 'grant', 'x', ''), fc.string({ maxLength: 40 }), { maxKeys: 3 }).map((q) => `?${new URLSearchParams(q)}`),
      segment.map((s) => `?${s}`),
      fc.nat({ max: 12_000 }).map((n) => `?q=${'a'.repeat(n)}`),
    );
    const ascii = fc.string({ unit: 'grapheme-ascii', maxLength: 80 });
    const headers = fc.record(
      { 'x-porthole-grant': fc.oneof(ascii, fc.constant('g1.e30.AAAA')), 'user-agent': ascii, 'content-type': fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded') },
      { requiredKeys: [] },
    );
    const body = fc.option(
      fc.oneof(
        fc.json(),
        ascii,
        fc.constantFrom('{"password":"x"}', '{"email":"a@b.example"}', '{"email":"a@b.example","code":"123456"}', '{"body":"hi"}', '{"fields":{"status":"x"}}', 'email=a%40b.example&code=1', 'body=hi'),
      ),
      { nil: undefined },
    );
    const method = fc.constantFrom<'GET' | 'HEAD' | 'POST' | 'PATCH'>('GET', 'GET', 'GET', 'HEAD', 'POST', 'POST', 'PATCH');

    // The JSON API, and the pages under /shared and /s, which answer refusals as HTML.
    const prefix = fc.constantFrom('/v1/shared/', '/v1/shared/', '/shared/', '/s/');

    await fc.assert(
      fc.asyncProperty(prefix, method, identifier, suffix, query, headers, body, async (p, m, id, sfx, q, hdrs, b) => {
        const url = `${p}${id}${sfx}${q}`;
        const res = await h().app.inject({
          method: m,
          url,
          remoteAddress: nextIp(),
          headers: hdrs,
          ...((m === 'POST' || m === 'PATCH') && b !== undefined ? { payload: b } : {}),
        });
        expect(res.statusCode, `${m} ${url}`).toBeLessThan(500);
        // Dot segments are resolved on the way in (`/s/../x` is `/x`): a page answer only where the path is still a page's.
        const page = /^\/(?:shared|s)\//.test(new URL(url, 'http://porthole.test').pathname);
        if (res.statusCode >= 400 && m !== 'HEAD' && page) {
          expect(res.headers['content-type'], `${m} ${url}`).toBe('text/html; charset=utf-8');
        } else if (res.statusCode >= 400 && m !== 'HEAD') {
          const parsed = JSON.parse(res.body);
          expect(typeof parsed.error, `${m} ${url}`).toBe('string');
          expect(typeof parsed.reason, `${m} ${url}`).toBe('string');
        }
      }),
      { numRuns: 400 },
    );
  });
});

describeEachDialect('keys that name prototype properties', (h) => {
  it('fields, columns and tables called constructor, valueOf or toString are data, never the prototype', async () => {
    const ws = await buildWorkspace(h());
    const type = `proto${Date.now().toString(36)}`;
    const r = await buildResource(ws, { type, fields: { valueOf: 'v' }, tables: { steps: [{ a: 1 }] } });
    await buildResource(ws, { type, fields: { other: 1 } });
    const one = await buildLink(ws, { resource_type: type, resource_id: r.id, settings: { fields: ['constructor', 'valueOf', 'toString'] } });
    const view = await send(h().app, 'GET', `/v1/shared/${one.token}`);
    expect(view.status).toBe(200);
    expect(view.body.resource.fields).toEqual([
      { key: 'constructor', label: 'Constructor', format: 'text', value: null },
      { key: 'valueOf', label: 'ValueOf', format: 'text', value: 'v' },
      { key: 'toString', label: 'ToString', format: 'text', value: null },
    ]);
    const grant = { 'x-porthole-grant': view.body.grant };
    for (const url of [`/v1/shared/${one.token}/tables/valueOf`, `/v1/shared/${one.token}/tables/constructor`, `/v1/shared/${one.token}/export.csv?table=toString`]) {
      const res = await send(h().app, 'GET', url, undefined, grant);
      expect(res.status, url).toBe(404);
    }
    const page = await h().app.inject({ method: 'GET', url: `/shared/${one.token}` });
    expect(page.statusCode).toBe(200);
    const all = await buildLink(ws, { resource_type: type, resource_id: null, settings: { fields: ['constructor', 'valueOf'] } });
    const collection = await send(h().app, 'GET', `/v1/shared/${all.token}`);
    expect(collection.status).toBe(200);
    expect(collection.body.collection.rows.map((row: any) => row.cells.constructor)).toEqual([null, null]);
    expect((await h().app.inject({ method: 'GET', url: `/shared/${all.token}` })).statusCode).toBe(200);
  });
});

describeEachDialect('requests the HTTP parser refuses', (h) => {
  /** Writes raw bytes to the listening server and reads what comes back until it closes the connection. */
  async function raw(bytes: string): Promise<string> {
    if (!h().app.server.listening) await h().app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h().app.server.address() as AddressInfo;
    return new Promise((resolve, reject) => {
      let out = '';
      const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
      socket.on('data', (d) => (out += d));
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
    });
  }
  const parse = (answer: string) => {
    const [head, body] = answer.split('\r\n\r\n');
    return { status: Number(head.split(' ')[1]), head, body: JSON.parse(body) };
  };

  it('a URL or headers past 16 KB, or a request that is not HTTP, answer our {error, reason} (431 / 400) and close, never Fastify\'s body', async () => {
    const ws = await buildWorkspace(h());
    const link = await buildLink(ws, {});
    const long = parse(await raw(`GET /v1/shared/${link.token}?junk=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    expect(long.status).toBe(431);
    expect(long.body).toEqual({ error: expect.any(String), reason: 'headers_too_large' });
    expect(long.head).toMatch(/\r\nConnection: close$/m);
    expect(long.head).toMatch(/\r\nX-Content-Type-Options: nosniff\r\n/);
    const cookie = parse(await raw(`HEAD /shared/${link.token} HTTP/1.1\r\nHost: x\r\nCookie: a=${'b'.repeat(17_000)}\r\n\r\n`));
    expect(cookie.status).toBe(431);
    expect(cookie.body.reason).toBe('headers_too_large');
    for (const garbage of ['GARBAGE\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'GET /v1/shared/x HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n']) {
      const bad = parse(await raw(garbage));
      expect({ garbage, status: bad.status, reason: bad.body.reason }).toEqual({ garbage, status: 400, reason: 'invalid_request' });
    }
    // Nothing was counted.
    expect((await ws.api('GET', `/v1/links/${link.id}`)).body.view_count).toBe(0);
  });
});
