// What the benches share: a server under test in its own process, and autocannon
// driving it (50 connections, 10 s after a 3 s warm-up, unless the environment says otherwise).
import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);

export function startServer(mode, env, serverScript = join(here, 'server.mjs')) {
  return new Promise((resolve, reject) => {
    const child = fork(serverScript, [mode], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve({ child, port: m.port }));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
}

export function stopServer(s) {
  return new Promise((resolve) => {
    s.child.removeAllListeners('exit');
    s.child.once('exit', resolve);
    s.child.kill('SIGTERM');
  });
}

export function rssOf(s) {
  return new Promise((resolve) => {
    s.child.once('message', (m) => resolve(m.rss));
    s.child.send('rss');
  });
}

export function drive(port, pathFor, seconds) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        duration: seconds,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: pathFor() }) }],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

/** The server process's CPU time (user + system) in microseconds. */
export function cpuOf(s) {
  return new Promise((resolve) => {
    s.child.once('message', (m) => resolve(m.cpu.user + m.cpu.system));
    s.child.send('cpu');
  });
}

/**
 * CPU time (µs) of each of the server process's threads, by thread id, where
 * Linux says (/proc); null elsewhere. The main thread's id is the process id.
 */
function threadCpu(pid) {
  try {
    const tickUs = 1e6 / 100; // USER_HZ, 100 on Linux
    return new Map(
      readdirSync(`/proc/${pid}/task`).map((tid) => {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return [Number(tid), (Number(fields[11]) + Number(fields[12])) * tickUs];
      }),
    );
  } catch {
    return null;
  }
}

/** Per request: the event loop's thread, the busiest other (SQLite's writer thread), and the rest (checkpoints, V8's helpers). */
function threadSplit(pid, before, after, requests) {
  if (!before || !after) return null;
  const used = [...after].map(([tid, us]) => [tid, us - (before.get(tid) ?? 0)]);
  const main = used.find(([tid]) => tid === pid)?.[1] ?? 0;
  const others = used.filter(([tid]) => tid !== pid).map(([, us]) => us).sort((a, b) => b - a);
  const per = (us) => Math.round(us / Math.max(1, requests));
  return { main: per(main), busiest: per(others[0] ?? 0), rest: per(others.slice(1).reduce((a, b) => a + b, 0)) };
}

export async function measure(label, server, pathFor) {
  const { port } = server;
  // Seeding a million links leaves this process (autocannon's) a heap of garbage, which would otherwise be
  // collected during the run, on the cores the server uses. Run with --expose-gc, it goes first.
  globalThis.gc?.();
  await drive(port, pathFor, WARMUP);
  const cpuBefore = await cpuOf(server);
  const threadsBefore = threadCpu(server.child.pid);
  const clientBefore = process.cpuUsage();
  const r = await drive(port, pathFor, DURATION);
  const client = process.cpuUsage(clientBefore);
  const threads = threadSplit(server.child.pid, threadsBefore, threadCpu(server.child.pid), r.requests.total);
  const cpuPerRequest = Math.round(((await cpuOf(server)) - cpuBefore) / Math.max(1, r.requests.total));
  const row = {
    label,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    p999: r.latency.p99_9,
    max: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    cpuPerRequest,
    threads,
    // autocannon, in this process, shares the machine's cores with the server.
    clientCpuPerRequest: Math.round((client.user + client.system) / Math.max(1, r.requests.total)),
  };
  console.log(`${label.padEnd(34)} ${String(row.rps).padStart(7)} req/s   p50 ${String(row.p50).padStart(4)} ms   p99 ${String(row.p99).padStart(4)} ms   p99.9 ${String(row.p999).padStart(4)} ms   max ${String(row.max).padStart(4)} ms   server CPU ${String(cpuPerRequest).padStart(5)} µs/req${threads ? ` (loop ${threads.main}, busiest other thread ${threads.busiest}, rest ${threads.rest})` : ''}   client CPU ${row.clientCpuPerRequest} µs/req   non-2xx ${row.non2xx}   errors ${row.errors}`);
  return row;
}

/**
 * Writes a freshly seeded (or copied) data directory through to the disk
 * before its server is measured. A million links are a gigabyte the kernel
 * writes back lazily: left dirty, the server's first checkpoint syncs pay for
 * the seeding, and the run measures the writeback instead of the server.
 */
export function settleOnDisk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const fd = openSync(join(dir, entry.name), 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
