// Options shared by commands: --set NAME=VALUE (repeatable), --input HxW, whole-number
// options, the model file (positional, or --model), compiling with diagnostics printed as
// file:line:col with a caret.
import { CompileError, compileFile, formatDiagnostics, type CompileOptions, type CompileResult } from '../compiler/index.js';
import { overrideProblem } from '../compiler/overrides.js';
import { Option } from 'commander';
import { UserError } from '../errors.js';
import { BUNDLED_ENSEMBLE } from '../runtime/bundled.js';
import { ENSEMBLE_VIEWS } from '../runtime/ensemble.js';

/** Commander collector for repeated `--set name=value`. */
export function collectSet(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const eq = value.indexOf('=');
  if (eq < 1 || eq === value.length - 1) throw new UserError(`--set ${value}: expected NAME=VALUE, e.g. --set blocks=9`);
  const name = value.slice(0, eq);
  const text = value.slice(eq + 1);
  const n = text.trim() === '' ? NaN : Number(text);
  const problem = overrideProblem(name, n);
  if (problem) throw new UserError(`--set ${value}: ${problem.includes('not a number') ? `'${text}' is not a number` : `expected NAME=VALUE with a constant's name, e.g. --set blocks=9`}`);
  return { ...previous, [name]: n };
}

export function parseSize(value: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(value.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UserError(`--input ${value}: expected HEIGHTxWIDTH, e.g. 256x256`);
  return [Number(m[1]), Number(m[2])];
}

export interface IntegerRange {
  /** Smallest accepted value (default 0). */
  min?: number;
  /** Largest accepted value (default Number.MAX_SAFE_INTEGER). */
  max?: number;
}

/** The one parser of whole-number options for every command: digits only (no sign,
 *  fraction, exponent or hex), within [min, max]. Throws a UserError naming the flag:
 *  `--steps 1.5: expected a whole number >= 1`. */
export function parseInteger(flag: string, value: string, { min = 0, max = Number.MAX_SAFE_INTEGER }: IntegerRange = {}): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UserError(`${flag} ${value}: expected a whole number ${range}`);
  }
  return n;
}

/** parseInteger as a commander argument parser: `.option('--steps <n>', '...', integerOption('--steps', { min: 1 }))`. */
export function integerOption(flag: string, range: IntegerRange = {}): (value: string) => number {
  return (value) => parseInteger(flag, value, range);
}

/** --ensemble N of deblur and eval (deblur.ts's flipped views), checked as it is parsed. */
export function ensembleOption(): Option {
  const views = ENSEMBLE_VIEWS.join(', ');
  return new Option('--ensemble <n>', `average the model over n flipped views of each image (${views}): n times slower, usually a little sharper (default: 1; ${BUNDLED_ENSEMBLE} for the bundled model)`).argParser((value) => {
    const n = parseInteger('--ensemble', value, { min: 1 });
    if (!ENSEMBLE_VIEWS.includes(n)) throw new UserError(`--ensemble ${n}: expected one of ${views}`);
    return n;
  });
}

/** The model file of a command that takes it positionally (`netc deblur FILE.net IN...`) or,
 *  the older form kept as an alias, with --model (`netc deblur IN... --model FILE.net`).
 *  Returns the model file and the remaining positional arguments. */
export function modelAndRest(command: string, positional: string[], model: string | undefined, usage: string): { model: string; rest: string[] } {
  if (model !== undefined) return { model, rest: positional };
  const [first, ...rest] = positional;
  if (first === undefined || !first.endsWith('.net')) {
    throw new UserError(`netc ${command}: expected the model file first (${usage}), or --model FILE.net${first === undefined ? '' : `; '${first}' is not a .net file`}`);
  }
  return { model: first, rest };
}

/** Like modelAndRest, for commands whose model file may be left out (deblur, eval: the
 *  bundled model): a first argument ending in .net is the model, else there is none. */
export function optionalModelAndRest(positional: string[], model: string | undefined): { model?: string; rest: string[] } {
  if (model !== undefined) return { model, rest: positional };
  const [first, ...rest] = positional;
  return first?.endsWith('.net') ? { model: first, rest } : { rest: positional };
}

export interface CliCompileOptions extends CompileOptions {
  /** Where `set` came from when not the command line (e.g. a checkpoint's model.json): said
   *  before the errors, which otherwise point at a line the user did not change. */
  setFrom?: string;
}

/** Compiles a model file, printing warnings; errors become a CompileError the CLI prints.
 *  NETC_DEBUG=1 prints each stage's timing, 2 also its value (next to `options.debug`), 3
 *  also traces every node the runtime runs (src/runtime/trace.ts). */
export function compileForCli(file: string, options: CliCompileOptions): CompileResult {
  const debugLevel = Number(process.env.NETC_DEBUG ?? 0);
  const started = performance.now();
  const { setFrom, ...compileOptions } = options;
  let result: CompileResult;
  try {
    result = compileFile(file, {
      ...compileOptions,
      debug: (stage, value) => {
        options.debug?.(stage, value);
        if (debugLevel > 0) console.error(`[netc debug] ${stage} ready after ${(performance.now() - started).toFixed(1)} ms`);
        if (debugLevel > 1) console.error(JSON.stringify(value, (k, v) => (k === 'loc' ? undefined : v), 1));
      },
    });
  } catch (err) {
    if (setFrom && (err instanceof CompileError || err instanceof UserError)) {
      const sets = Object.entries(options.set ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
      console.error(`netc: compiling ${file} with the --set values saved in ${setFrom}: ${sets || '(none)'}`);
    }
    throw err;
  }
  if (result.diagnostics.length) console.error(formatDiagnostics(result.diagnostics, result.source));
  return result;
}

export { CompileError };
