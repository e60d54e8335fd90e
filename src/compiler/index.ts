// The compiler's entry points for Node: source text or a file -> checked, shape-inferred,
// fused Program. The pipeline itself is in pipeline.ts (no Node-only modules; the browser
// playground uses it directly); this module adds reading files and node:crypto's sha256.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import { compileSourceWith, type CompileOptions, type CompileResult } from './pipeline.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function compileSource(source: string, file: string, options: CompileOptions = {}): CompileResult {
  return compileSourceWith(sha256, source, file, options);
}

export function compileFile(file: string, options: CompileOptions = {}): CompileResult {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a .net file' : `cannot read (${code})`}`);
  }
  return compileSource(source, file, options);
}

export type { CompileOptions, CompileResult } from './pipeline.js';
export { CompileError, formatDiagnostics } from './diagnostics.js';
export type { Program } from './ir.js';
