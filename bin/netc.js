#!/usr/bin/env -S node --single-threaded-gc --max-semi-space-size=64
// V8 flags (above): the oneDNN kernels use both cores, so V8's concurrent GC threads would
// preempt one of them mid-convolution; and tensors make garbage fast. Measured on a full
// DeepDeblur training step at 128x128: 2.08 s -> 1.85 s. Run as `npx netc` or `bin/netc.js`
// to get them (`node bin/netc.js` works too, without them).
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
