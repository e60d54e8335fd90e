#!/usr/bin/env -S node --max-semi-space-size=64
// A larger young generation (above): tensors make short-lived garbage fast, and fewer
// scavenges leave oneDNN's two threads alone (GC 163 -> 123 ms per 128x128 training step).
// --single-threaded-gc made training faster still (2.08 -> 1.85 s) but lets dead tensor
// buffers pile up between collections: a 512x512 forward went from 0.77 to 4.2 GB peak and
// got slower, so it is not used. Run as `npx netc` or `bin/netc.js` to get the flag.
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
// Leave now, unless a command left a server listening (netc web). Ending by draining the event
// loop runs Node 20's teardown, which unregisters the isolate from the platform before
// disposing it: a TurboFan job still running on a helper thread in between aborts the process
// ("NodePlatform::ForIsolate ... Assertion failed", nodejs/node#31752; seen once as `netc
// train` exited after saving its checkpoint on SIGTERM). process.exit() first joins the
// helper threads. Every command has awaited its own writes by now.
if (!process.getActiveResourcesInfo().includes('TCPServerWrap')) process.exit();
