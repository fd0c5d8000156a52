import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe } from 'vitest';
import type { AppContext } from '../../src/app/context.js';
import { closeContext, openContext } from '../../src/app/open-context.js';
import { loadConfig } from '../../src/config/config.js';
import { buildApp, type AppDeps } from '../../src/http/build-app.js';
import { scratchDatabase, testDialects, type DialectName } from './databases.js';

export type Harness = {
  dialect: DialectName;
  ctx: AppContext;
  app: FastifyInstance;
  /** Every log line the app wrote, for tests that read the logs. */
  logs: string[];
  /** Moves the clock the use-cases see. */
  advance(ms: number): void;
};

/** Starts an app on a fresh database of the dialect; close() stops it and drops the database. */
export async function startHarness(dialect: DialectName, env: Record<string, string> = {}, appDeps: Omit<AppDeps, 'logStream'> = {}): Promise<Harness & { close(): Promise<void> }> {
  const scratch = await scratchDatabase(dialect);
  const config = loadConfig({
    DATA_DIR: scratch.dataDir,
    PUBLIC_URL: 'http://porthole.test',
    LOG_LEVEL: 'info',
    ...(scratch.databaseUrl ? { DATABASE_URL: scratch.databaseUrl } : {}),
    ...env,
  });
  let offset = 0;
  // Tests move the clock: retention runs only when a test asks for it.
  const ctx = await openContext(config, { scheduleCleanup: false });
  ctx.now = () => Date.now() + offset;
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const app = await buildApp(ctx, { ...appDeps, logStream });
  await app.ready();
  return {
    dialect,
    ctx,
    app,
    logs,
    advance: (ms) => {
      offset += ms;
    },
    close: async () => {
      await app.close();
      await closeContext(ctx);
      await scratch.drop();
    },
  };
}

const dialects = await testDialects();

/**
 * Runs a suite once per dialect (SQLite and PostgreSQL), each against its own
 * fresh database, like Kysely's dialect loop; `only` keeps one dialect's
 * behaviour (that one runs where it is available, and always under CI=true);
 * `env` adds to the configuration (an SMTP_URL…).
 */
export function describeEachDialect(name: string, suite: (h: () => Harness) => void, opts: { only?: DialectName; env?: Record<string, string> } = {}): void {
  // Where that database is not reachable (only outside CI: testDialects requires both under CI=true), the suite does not run.
  for (const dialect of opts.only ? [opts.only] : dialects) {
    describe.runIf(dialects.includes(dialect))(`${name} [${dialect}]`, () => {
      let harness: (Harness & { close(): Promise<void> }) | undefined;
      beforeAll(async () => {
        harness = await startHarness(dialect, opts.env);
      });
      afterAll(async () => {
        await harness?.close();
      });
      suite(() => {
        if (!harness) throw new Error('harness not started');
        return harness;
      });
    });
  }
}

/** A harness's app over real HTTP on loopback (for what a browser or fetch sees), listening from the first call on. */
export async function listening(app: FastifyInstance): Promise<string> {
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}
