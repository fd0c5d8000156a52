// The server under test, in its own process: Porthole (mode "porthole"), a
// bare node:http server answering a constant small JSON (mode "bare"), a plain
// handler on Porthole's SQLite file that selects, updates and inserts per request,
// each view in its own transaction (mode "plain"): what a first version usually is,
// or the same with group commit and chained events (mode "batched"): about the
// least a committed, audited view costs on this stack.
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';

const mode = process.argv[2];

/** The plain handlers' connection to Porthole's file, and the live link (not revoked, enabled, not expired) a request's token names. */
async function plainFile() {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(join(process.env.DATA_DIR, 'porthole.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const find = db.prepare('select id, workspace_id, expires_at, max_views, revoked_at, enabled from links where token_hash = ?');
  const liveLink = (req, now) => {
    const link = find.get(createHash('sha256').update(req.url.slice('/v1/shared/'.length)).digest('hex'));
    return link && link.revoked_at === null && link.enabled === 1 && (link.expires_at === null || link.expires_at > now) ? link : null;
  };
  return { db, liveLink };
}
if (mode === 'bare') {
  const body = JSON.stringify({ ok: true, service: 'bare', note: 'constant small JSON' });
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
} else if (mode === 'plain') {
  const { db, liveLink } = await plainFile();
  const count = db.prepare('update links set view_count = view_count + 1, last_viewed_at = ? where id = ? and (max_views is null or view_count < max_views) returning view_count');
  const insert = db.prepare("insert into events (id, workspace_id, link_id, type, ip, user_agent, metadata, created_at) values (?, ?, ?, 'viewed', ?, ?, '{}', ?)");
  const view = db.transaction((link, req, now) => {
    const counted = count.get(now, link.id);
    if (counted) insert.run(`evt_${randomUUID()}`, link.workspace_id, link.id, req.socket.remoteAddress, req.headers['user-agent'] ?? null, now);
    return counted;
  });
  const server = createServer((req, res) => {
    const now = Date.now();
    const link = liveLink(req, now);
    const counted = link ? view(link, req, now) : null;
    const body = JSON.stringify(counted ? { link: { id: link.id, view_count: counted.view_count } } : { error: 'not_found' });
    res.writeHead(counted ? 200 : 404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
} else if (mode === 'batched') {
  // The least a committed, chained view can cost here: the plain handler's statements on one thread, with
  // the views that arrive in one turn of the event loop committed together (group commit) and each event
  // hash-chained; no grant, no content, no evaluator, no security headers, nothing off the event loop.
  const { db, liveLink } = await plainFile();
  const count = db.prepare('update links set view_count = view_count + 1, event_seq = event_seq + 1, last_viewed_at = ? where id = ? and (max_views is null or view_count < max_views) returning view_count, event_seq, last_event_hash');
  const head = db.prepare('update links set last_event_hash = ? where id = ?');
  const insert = db.prepare("insert into events (id, workspace_id, link_id, seq, type, ip, user_agent, metadata, created_at, prev_hash, hash) values (?, ?, ?, ?, 'viewed', ?, ?, '{}', ?, ?, ?)");
  let queue = [];
  const commit = db.transaction((jobs) => {
    for (const job of jobs) {
      const counted = count.get(job.now, job.link.id);
      if (!counted) continue;
      const hash = createHash('sha256').update(`${counted.last_event_hash}|${job.link.id}|${counted.event_seq}|${job.now}|${job.ip}|${job.ua}`).digest('hex');
      insert.run(`evt_${randomUUID()}`, job.link.workspace_id, job.link.id, counted.event_seq, job.ip, job.ua, job.now, counted.last_event_hash, hash);
      head.run(hash, job.link.id);
      job.counted = counted;
    }
  });
  const flush = () => {
    const jobs = queue;
    queue = [];
    commit(jobs);
    for (const job of jobs) {
      const body = JSON.stringify(job.counted ? { link: { id: job.link.id, view_count: job.counted.view_count } } : { error: 'max_views_reached' });
      job.res.writeHead(job.counted ? 200 : 410, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      job.res.end(body);
    }
  };
  const server = createServer((req, res) => {
    const now = Date.now();
    const link = liveLink(req, now);
    if (!link) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not_found"}');
      return;
    }
    queue.push({ link, now, ip: req.socket.remoteAddress, ua: req.headers['user-agent'] ?? null, res });
    if (queue.length === 1) setImmediate(flush);
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
} else {
  const { loadConfig } = await import('../dist/config/config.js');
  const { openContext } = await import('../dist/app/open-context.js');
  const { buildApp } = await import('../dist/http/build-app.js');
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn' });
  const ctx = await openContext(config);
  const app = await buildApp(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.send({ port: app.server.address().port });
}
// Peak resident memory while an export is measured ('reset-peak' to 'peak'), sampled often
// enough to catch a buffered export; off otherwise, so the resolve runs do not pay for it.
let peak = 0;
let sampler = null;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().rss);
};
process.on('message', (m) => {
  if (m === 'reset-peak') {
    peak = process.memoryUsage().rss;
    sampler ??= setInterval(sample, 10);
    process.send({ peak });
  }
  if (m === 'peak') {
    clearInterval(sampler);
    sampler = null;
    sample();
    process.send({ peak });
  }
  if (m === 'rss') process.send({ rss: process.memoryUsage().rss });
  if (m === 'exit') process.exit(0);
  if (m === 'cpu') process.send({ cpu: process.cpuUsage() });
});
