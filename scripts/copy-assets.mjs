// Copies non-TypeScript assets (stylesheets) next to the compiled output.
import { cpSync, existsSync } from 'node:fs';
const from = 'src/http/pages/assets';
if (existsSync(from)) cpSync(from, 'dist/http/pages/assets', { recursive: true });
