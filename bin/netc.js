#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (npm run build, done by npm run setup).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error('netc: not built yet. Run `npm run setup` (or `npm run build`) first.');
  process.exit(1);
}
const { main: run } = await import(main);
await run(process.argv);
