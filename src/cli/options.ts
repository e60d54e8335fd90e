// Options shared by commands: --set NAME=VALUE (repeatable), --input HxW, compiling with
// diagnostics printed as file:line:col with a caret.
import { CompileError, compileFile, formatDiagnostics, type CompileOptions, type CompileResult } from '../compiler/index.js';
import { UserError } from '../errors.js';

/** Commander collector for repeated `--set name=value`. */
export function collectSet(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(value);
  if (!m) throw new UserError(`--set ${value}: expected NAME=VALUE, e.g. --set blocks=9`);
  const n = Number(m[2]);
  if (!Number.isFinite(n)) throw new UserError(`--set ${value}: '${m[2]}' is not a number`);
  return { ...previous, [m[1]]: n };
}

export function parseSize(value: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(value.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UserError(`--input ${value}: expected HEIGHTxWIDTH, e.g. 256x256`);
  return [Number(m[1]), Number(m[2])];
}

/** Compiles a model file, printing warnings; errors become a CompileError the CLI prints. */
export function compileForCli(file: string, options: CompileOptions): CompileResult {
  const debugLevel = Number(process.env.NETC_DEBUG ?? 0);
  const started = performance.now();
  const result = compileFile(file, {
    ...options,
    debug: debugLevel > 0 ? (stage, value) => {
      console.error(`[netc debug] ${stage} ready after ${(performance.now() - started).toFixed(1)} ms`);
      if (debugLevel > 1) console.error(JSON.stringify(value, (k, v) => (k === 'loc' ? undefined : v), 1));
    } : undefined,
  });
  if (result.diagnostics.length) console.error(formatDiagnostics(result.diagnostics, result.source));
  return result;
}

export { CompileError };
