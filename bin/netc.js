#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (npm run build, done by npm run setup).
import('../dist/src/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/')) {
    console.error('netc: not built yet. Run `npm run setup` (or `npm run build`) first.');
  } else {
    console.error(err);
  }
  process.exit(1);
});
