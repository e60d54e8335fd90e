// Checkpoints: a directory holding a tfjs-style `model.json` and its weight files.
//
//   DIR/model.json     { format: 'netc-checkpoint', weightsManifest: [...], netc: {...} }
//   DIR/weights.bin    the model's parameters, float32 little-endian, manifest order
//   DIR/optimizer.bin  optional: other named tensors (optimizer slots, e.g. 'adam/m/<param>')
//
// The manifest's first group is always weights.bin (what tfjs's loaders understand); the
// optimizer group, when present, is the second. `netc` holds the spec file, its sha256,
// the --set overrides, the step, the creation time and an `extra` JSON blob (the trainer's
// RNG state, optimizer hyper-state, ...), so a run can resume exactly.
// Runs keep their checkpoints in RUNDIR/checkpoints/step-XXXXXXX/ (7 digits, zero padded);
// `--weights RUNDIR` means the highest step there.
// Directories are written atomically (built in a temp dir, then renamed into place).
// Parsing and checking without the file system: checkpoint-format.ts.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Program } from '../compiler/ir.js';
import { UserError } from '../errors.js';
import { writeDirAtomic } from './fsutil.js';
import {
  checkFits, decodeGroup, MODEL_JSON, OPTIMIZER_FILE, parseModelJson, WEIGHTS_FILE, CHECKPOINT_FORMAT,
  type CheckpointMeta, type ManifestGroup, type ModelJson,
} from './checkpoint-format.js';
import { paramsFromArrays, type HostArray, type ParamMap } from './params.js';
import { tf } from './tf.js';

export { CHECKPOINT_FORMAT, paramMismatches, type CheckpointMeta } from './checkpoint-format.js';

export interface Checkpoint {
  /** The directory it was read from. */
  dir: string;
  meta: CheckpointMeta;
  params: Map<string, HostArray>;
  /** Optimizer slots and any other named tensors saved beside the parameters. */
  slots: Map<string, HostArray>;
}

/** What saveCheckpoint takes: tensors (any backend) or host arrays. */
export type NamedValues = Map<string, tf.Tensor | HostArray>;

export function checkpointMeta(program: Program, step: number, extra?: Record<string, unknown>): CheckpointMeta {
  return {
    specFile: program.file,
    specHash: program.sourceHash,
    set: { ...program.overrides },
    step,
    createdAt: new Date().toISOString(),
    ...(extra ? { extra } : {}),
  };
}

export function stepDirName(step: number): string {
  return `step-${String(step).padStart(7, '0')}`;
}

/** Where a run keeps the checkpoint of `step`. */
export function runCheckpointDir(runDir: string, step: number): string {
  return path.join(runDir, 'checkpoints', stepDirName(step));
}

async function hostArray(value: tf.Tensor | HostArray): Promise<HostArray> {
  if (value instanceof tf.Tensor) return { shape: value.shape, data: Float32Array.from(await value.data()) };
  return value;
}

async function group(values: NamedValues, file: string): Promise<{ manifest: ManifestGroup; bytes: Buffer }> {
  const weights: ManifestGroup['weights'] = [];
  const chunks: Buffer[] = [];
  for (const [name, value] of values) {
    const { shape, data } = await hostArray(value);
    if (data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`tensor '${name}': data does not match shape [${shape}]`);
    weights.push({ name, shape: [...shape], dtype: 'float32' });
    const le = Buffer.alloc(data.length * 4);
    for (let i = 0; i < data.length; i++) le.writeFloatLE(data[i], i * 4);
    chunks.push(le);
  }
  return { manifest: { paths: [file], weights }, bytes: Buffer.concat(chunks) };
}

/** Writes a checkpoint directory atomically (replacing an older one at `dir`). */
export async function saveCheckpoint(dir: string, contents: { meta: CheckpointMeta; params: NamedValues; slots?: NamedValues }): Promise<void> {
  const weights = await group(contents.params, WEIGHTS_FILE);
  const optimizer = contents.slots && contents.slots.size > 0 ? await group(contents.slots, OPTIMIZER_FILE) : undefined;
  const model: ModelJson = {
    format: CHECKPOINT_FORMAT,
    weightsManifest: optimizer ? [weights.manifest, optimizer.manifest] : [weights.manifest],
    netc: contents.meta,
  };
  await writeDirAtomic(dir, async (tmp) => {
    await fs.writeFile(path.join(tmp, WEIGHTS_FILE), weights.bytes);
    if (optimizer) await fs.writeFile(path.join(tmp, OPTIMIZER_FILE), optimizer.bytes);
    await fs.writeFile(path.join(tmp, MODEL_JSON), JSON.stringify(model, null, 1) + '\n');
  });
}

async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then((s) => s.isFile(), () => false);
}

/** A checkpoint directory, or a run directory (then its latest checkpoint). */
export async function resolveCheckpointDir(weightsPath: string): Promise<string> {
  const stat = await fs.stat(weightsPath).catch(() => undefined);
  if (!stat) throw new UserError(`${weightsPath}: no such checkpoint or run directory`);
  if (!stat.isDirectory()) throw new UserError(`${weightsPath}: not a directory (expected a checkpoint directory with ${MODEL_JSON}, or a run directory)`);
  if (await isFile(path.join(weightsPath, MODEL_JSON))) return weightsPath;
  const checkpoints = path.join(weightsPath, 'checkpoints');
  const names = await fs.readdir(checkpoints).catch(() => [] as string[]);
  const steps = names.filter((n) => /^step-\d+$/.test(n)).sort((a, b) => Number(b.slice(5)) - Number(a.slice(5)));
  for (const name of steps) {
    if (await isFile(path.join(checkpoints, name, MODEL_JSON))) return path.join(checkpoints, name);
  }
  throw new UserError(`${weightsPath}: neither a checkpoint (no ${MODEL_JSON}) nor a run directory with checkpoints/step-*/`);
}

/** Reads a checkpoint (or a run's latest) without checking it against a model. */
export async function readCheckpoint(weightsPath: string): Promise<Checkpoint> {
  const dir = await resolveCheckpointDir(weightsPath);
  const modelFile = path.join(dir, MODEL_JSON);
  const text = await fs.readFile(modelFile, 'utf8').catch((err: Error) => {
    throw new UserError(`${modelFile}: cannot read (${err.message})`);
  });
  const model = parseModelJson(text, modelFile);
  const groups: Map<string, HostArray>[] = [];
  for (const group of model.weightsManifest) {
    const file = path.join(dir, group.paths[0]);
    const bytes = await fs.readFile(file).catch(() => {
      throw new UserError(`${file}: missing (listed in ${MODEL_JSON})`);
    });
    groups.push(decodeGroup(file, dir, group, bytes));
  }
  return { dir, meta: model.netc, params: groups[0] ?? new Map(), slots: groups[1] ?? new Map() };
}

/** Reads a checkpoint and checks it against the program's generator (or `graphName`);
 *  throws one UserError listing every mismatch. */
export async function loadCheckpointFor(program: Program, weightsPath: string, graphName = program.generator): Promise<{ checkpoint: Checkpoint; params: ParamMap }> {
  const checkpoint = await readCheckpoint(weightsPath);
  checkFits(program, graphName, checkpoint.dir, checkpoint.meta, checkpoint.params);
  return { checkpoint, params: paramsFromArrays(checkpoint.params) };
}
