import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';

/**
 * PORTHOLE_SECRET, or the one generated into `<DATA_DIR>/secret` on first run
 * (mode 0600). Losing it makes stored tokens unreadable, not links unusable.
 */
export function resolveSecret(config: Config): string {
  if (config.secret) return config.secret;
  const file = join(config.dataDir, 'secret');
  if (existsSync(file)) {
    const s = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(s)) throw new Error(`${file} does not hold a 64-character hex secret`);
    return s;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const s = randomBytes(32).toString('hex');
  writeFileSync(file, s + '\n', { mode: 0o600, flag: 'wx' });
  return s;
}
