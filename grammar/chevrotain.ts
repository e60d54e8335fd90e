// The grammar's one door to chevrotain. `npm run build` replaces tsc's output for this file
// (dist/grammar/chevrotain.js) with esbuild's single-file bundle of chevrotain: its ESM
// build is ~400 small files with lodash-es, which Node took 0.4-0.8 s to resolve, read and
// link at every command's start on a 2-core machine; the bundle loads in ~20 ms.
export * from 'chevrotain';
