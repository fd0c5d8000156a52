import { bootstrapIfEmpty } from './app/bootstrap-workspace.js';
import { openContext } from './app/open-context.js';
import { ConfigError, loadConfig } from './config/config.js';
import { buildApp } from './http/build-app.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const ctx = await openContext(config);
  const created = await bootstrapIfEmpty(ctx);
  if (created) {
    // Printed once, on the first start only: these are the only clear-text copies.
    process.stdout.write(
      [
        'Porthole created your workspace. Keep these; they are not shown again.',
        `email: ${created.email}`,
        `password: ${created.password}`,
        `api key: ${created.apiKey}`,
        '',
      ].join('\n'),
    );
  }
  const app = await buildApp(ctx);
  const close = async (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await ctx.database.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void close('SIGINT'));
  process.once('SIGTERM', () => void close('SIGTERM'));
  await app.listen({ port: config.port, host: config.host });
  process.stdout.write(`Porthole is serving on ${config.publicUrl} (${ctx.database.dialect})\n`);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`porthole: ${err.message}\n`);
  } else {
    process.stderr.write(`porthole: could not start: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(1);
});
