// netc command line: each command lives in its own module and registers itself here.
import { Command, CommanderError } from 'commander';
import { CompileError, formatDiagnostics } from '../compiler/index.js';
import { UserError } from '../errors.js';

// Commands load lazily: `netc compile` must not pay for TensorFlow.js and the native
// backends (1.5 s) to print a cost table in a few milliseconds.
type Register = (program: Command) => void;
const COMMANDS: Record<string, () => Promise<Register>> = {
  compile: async () => (await import('./compile.js')).registerCompile,
  bench: async () => (await import('./bench.js')).registerBench,
  import: async () => (await import('./import.js')).registerImport,
  deblur: async () => (await import('./deblur.js')).registerDeblur,
  synth: async () => (await import('./synth.js')).registerSynth,
  train: async () => (await import('./train.js')).registerTrain,
  eval: async () => (await import('./eval.js')).registerEval,
  export: async () => (await import('./export.js')).registerExport,
  sweep: async () => (await import('./sweep.js')).registerSweep,
  web: async () => (await import('./web.js')).registerWeb,
};
/** Commands registered together by one module. */
const ALIASES: Record<string, string> = { diff: 'compile' };

export async function main(argv: string[]): Promise<void> {
  const program = new Command('netc')
    .description('netc: a language, compiler and runtime for multi-scale deblurring networks')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();
  const asked = ALIASES[argv[2]] ?? argv[2];
  const modules = asked in COMMANDS ? [asked] : Object.keys(COMMANDS);
  for (const name of modules) (await COMMANDS[name]())(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

/** Prints a user-facing error and returns the exit status. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    return err.exitCode === 0 ? 0 : 1; // commander already printed the message
  }
  if (err instanceof CompileError) {
    console.error(formatDiagnostics(err.diagnostics, err.source));
    return 1;
  }
  if (err instanceof UserError) {
    console.error(`netc: error: ${err.message}`);
    return 1;
  }
  console.error('netc: internal error (please report):');
  console.error(err);
  return 2;
}
