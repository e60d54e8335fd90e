// Compiling the project's model files for runtime tests (small variants via --set).
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileFile } from '../../src/compiler/index.js';
import type { Program } from '../../src/compiler/ir.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const OFFICIAL_MODEL = path.join(REPO_ROOT, 'models/deepdeblur-pytorch.net');
export const PAPER_MODEL = path.join(REPO_ROOT, 'models/deepdeblur.net');

export function compileModel(file: string, set: Record<string, number>, input: [number, number], fuse = true): Program {
  return compileFile(file, { set, input, fuse }).program;
}
