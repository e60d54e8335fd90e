// Bundles the playground page (src/web/page/) with esbuild into dist/web/: index.html,
// app.js, app.css and meta.json (esbuild's list of every module in the bundle). The page
// is built for the browser platform, so any Node-only import reachable from it (node:fs,
// node:crypto, the oneDNN addon) fails the build. `npm run build` runs this file;
// `netc web` runs buildPage() itself when dist/web is missing.
// TensorFlow.js: the runtime imports the union package '@tensorflow/tfjs' (src/runtime/tf.ts);
// the page aliases it to tfjs-core with the CPU and WebGL backends (src/web/page/tfjs.ts),
// which is all inference needs: 0.63 MB instead of 0.99 MB minified. In Node that file loads
// tfjs with require (faster); the page bundles src/web/page/tf.ts in its place.
import type { Plugin } from 'esbuild';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleDir, projectRoot } from './paths.js';

export interface PageBuild {
  dir: string;
  /** Bytes of each output file. */
  sizes: Record<string, number>;
  /** Project files in the bundle (relative paths), from esbuild's metafile. */
  inputs: string[];
}

/** An esbuild plugin that bundles `replacement` wherever a module imports `file` (the
 *  compiled name, .js, that the TypeScript sources import). */
function pageModule(file: string, replacement: string): Plugin {
  return {
    name: 'page-module',
    setup(build) {
      build.onResolve({ filter: /\.js$/ }, (args) => (path.resolve(args.resolveDir, args.path) === file ? { path: replacement } : undefined));
    },
  };
}

export async function buildPage(root = projectRoot()): Promise<PageBuild> {
  const esbuild = await import('esbuild');
  const out = bundleDir(root);
  const page = path.join(root, 'src/web/page');
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { app: path.join(page, 'main.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    legalComments: 'none',
    outdir: out,
    metafile: true,
    logLevel: 'silent',
    alias: { '@tensorflow/tfjs': './src/web/page/tfjs.ts' },
    plugins: [pageModule(path.join(root, 'src/runtime/tf.js'), path.join(page, 'tf.ts'))],
    // grammar/parser.ts reads this flag (tests validate the grammar; the page never does).
    define: { 'process.env.NETC_VALIDATE_GRAMMAR': '"0"', 'process.env.NODE_ENV': '"production"' },
  });
  await fs.copyFile(path.join(page, 'index.html'), path.join(out, 'index.html'));
  await fs.writeFile(path.join(out, 'meta.json'), JSON.stringify(result.metafile));
  const sizes: Record<string, number> = {};
  for (const name of ['index.html', 'app.js', 'app.css']) sizes[name] = (await fs.stat(path.join(out, name))).size;
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/'));
  return { dir: out, sizes, inputs };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const started = performance.now();
  buildPage().then(
    (build) => {
      const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
      const files = Object.entries(build.sizes).map(([name, size]) => `${name} ${kb(size)}`).join(', ');
      console.log(`web page: ${path.relative(process.cwd(), build.dir)}/ (${files}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    },
    (err: Error) => {
      console.error(`web page: build failed\n${err.message}`);
      process.exit(1);
    },
  );
}
