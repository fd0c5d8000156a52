import { describeFailure } from './app/describe-failure.js';
import { ConfigError } from './config/config.js';
import { startServer } from './server.js';

async function main(): Promise<void> {
  const server = await startServer(process.env, (line) => process.stdout.write(`${line}\n`));
  const close = async (signal: string) => {
    server.app.log.info({ signal }, 'shutting down');
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void close('SIGINT'));
  process.once('SIGTERM', () => void close('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`porthole: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`porthole: could not start: ${describeFailure(err)}\n`);
  process.exit(1);
});
