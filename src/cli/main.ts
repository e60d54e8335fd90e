// netc command line: each command lives in its own module and registers itself here.
import { Command, CommanderError } from 'commander';
import { CompileError, formatDiagnostics } from '../compiler/index.js';
import { UserError } from '../errors.js';
import { registerBench } from './bench.js';
import { registerCompile } from './compile.js';
import { registerDeblur } from './deblur.js';
import { registerImport } from './import.js';
import { registerSynth } from './synth.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('netc')
    .description('netc: a language, compiler and runtime for multi-scale deblurring networks')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();
  registerCompile(program);
  registerBench(program);
  registerImport(program);
  registerDeblur(program);
  registerSynth(program);
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
