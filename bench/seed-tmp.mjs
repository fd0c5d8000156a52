import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { loadConfig } from '../dist/config/config.js';
import { closeContext, openContext } from '../dist/app/open-context.js';
import { seedLinks } from './seed.mjs';
const dataDir = '/tmp/seeded'; rmSync(dataDir, { recursive: true, force: true }); mkdirSync(dataDir);
const ctx = await openContext(loadConfig({ DATA_DIR: dataDir, PORTHOLE_SECRET: 'ab'.repeat(32), DATABASE_URL: '', LOG_LEVEL: 'silent' }));
const tokens = await seedLinks(ctx, 10000);
await closeContext(ctx);
writeFileSync('/tmp/seeded-tokens.json', JSON.stringify(tokens));
