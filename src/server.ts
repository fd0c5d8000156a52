import type { FastifyInstance } from 'fastify';
import { bootstrapIfEmpty } from './app/bootstrap-workspace.js';
import type { AppContext } from './app/context.js';
import { closeContext, openContext } from './app/open-context.js';
import { secretReadsLinks } from './app/link-urls.js';
import { loadConfig } from './config/config.js';
import { buildApp } from './http/build-app.js';

export type RunningServer = { app: FastifyInstance; ctx: AppContext; url: string; close(): Promise<void> };

/**
 * Everything `npm start` does: parse the environment (a bad value throws
 * ConfigError naming it), open and migrate the database, create the first
 * workspace on an empty database and print its secrets once, then listen.
 */
export async function startServer(env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<RunningServer> {
  const config = loadConfig(env);
  const ctx = await openContext(config);
  try {
    const created = await bootstrapIfEmpty(ctx);
    if (created) {
      out('Porthole created your workspace. Keep these; they are not shown again.');
      out(`email: ${created.email}`);
      out(`password: ${created.password}`);
      out(`api key: ${created.apiKey}`);
    }
    if (!(await secretReadsLinks(ctx))) {
      out(
        'warning: PORTHOLE_SECRET is not the secret the stored links were made under. They still open for their holders, ' +
          'but their URLs cannot be shown or sent again (the API gives them as null) and earlier grants are void. ' +
          'Restore the original secret (it was in DATA_DIR/secret unless PORTHOLE_SECRET was set), or rotate the links you need.',
      );
    }
    const app = await buildApp(ctx);
    const address = await app.listen({ port: config.port, host: config.host });
    out(`Porthole is serving on ${config.publicUrl} (${ctx.database.dialect})`);
    return {
      app,
      ctx,
      url: address,
      close: async () => {
        await app.close();
        await closeContext(ctx);
      },
    };
  } catch (e) {
    // A start that fails (the port is taken…) leaves nothing running: no writer thread, no open database.
    await closeContext(ctx);
    throw e;
  }
}
