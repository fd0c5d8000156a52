// The server under test, in its own process: Porthole (mode "porthole") or a
// bare node:http server answering a constant small JSON (mode "bare").
import { createServer } from 'node:http';

const mode = process.argv[2];
if (mode === 'bare') {
  const body = JSON.stringify({ ok: true, service: 'bare', note: 'constant small JSON' });
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
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
// Peak resident memory, sampled often enough to catch a buffered export.
let peak = 0;
setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 10).unref();
process.on('message', (m) => {
  if (m === 'reset-peak') {
    peak = process.memoryUsage().rss;
    process.send({ peak });
  }
  if (m === 'peak') process.send({ peak: Math.max(peak, process.memoryUsage().rss) });
  if (m === 'rss') process.send({ rss: process.memoryUsage().rss });
  if (m === 'exit') process.exit(0);
  if (m === 'cpu') process.send({ cpu: process.cpuUsage() });
});
