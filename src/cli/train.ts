// `netc train FILE --data ROOT [--set k=v ...] [--out RUNDIR] [--steps N] [--backend B]
// [--resume] [--seed S] [--checkpoint-every N] [--keep K] [--val-every N]`: trains what the
// file's loss and train sections declare (src/runtime/train/run.ts: run directory layout).
// The model is compiled at patch x patch (the training crop). Ctrl-C saves a checkpoint after
// the current update and exits with status 130; a second Ctrl-C quits at once. A non-finite
// loss stops with status 1, keeping the last good checkpoint.
import * as path from 'node:path';
import type { Command } from 'commander';
import type { Program } from '../compiler/ir.js';
import { UserError } from '../errors.js';
import { BACKEND_NAMES, initBackend, isBackendName, type BackendName } from '../runtime/backends/index.js';
import { readCheckpoint, type Checkpoint } from '../runtime/checkpoint.js';
import { trainRun, type RunOptions } from '../runtime/train/run.js';
import type { StepResult } from '../runtime/train/trainer.js';
import { collectSet, compileForCli } from './options.js';

interface TrainFlags {
  data?: string;
  set?: Record<string, number>;
  out?: string;
  steps?: string;
  backend?: string;
  resume?: boolean;
  seed: string;
  checkpointEvery?: string;
  keep: string;
  valEvery?: string;
  valImages: string;
  workers: string;
}

function wholeNumber(flag: string, value: string, min = 0): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n < min) throw new UserError(`${flag} ${value}: expected a whole number >= ${min}`);
  return n;
}

const timestamp = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/** Compiles the file at its training patch size (the patch itself may come from --set). */
function compileAtPatch(file: string, set: Record<string, number>): Program {
  const { program } = compileForCli(file, { set });
  if (!program.train) throw new UserError(`${file}: no train section; netc train needs train { ... }`);
  const patch = program.train.patch;
  if (program.inputSize[0] === patch && program.inputSize[1] === patch) return program;
  return compileForCli(file, { set, input: [patch, patch] }).program;
}

/** The --set values of a resumed run: the saved ones; given ones must agree with them. */
function resumeSet(checkpoint: Checkpoint, given: Record<string, number> | undefined): Record<string, number> {
  const saved = checkpoint.meta.set ?? {};
  if (given) {
    const describe = (s: Record<string, number>) => Object.entries(s).map(([k, v]) => `${k}=${v}`).sort().join(' ') || '(none)';
    if (describe(given) !== describe(saved)) {
      throw new UserError(`--resume: the run was started with --set ${describe(saved)}, not ${describe(given)} (leave --set out to reuse the saved values)`);
    }
  }
  return saved;
}

const formatNumber = (x: number) => (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toFixed(4) : x.toExponential(3));

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const hms = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  return hms.map((v, i) => (i === 0 ? String(v) : String(v).padStart(2, '0'))).join(':');
}

/** A progress line per update on a terminal (rewritten in place), else a plain line every
 *  few seconds and at the last step. */
function progressPrinter(): NonNullable<RunOptions['onStep']> {
  const tty = process.stderr.isTTY === true;
  let lastPrinted = 0;
  return (result: StepResult, { total, itPerSecond, etaSeconds }) => {
    const now = performance.now();
    const last = result.step === total;
    if (!tty && !last && result.step !== 1 && now - lastPrinted < 5000) return;
    lastPrinted = now;
    const terms = Object.entries(result.terms).map(([name, value]) => `${name} ${formatNumber(value)}`);
    if (result.discriminatorLoss !== undefined) terms.push(`D ${formatNumber(result.discriminatorLoss)}`);
    const width = 20;
    const filled = Math.round((width * result.step) / total);
    const bar = tty ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` : '';
    const line = `${bar}step ${result.step}/${total}  ${terms.join('  ')}  lr ${result.lr.toExponential(2)}  ${itPerSecond.toFixed(2)} it/s  ETA ${formatDuration(etaSeconds)}`;
    if (tty) process.stderr.write(`\r\x1b[K${line}${last ? '\n' : ''}`);
    else console.error(line);
  };
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train the model a .net file declares (its loss and train sections)')
    .argument('<file.net>', 'model file with loss { } and train { } sections')
    .option('--data <root>', 'dataset root in the GOPRO layout (default: the file\'s data: setting)')
    .option('--set <name=value>', 'override a top-level constant, e.g. --set feats=16 (repeatable)', collectSet)
    .option('--out <rundir>', 'run directory (default: runs/<model>-<timestamp>)')
    .option('--steps <n>', 'train until this many updates (default: the declared iterations; the lr schedule stays as declared)')
    .option('--backend <name>', `one of ${BACKEND_NAMES.join(', ')} (default: cpu)`)
    .option('--resume', 'continue the run in --out from its latest checkpoint, exactly')
    .option('--seed <n>', 'seed of the initial weights and of the data order/augmentation', '1')
    .option('--checkpoint-every <n>', 'steps between checkpoints (default: checkpoint_every, else 1000); one is always written at the end')
    .option('--keep <k>', 'checkpoints kept (the newest)', '3')
    .option('--val-every <n>', 'steps between validations on the test split (default: validate_every, else the checkpoint cadence; 0: never)')
    .option('--val-images <n>', 'test pairs used for validation', '4')
    .option('--workers <n>', 'threads assembling batches (0: on the main thread)', '1')
    .action(async (file: string, flags: TrainFlags) => {
      if (flags.backend !== undefined && !isBackendName(flags.backend)) {
        throw new UserError(`--backend ${flags.backend}: expected one of ${BACKEND_NAMES.join(', ')}`);
      }
      if (flags.resume && !flags.out) throw new UserError('--resume needs --out RUNDIR (the run to continue)');
      const resumeFrom = flags.resume ? await readCheckpoint(flags.out!) : undefined;
      const set = resumeFrom ? resumeSet(resumeFrom, flags.set) : (flags.set ?? {});
      const compiled = compileAtPatch(file, set);
      const train = compiled.train!;
      const dataRoot = flags.data ?? train.data?.root;
      if (!dataRoot) throw new UserError(`${file}: no --data ROOT and no data: setting in the train section`);
      const steps = flags.steps !== undefined ? wholeNumber('--steps', flags.steps, 1) : train.iterations;
      const checkpointEvery = flags.checkpointEvery !== undefined ? wholeNumber('--checkpoint-every', flags.checkpointEvery) : (train.checkpointEvery ?? 1000);
      const valEvery = flags.valEvery !== undefined ? wholeNumber('--val-every', flags.valEvery) : (train.validateEvery ?? checkpointEvery);
      const runDir = flags.out ?? path.join('runs', `${path.basename(file, path.extname(file))}-${timestamp()}`);

      const backend = await initBackend(flags.backend as BackendName | undefined);
      console.error(`netc: backend ${backend.name}: ${backend.note}`);
      console.error(`netc: training ${file}${Object.keys(set).length ? ' with --set ' + Object.entries(set).map(([k, v]) => `${k}=${v}`).join(' ') : ''}: ` +
        `patch ${train.patch}, batch ${train.batch}, ${steps} steps, run directory ${runDir}`);

      let interrupts = 0;
      const onInterrupt = () => {
        interrupts += 1;
        if (interrupts > 1) {
          console.error('\nnetc: interrupted again; quitting without saving');
          process.exit(130);
        }
        console.error('\nnetc: interrupt: saving a checkpoint after this step (Ctrl-C again to quit without saving)');
      };
      process.on('SIGINT', onInterrupt);
      try {
        const result = await trainRun({
          program: compiled,
          dataRoot,
          runDir,
          steps,
          seed: wholeNumber('--seed', flags.seed),
          resumeFrom,
          checkpointEvery,
          keep: wholeNumber('--keep', flags.keep, 1),
          valEvery,
          valImages: wholeNumber('--val-images', flags.valImages, 1),
          workers: wholeNumber('--workers', flags.workers),
          onStep: progressPrinter(),
          onMessage: (line) => console.error(`netc: ${line}`),
          shouldStop: () => interrupts > 0,
        });
        const resumeHint = `netc train ${file} --out ${runDir} --resume${flags.data ? ` --data ${flags.data}` : ''}`;
        if (result.status === 'interrupted') {
          console.error(`netc: interrupted at step ${result.step}; saved ${result.checkpoint}; continue with: ${resumeHint}`);
          process.exitCode = 130;
          return;
        }
        console.log(`trained to step ${result.step}; checkpoint ${result.checkpoint}`);
        console.log(`log ${path.join(runDir, 'log.jsonl')}, plots ${path.join(runDir, 'loss.svg')}${result.lastValidation ? ` and ${path.join(runDir, 'val.svg')}` : ''}`);
      } finally {
        process.off('SIGINT', onInterrupt);
      }
    });
}
