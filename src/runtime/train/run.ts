// A training run in a run directory:
//   RUNDIR/log.jsonl     one JSON object per update: step, loss (the objective), every loss
//                        term by name (a term named like a fixed key gets a 'term_' prefix),
//                        discriminator (its BCE, adversarial losses only), lr, time (training
//                        seconds since step 0, across resumes), seconds (this update),
//                        wait (the part of it spent waiting for the batch: the data loader)
//   RUNDIR/val.jsonl     one object per validation: step, psnr, ssim, baselinePsnr,
//                        baselineSsim, images, split; on the data root's val split when it
//                        has one, else on its test split
//   RUNDIR/best/         the generator's (inference) weights at the best validation PSNR so
//                        far: the checkpoint to ship when the run overfits its training scenes
//   RUNDIR/loss.svg, RUNDIR/val.svg   plots, rewritten at every checkpoint
//   RUNDIR/checkpoints/step-XXXXXXX/   the last `keep` checkpoints (checkpoint.ts layout)
// A checkpoint holds the generator (weights.bin; with `average: ema(...)` the averaged
// weights, and the optimizer's own as slots), and as slots the Adam moments, the
// discriminator's parameters and moments; its meta holds the spec hash, the --set values,
// the step and `extra`: seed, the batch loader's RNG state, the training time. Resuming
// restores all of it, so the resumed losses equal those of an unbroken run.
// Stopping: `shouldStop()` is polled between updates (SIGINT, SIGTERM): the run saves a checkpoint and
// returns 'interrupted'. A non-finite loss throws NonFiniteLossError (a UserError) naming the
// step, the term and the last good checkpoint; nothing is saved after it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Program } from '../../compiler/ir.js';
import { UserError } from '../../errors.js';
import { checkpointMeta, listLines, runCheckpointDir, saveCheckpoint, type Checkpoint } from '../checkpoint.js';
import { BatchLoader, type BatchLoaderState } from '../data/batches.js';
import { PairDataset, type BlurKind } from '../data/dataset.js';
import { DEFAULT_OVERLAP, DEFAULT_TILE, deblurImage } from '../deblur.js';
import { evaluate, type EvalResult } from '../evaluate.js';
import { TEMP_NAME, writeFileAtomic } from '../fsutil.js';
import { Rng } from '../data/rng.js';
import type { HostArray } from '../params.js';
import { tf } from '../tf.js';
import { linePlot, type Series } from './plot.js';
import { NonFiniteLossError, Trainer, type StepResult } from './trainer.js';

export interface RunOptions {
  program: Program;
  dataRoot: string;
  runDir: string;
  /** Train until this many updates are done (the declared iterations unless overridden). */
  steps: number;
  seed: number;
  /** Continue from this checkpoint (of this run directory). */
  resumeFrom?: Checkpoint;
  /** Start a new run from this checkpoint's generator weights (fine-tuning). */
  initFrom?: Checkpoint;
  /** Checkpoint every N updates (0: only at the end). */
  checkpointEvery: number;
  /** Checkpoints kept (the newest). */
  keep: number;
  /** Validate every N updates on the val split, else the test split (0: never). */
  valEvery: number;
  /** Pairs used for validation (the first of the split); default: all of a val split, the
   *  first 4 of a test split (which is larger and only a stand-in). */
  valImages?: number;
  blurKind?: BlurKind;
  /** Batch-assembling worker threads (BatchLoader). */
  workers?: number;
  onStep?: (result: StepResult, info: { total: number; itPerSecond: number; etaSeconds: number }) => void;
  onMessage?: (line: string) => void;
  shouldStop?: () => boolean;
}

export interface RunResult {
  step: number;
  status: 'done' | 'interrupted';
  /** The newest checkpoint directory. */
  checkpoint?: string;
  lastValidation?: EvalResult;
  /** The best validation so far and RUNDIR/best/, which holds its weights. */
  best?: { step: number; psnr: number; dir: string };
}

interface TrainExtra {
  seed: number;
  loader: BatchLoaderState;
  /** Training seconds up to this checkpoint. */
  time: number;
}

/** Pairs validated by default when a run stands in the test split for a missing val split. */
const TEST_SPLIT_VAL_IMAGES = 4;

const FIXED_KEYS = new Set(['step', 'loss', 'lr', 'time', 'seconds', 'wait', 'discriminator']);
export const termKey = (name: string) => (FIXED_KEYS.has(name) ? `term_${name}` : name);

export interface LogRecord {
  step: number;
  loss: number;
  lr: number;
  time: number;
  seconds: number;
  /** Seconds of `seconds` spent waiting for the batch. */
  wait: number;
  discriminator?: number;
  [term: string]: number | undefined;
}

async function readJsonLines<T extends { step: number }>(file: string): Promise<T[]> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const records: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      // a line cut short by a crash; everything after it is newer than any checkpoint
      break;
    }
  }
  return records;
}

/** Keeps the records up to `step` (what a resumed run continues from). */
async function truncateLog<T extends { step: number }>(file: string, step: number): Promise<T[]> {
  const kept = (await readJsonLines<T>(file)).filter((r) => r.step <= step);
  await writeFileAtomic(file, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  return kept;
}

async function hostArrays(values: Map<string, tf.Tensor>): Promise<{ arrays: Map<string, HostArray>; nonFinite?: string }> {
  const arrays = new Map<string, HostArray>();
  let nonFinite: string | undefined;
  for (const [name, tensor] of values) {
    const data = Float32Array.from(await tensor.data());
    if (nonFinite === undefined && !data.every(Number.isFinite)) nonFinite = name;
    arrays.set(name, { shape: [...tensor.shape], data });
  }
  return { arrays, nonFinite };
}

/** Removes all but the newest `keep` step-* checkpoints (renamed away first, so a kill while
 *  deleting never leaves a half-deleted checkpoint under a step-* name). */
async function pruneCheckpoints(runDir: string, keep: number): Promise<void> {
  const dir = path.join(runDir, 'checkpoints');
  const names = (await fs.readdir(dir)).filter((n) => /^step-\d+$/.test(n)).sort();
  for (const name of names.slice(0, Math.max(0, names.length - keep))) {
    const trash = path.join(dir, `.${name}.deleting`);
    await fs.rename(path.join(dir, name), trash);
    await fs.rm(trash, { recursive: true, force: true });
  }
}

/** Removes what a killed run can leave behind, and nothing else: netc's temp names of
 *  atomic writes (fsutil.ts TEMP_NAME) and checkpoints being deleted (`.step-N.deleting`). */
async function removeLeftovers(runDir: string): Promise<void> {
  for (const dir of [runDir, path.join(runDir, 'checkpoints')]) {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (TEMP_NAME.test(name) || /^\.step-\d+\.deleting$/.test(name)) await fs.rm(path.join(dir, name), { recursive: true, force: true });
    }
  }
}

/** The trainer's part of a checkpoint's meta, checked (a hand-edited or damaged model.json
 *  is a clear error, not a crash). */
function trainExtra(checkpoint: Checkpoint): TrainExtra {
  const extra = checkpoint.meta.extra as Partial<TrainExtra> | undefined;
  const where = `${checkpoint.dir}/model.json: netc.extra`;
  if (!extra?.loader) throw new UserError(`${checkpoint.dir}: not a training checkpoint (no data loader state); it can be used as --weights but not resumed`);
  if (!Number.isSafeInteger(extra.seed) || (extra.seed as number) < 0) throw new UserError(`${where}.seed: not a non-negative integer`);
  if (extra.time !== undefined && !(typeof extra.time === 'number' && extra.time >= 0)) throw new UserError(`${where}.time: not a number of seconds`);
  try {
    Rng.fromState(extra.loader.rng);
  } catch {
    throw new UserError(`${where}.loader: not a saved data loader state`);
  }
  return extra as TrainExtra;
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  const names = await fs.readdir(dir).catch(() => undefined);
  return !names || names.length === 0;
}

export async function trainRun(options: RunOptions): Promise<RunResult> {
  const { program, runDir } = options;
  const message = options.onMessage ?? (() => {});
  const trainer = new Trainer(program, options.seed);
  const train = trainer.train;
  const blurKind = options.blurKind ?? train.data?.blur ?? 'blur_gamma';
  const logFile = path.join(runDir, 'log.jsonl');
  const valFile = path.join(runDir, 'val.jsonl');

  let history: LogRecord[] = [];
  let validations: (EvalResult & { step: number })[] = [];
  let elapsed = 0;
  let loaderState: BatchLoaderState | undefined;
  let lastCheckpoint: string | undefined;
  let lastSaved = -1;
  let trainData: PairDataset | undefined;
  let loader: BatchLoader | undefined;
  let logHandle: fs.FileHandle | undefined;

  try {
    if (options.resumeFrom) {
      const { meta, params, slots, dir } = options.resumeFrom;
      if (meta.specHash !== program.sourceHash) {
        throw new UserError(`${dir}: saved from a different version of ${meta.specFile} (the file changed since); resume needs the same model file`);
      }
      const extra = trainExtra(options.resumeFrom);
      await removeLeftovers(runDir);
      trainer.restore(meta, params, slots);
      loaderState = extra.loader;
      elapsed = extra.time ?? 0;
      lastCheckpoint = dir;
      lastSaved = meta.step;
      history = await truncateLog<LogRecord>(logFile, meta.step);
      validations = await truncateLog(valFile, meta.step);
      message(`resuming ${runDir} at step ${meta.step}`);
    } else if (!(await isEmptyOrMissing(runDir))) {
      throw new UserError(`${runDir}: already exists and is not empty (use --resume to continue that run, or another --out)`);
    }
    if (options.initFrom) {
      const fresh = trainer.initialize(options.initFrom.params);
      message(`starting from the weights of ${options.initFrom.dir} (step ${options.initFrom.meta.step}); optimizer and step start fresh`);
      if (fresh.length > 0) {
        message(`${fresh.length} of ${trainer.params.size} parameters are not in it and start from the model's initialization:\n  ${listLines(fresh, 8)}`);
      }
    }
    await fs.mkdir(runDir, { recursive: true });

    trainData = await PairDataset.open(options.dataRoot, 'train', blurKind);
    const seed = options.resumeFrom ? (options.resumeFrom.meta.extra as unknown as TrainExtra).seed : options.seed;
    loader = new BatchLoader(trainData, { patch: train.patch, batch: train.batch, augment: train.augment, seed, workers: options.workers });
    if (loaderState) loader.setState(loaderState);

    let valData: PairDataset | undefined;
    if (options.valEvery > 0) {
      const split = (await isEmptyOrMissing(path.join(options.dataRoot, 'val'))) ? 'test' : 'val';
      valData = await PairDataset.open(options.dataRoot, split, blurKind).catch((err: unknown) => {
        message(`validation off: ${(err as Error).message}`);
        return undefined;
      });
      if (valData?.split === 'test') message(`validating on the test split (${options.dataRoot} has no val split): a checkpoint chosen by it is no longer scored on held-out data`);
    }
    const bestDir = path.join(runDir, 'best');
    const bestValidation = () => validations.reduce<(typeof validations)[number] | undefined>((b, v) => (!b || v.psnr > b.psnr ? v : b), undefined);

    const writePlots = async () => {
      const terms: Series[] = [
        ...trainer.termNames.map((name) => ({ name, points: history.map((r) => [r.step, r[termKey(name)] as number] as [number, number]) })),
      ];
      if (history.some((r) => r.discriminator !== undefined)) {
        terms.push({ name: 'discriminator', points: history.map((r) => [r.step, r.discriminator ?? NaN]) });
      }
      await writeFileAtomic(path.join(runDir, 'loss.svg'), linePlot(terms, { title: `training loss: ${path.basename(program.file)}`, xLabel: 'step', yLabel: 'loss', logY: true }));
      if (validations.length) {
        const val: Series[] = [
          { name: 'PSNR (deblurred)', points: validations.map((v) => [v.step, v.psnr]) },
          { name: 'PSNR (blurry input)', points: validations.map((v) => [v.step, v.baselinePsnr]) },
        ];
        await writeFileAtomic(path.join(runDir, 'val.svg'), linePlot(val, { title: `validation PSNR (${valData?.split ?? 'test'} split)`, xLabel: 'step', yLabel: 'PSNR (dB)' }));
      }
    };

    const save = async (step: number) => {
      const contents = trainer.checkpointContents();
      const params = await hostArrays(contents.params);
      const slots = await hostArrays(contents.slots);
      const bad = params.nonFinite ?? slots.nonFinite;
      if (bad) throw new NonFiniteLossError(step, `${bad} (a parameter)`, NaN);
      const extra: TrainExtra = { seed, loader: loader!.getState(), time: elapsed };
      const dir = runCheckpointDir(runDir, step);
      await saveCheckpoint(dir, { meta: checkpointMeta(program, step, extra as unknown as Record<string, unknown>), params: params.arrays, slots: slots.arrays });
      lastCheckpoint = dir;
      lastSaved = step;
      await pruneCheckpoints(runDir, options.keep);
      await writePlots();
    };

    const validate = async (step: number) => {
      if (!valData) return;
      const result = await evaluate(valData, (image) => deblurImage(program, trainer.inferenceParams, image, { tile: DEFAULT_TILE, overlap: DEFAULT_OVERLAP }), { limit: options.valImages ?? (valData.split === 'val' ? undefined : TEST_SPLIT_VAL_IMAGES) });
      const better = result.psnr > (bestValidation()?.psnr ?? -Infinity);
      validations.push({ ...result, step });
      const { images, ...means } = result;
      await fs.appendFile(valFile, JSON.stringify({ step, ...means, images: images.length, split: valData.split }) + '\n');
      message(`step ${step}: validation PSNR ${result.psnr.toFixed(2)} dB (blurry ${result.baselinePsnr.toFixed(2)}), SSIM ${result.ssim.toFixed(4)} (blurry ${result.baselineSsim.toFixed(4)}) on ${images.length} ${valData.split} pairs${better ? `; best so far: ${bestDir}` : ''}`);
      if (better) {
        const params = await hostArrays(trainer.checkpointContents().params);
        await saveCheckpoint(bestDir, { meta: checkpointMeta(program, step, { validation: { split: valData.split, ...means, images: images.length } }), params: params.arrays });
      }
    };

    logHandle = await fs.open(logFile, 'a');
    const recent: number[] = []; // seconds of the last updates, for it/s
    let status: RunResult['status'] = 'done';
    while (trainer.step < options.steps) {
      if (options.shouldStop?.()) {
        status = 'interrupted';
        break;
      }
      const started = performance.now();
      const batch = await loader.next();
      const waited = (performance.now() - started) / 1000;
      const result = trainer.trainStep(batch);
      const seconds = (performance.now() - started) / 1000;
      elapsed += seconds;
      const record: LogRecord = { step: result.step, loss: result.loss } as LogRecord;
      for (const [name, value] of Object.entries(result.terms)) record[termKey(name)] = value;
      if (result.discriminatorLoss !== undefined) record.discriminator = result.discriminatorLoss;
      Object.assign(record, { lr: result.lr, time: Number(elapsed.toFixed(4)), seconds: Number(seconds.toFixed(4)), wait: Number(waited.toFixed(4)) });
      history.push(record);
      await logHandle.write(JSON.stringify(record) + '\n');

      recent.push(seconds);
      if (recent.length > 20) recent.shift();
      const itPerSecond = recent.length / recent.reduce((a, b) => a + b, 0);
      options.onStep?.(result, { total: options.steps, itPerSecond, etaSeconds: (options.steps - result.step) / itPerSecond });

      if (options.checkpointEvery > 0 && result.step % options.checkpointEvery === 0) await save(result.step);
      if (options.valEvery > 0 && result.step % options.valEvery === 0) await validate(result.step);
    }
    if (lastSaved !== trainer.step) await save(trainer.step);
    else await writePlots();
    const lastValidation = validations.length ? validations[validations.length - 1] : undefined;
    const best = bestValidation();
    return { step: trainer.step, status, checkpoint: lastCheckpoint, lastValidation, best: best && { step: best.step, psnr: best.psnr, dir: bestDir } };
  } catch (err) {
    if (err instanceof NonFiniteLossError) {
      const kept = lastCheckpoint ? `the last good checkpoint is ${lastCheckpoint}` : 'no checkpoint was written';
      throw new UserError(`${err.message}; stopped, ${kept}`);
    }
    throw err;
  } finally {
    await logHandle?.close();
    await loader?.close();
    trainer.dispose();
  }
}
