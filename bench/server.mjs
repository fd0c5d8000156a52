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
