// `netc train FILE --data ROOT [--set k=v ...] [--out RUNDIR] [--steps N] [--backend B]
// [--resume | --init WEIGHTS] [--seed S] [--checkpoint-every N] [--keep K] [--validate-every N]`: trains what
// the file's loss and train sections declare (src/runtime/train/run.ts: run directory
// layout). Options named like the file's settings override them (--checkpoint-every:
// checkpoint_every, --validate-every: validate_every; --val-every is the older name); a
// relative `data:` path is relative to the .net file. The model is compiled at patch x patch
// (the training crop). Ctrl-C or SIGTERM saves a checkpoint after the current update and
// exits with status 130 or 143; a second signal quits at once (signals.ts). A non-finite loss
// stops with status 1, keeping the last good checkpoint.
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import type { Program } from '../compiler/ir.js';
import { UserError } from '../errors.js';
import { BACKEND_NAMES, initBackend, isBackendName, type BackendName } from '../runtime/backends/index.js';
import { listLines, readCheckpoint, readCheckpointManifest, type Checkpoint, type CheckpointMeta } from '../runtime/checkpoint.js';
import { RUN_OUTPUT } from '../runtime/fsutil.js';
import { listParams } from '../runtime/params.js';
import { trainRun, type RunOptions } from '../runtime/train/run.js';
import type { StepResult } from '../runtime/train/trainer.js';
import { collectSet, compileForCli, integerOption } from './options.js';
import { onStopSignals } from './signals.js';

/** The checkpoint to resume from (or, --init, to start from), its generator checked against
 *  the model before its weights are read. `grow` (--init): the model may add parameters to
 *  the checkpoint's (more blocks); those start from the model's initialization. */
function loadCheckpointChecked(program: Program, weightsPath: string, grow = false): Promise<Checkpoint> {
  const describe = (mismatches: string[], _meta: CheckpointMeta, dir: string) => `${dir}: does not fit ${program.file}:\n  ${listLines(mismatches)}`;
  return readCheckpoint(weightsPath, { expect: { params: listParams(program.models[program.generator]), describe, allowMissing: grow } });
}

interface TrainFlags {
  data?: string;
  set?: Record<string, number>;
  out?: string;
  steps?: number;
  backend?: string;
  resume?: boolean;
  init?: string;
  seed: number;
  checkpointEvery?: number;
  keep: number;
  validateEvery?: number;
  valEvery?: number;
  valImages?: number;
  workers: number;
}

const timestamp = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/** Compiles the file at its training patch size (the patch itself may come from --set). */
function compileAtPatch(file: string, set: Record<string, number>, setFrom?: string): Program {
  const { program } = compileForCli(file, { set, setFrom });
  if (!program.train) throw new UserError(`${file}: no train section; netc train needs train { ... }`);
  const patch = program.train.patch;
  if (program.inputSize[0] === patch && program.inputSize[1] === patch) return program;
  return compileForCli(file, { set, input: [patch, patch], setFrom }).program;
}

/** The run to resume: RUNDIR must be a run directory; its latest checkpoint's manifest. */
async function resumeManifest(runDir: string) {
  if (!(await RUN_OUTPUT.recognize(runDir))) throw new UserError(`--resume: ${runDir} is not a run directory (no log.jsonl or checkpoints/); give the --out of the run to continue`);
  return readCheckpointManifest(runDir);
}

/** The --set values of a resumed run: the saved ones; given ones must agree with them. */
function resumeSet(meta: CheckpointMeta, given: Record<string, number> | undefined): Record<string, number> {
  const saved = meta.set;
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
    .option('--steps <n>', 'train until this many updates (default: the declared iterations; the lr schedule stays as declared)', integerOption('--steps', { min: 1 }))
    .option('--backend <name>', `one of ${BACKEND_NAMES.join(', ')} (default: cpu)`)
    .option('--resume', 'continue the run in --out from its latest checkpoint, exactly')
    .option('--init <weights>', 'start from these weights (a checkpoint or run directory of the same generator, or of one with fewer blocks; e.g. weights/deblur-lite) instead of random ones: fine-tuning, with a fresh optimizer at step 0; parameters they lack start from the file\'s initialization')
    .option('--seed <n>', 'seed of the initial weights and of the data order/augmentation', integerOption('--seed', { max: 2 ** 32 - 1 }), 1)
    .option('--checkpoint-every <n>', 'steps between checkpoints (default: checkpoint_every, else 1000); one is always written at the end', integerOption('--checkpoint-every'))
    .option('--keep <k>', 'checkpoints kept (the newest)', integerOption('--keep', { min: 1 }), 3)
    .option('--validate-every <n>', 'steps between validations on the data\'s val split, else its test split (default: validate_every, else the checkpoint cadence; 0: never); the best one\'s weights are kept in RUNDIR/best', integerOption('--validate-every'))
    .addOption(new Option('--val-every <n>', 'the older name of --validate-every').argParser(integerOption('--val-every')).hideHelp())
    .option('--val-images <n>', 'pairs used for validation, the first of the split (default: all of a val split, 4 of a test split)', integerOption('--val-images', { min: 1 }))
    .option('--workers <n>', 'threads assembling batches (0: on the main thread)', integerOption('--workers', { max: 64 }), 1)
    .action(async (file: string, flags: TrainFlags) => {
      if (flags.backend !== undefined && !isBackendName(flags.backend)) {
        throw new UserError(`--backend ${flags.backend}: expected one of ${BACKEND_NAMES.join(', ')}`);
      }
      if (flags.resume && !flags.out) throw new UserError('--resume needs --out RUNDIR (the run to continue)');
      if (flags.resume && flags.init) throw new UserError('--init starts a new run and --resume continues one: give one of them (a resumed fine-tuning run keeps its weights without --init)');
      const saved = flags.resume ? await resumeManifest(flags.out!) : undefined;
      const set = saved ? resumeSet(saved.model.netc, flags.set) : (flags.set ?? {});
      const compiled = compileAtPatch(file, set, saved && path.join(saved.dir, 'model.json'));
      const resumeFrom = saved ? await loadCheckpointChecked(compiled, flags.out!) : undefined;
      const initFrom = flags.init ? await loadCheckpointChecked(compiled, flags.init, true) : undefined;
      const train = compiled.train!;
      const dataRoot = flags.data ?? (train.data?.root === undefined ? undefined : path.resolve(path.dirname(file), train.data.root));
      if (!dataRoot) throw new UserError(`${file}: no --data ROOT and no data: setting in the train section`);
      const steps = flags.steps ?? train.iterations;
      const checkpointEvery = flags.checkpointEvery ?? train.checkpointEvery ?? 1000;
      const valEvery = flags.validateEvery ?? flags.valEvery ?? train.validateEvery ?? checkpointEvery;
      const runDir = flags.out ?? path.join('runs', `${path.basename(file, path.extname(file))}-${timestamp()}`);

      const backend = await initBackend(flags.backend as BackendName | undefined);
      console.error(`netc: backend ${backend.name}: ${backend.note}`);
      console.error(`netc: training ${file}${Object.keys(set).length ? ' with --set ' + Object.entries(set).map(([k, v]) => `${k}=${v}`).join(' ') : ''}: ` +
        `patch ${train.patch}, batch ${train.batch}, ${steps} steps, run directory ${runDir}`);

      const stop = onStopSignals('saving a checkpoint after this step');
      try {
        const result = await trainRun({
          program: compiled,
          dataRoot,
          runDir,
          steps,
          seed: flags.seed,
          resumeFrom,
          initFrom,
          checkpointEvery,
          keep: flags.keep,
          valEvery,
          valImages: flags.valImages,
          workers: flags.workers,
          onStep: progressPrinter(),
          onMessage: (line) => console.error(`netc: ${line}`),
          shouldStop: () => stop.requested !== undefined,
        });
        const resumeHint = `netc train ${file} --out ${runDir} --resume${flags.data ? ` --data ${flags.data}` : ''}`;
        if (result.status === 'interrupted') {
          console.error(`netc: interrupted at step ${result.step}; saved ${result.checkpoint}; continue with: ${resumeHint}`);
          process.exitCode = stop.exitCode;
          return;
        }
        console.log(`trained to step ${result.step}; checkpoint ${result.checkpoint}`);
        if (result.best) console.log(`best validation: ${result.best.psnr.toFixed(2)} dB at step ${result.best.step}; its weights ${result.best.dir}`);
        console.log(`log ${path.join(runDir, 'log.jsonl')}, plots ${path.join(runDir, 'loss.svg')}${result.lastValidation ? ` and ${path.join(runDir, 'val.svg')}` : ''}`);
      } finally {
        stop.dispose();
      }
    });
}
