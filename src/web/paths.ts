// Where the project lives on disk, for `netc web` (its default model and the built page):
// the nearest folder above this module with netc's package.json, whether this runs from
// src/ (tests) or dist/src/ (the CLI).
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'netc') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the netc project root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The built page: dist/web under the project root. */
export const bundleDir = (root = projectRoot()) => path.join(root, 'dist', 'web');
