import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { createWorkspaceWithOwner, type Credentials } from '../../src/app/bootstrap-workspace.js';
import type { Harness } from './harness.js';

export type TestWorkspace = Credentials & {
  /** Sends a management request with this workspace's API key. */
  api(method: InjectOptions['method'], url: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
};

export type ApiResponse = { status: number; body: any; headers: Record<string, unknown>; text: string };

export async function send(
  app: FastifyInstance,
  method: InjectOptions['method'],
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const res = await app.inject({
    method,
    url,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, body: parsed, headers: res.headers as Record<string, unknown>, text: res.body };
}

/** A workspace with an owner (known password) and an API key. */
export async function buildWorkspace(h: Harness, opts: { email?: string; password?: string } = {}): Promise<TestWorkspace> {
  const email = opts.email ?? `owner-${randomBytes(4).toString('hex')}@example.test`;
  const creds = await createWorkspaceWithOwner(h.ctx, { name: 'Test workspace', email, password: opts.password ?? 'correct horse battery' });
  return {
    ...creds,
    api: (method, url, body, headers = {}) => send(h.app, method, url, body, { authorization: `Bearer ${creds.apiKey}`, ...headers }),
  };
}

let counter = 0;
const uniqueId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** Upserts a resource through the API; anything not given gets a plausible value. */
export async function buildResource(
  ws: TestWorkspace,
  opts: { type?: string; id?: string; title?: string; fields?: Record<string, unknown>; tables?: Record<string, unknown[]> } = {},
): Promise<{ type: string; id: string; version: number; body: any }> {
  const type = opts.type ?? 'job';
  const id = opts.id ?? uniqueId('res');
  const res = await ws.api('PUT', `/v1/resources/${type}/${id}`, {
    title: opts.title ?? `Resource ${id}`,
    fields: opts.fields ?? { status: 'running', owner: 'ada@example.test' },
    tables: opts.tables ?? {},
  });
  if (res.status !== 200 && res.status !== 201) throw new Error(`buildResource: ${res.status} ${res.text}`);
  return { type, id, version: res.body.version, body: res.body };
}

/** Creates a link through the API, creating its resource when none is named. */
export async function buildLink(ws: TestWorkspace, body: Record<string, unknown> = {}): Promise<any> {
  let target: Record<string, unknown> = {};
  if (!('resource_type' in body)) {
    const r = await buildResource(ws);
    target = { resource_type: r.type, resource_id: r.id };
  }
  const res = await ws.api('POST', '/v1/links', { ...target, ...body });
  if (res.status !== 201 && res.status !== 200) throw new Error(`buildLink: ${res.status} ${res.text}`);
  return res.body;
}

export type TestSession = {
  cookie: string;
  csrfToken: string;
  body: any;
  /** Sends a request with the session cookie, and the CSRF header unless `csrf: false`. */
  send(method: InjectOptions['method'], url: string, body?: unknown, opts?: { csrf?: boolean; headers?: Record<string, string> }): Promise<ApiResponse>;
};

/** Signs in through `POST /v1/auth/login` and returns the session cookie and CSRF token. */
export async function signIn(h: Harness, email: string, password = 'correct horse battery'): Promise<TestSession> {
  const res = await send(h.app, 'POST', '/v1/auth/login', { email, password });
  if (res.status !== 200) throw new Error(`signIn: ${res.status} ${res.text}`);
  const setCookie = ([] as unknown[]).concat(res.headers['set-cookie']).map(String);
  const cookie = setCookie.find((c) => c.startsWith('porthole_session='))?.split(';')[0];
  if (!cookie) throw new Error('signIn: no session cookie');
  return {
    cookie,
    csrfToken: res.body.csrf_token,
    body: res.body,
    send: (method, url, body, opts = {}) =>
      send(h.app, method, url, body, {
        cookie,
        ...(opts.csrf === false ? {} : { 'x-csrf-token': res.body.csrf_token }),
        ...opts.headers,
      }),
  };
}

/** Adds a member with a known password to the workspace (through the API) and signs them in. */
export async function buildMember(
  h: Harness,
  ws: TestWorkspace,
  opts: { role?: 'owner' | 'admin' | 'member'; email?: string; password?: string } = {},
): Promise<{ userId: string; email: string; password: string; session: TestSession }> {
  const email = opts.email ?? `member-${randomBytes(4).toString('hex')}@example.test`;
  const password = opts.password ?? 'correct horse battery';
  const body = { email, role: opts.role ?? 'member', password };
  // The workspace's key is an admin: only the owner, signed in, may make another owner.
  const res = opts.role === 'owner' ? await (await signIn(h, ws.email)).send('POST', '/v1/members', body) : await ws.api('POST', '/v1/members', body);
  if (res.status !== 201) throw new Error(`buildMember: ${res.status} ${res.text}`);
  return { userId: res.body.user_id, email, password, session: await signIn(h, email, password) };
}

/** Creates an API key through the API and returns it with a sender using it. */
export async function buildApiKey(
  h: Harness,
  ws: TestWorkspace,
  opts: { name?: string; role?: 'admin' | 'member' } = {},
): Promise<{ id: string; key: string; body: any; api: TestWorkspace['api'] }> {
  const res = await ws.api('POST', '/v1/api-keys', { name: opts.name ?? 'Test key', role: opts.role ?? 'member' });
  if (res.status !== 201) throw new Error(`buildApiKey: ${res.status} ${res.text}`);
  const key: string = res.body.key;
  return {
    id: res.body.id,
    key,
    body: res.body,
    api: (method, url, body, headers = {}) => send(h.app, method, url, body, { authorization: `Bearer ${key}`, ...headers }),
  };
}

/** Rows a workspace holds in each management table, for "nothing changed" assertions. */
export type RowCounts = { links: number; resources: number; resource_versions: number; resource_types: number; events: number };

export async function countRows(h: Harness, workspaceId: string): Promise<RowCounts> {
  const { db } = h.ctx.database;
  const count = async (table: 'links' | 'resources' | 'resource_versions' | 'resource_types' | 'events') => {
    const r = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  };
  return {
    links: await count('links'),
    resources: await count('resources'),
    resource_versions: await count('resource_versions'),
    resource_types: await count('resource_types'),
    events: await count('events'),
  };
}

/** A link's events through the API, in the order they were written (by chain sequence). */
export async function linkEvents(ws: Pick<TestWorkspace, 'api'>, linkId: string): Promise<any[]> {
  const res = await ws.api('GET', `/v1/links/${linkId}/events?limit=500`);
  if (res.status !== 200) throw new Error(`linkEvents: ${res.status} ${res.text}`);
  return [...res.body.items].sort((a: any, b: any) => a.seq - b.seq);
}

/** Follows `next_cursor` through every page of a list, returning each page's ids. */
export async function collectPages(
  ws: Pick<TestWorkspace, 'api'>,
  url: string,
  key: (item: any) => string = (item) => item.id,
): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const res = await ws.api('GET', cursor ? `${url}${sep}cursor=${encodeURIComponent(cursor)}` : url);
    if (res.status !== 200) throw new Error(`collectPages: ${res.status} ${res.text}`);
    pages.push(res.body.items.map(key));
    cursor = res.body.next_cursor;
    if (pages.length > 1000) throw new Error('collectPages: no end in sight');
  } while (cursor);
  return pages;
}
