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
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Program } from '../compiler/ir.js';
import { UserError } from '../errors.js';
import { CHECKPOINT_FORMAT, MAX_MODEL_JSON_BYTES, groupBytes, parseModelJson, type CheckpointMeta, type ManifestGroup, type ModelJson } from './checkpoint-manifest.js';
import { CHECKPOINT_OUTPUT, writeDirAtomic } from './fsutil.js';
import { listParams, paramsFromArrays, type HostArray, type ParamInfo, type ParamMap } from './params.js';
import { tf } from './tf.js';

import { MODEL_JSON, OPTIMIZER_FILE, WEIGHTS_FILE, describeProgram, listLines, paramMismatches } from './checkpoint-format.js';

export { CHECKPOINT_FORMAT, type CheckpointMeta };
export { listLines, paramMismatches };

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

/** Writes a checkpoint directory atomically, replacing an older checkpoint at `dir` (and
 *  refusing to replace anything else: fsutil.ts, the owned-output rule). */
export async function saveCheckpoint(dir: string, contents: { meta: CheckpointMeta; params: NamedValues; slots?: NamedValues }): Promise<void> {
  const weights = await group(contents.params, WEIGHTS_FILE);
  const optimizer = contents.slots && contents.slots.size > 0 ? await group(contents.slots, OPTIMIZER_FILE) : undefined;
  const model: ModelJson = {
    format: CHECKPOINT_FORMAT,
    weightsManifest: optimizer ? [weights.manifest, optimizer.manifest] : [weights.manifest],
    netc: contents.meta,
  };
  await writeDirAtomic(dir, CHECKPOINT_OUTPUT, async (tmp) => {
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

/** Reads a group's file after checking its size against the manifest: nothing is
 *  allocated for a file that is shorter or longer than what the manifest describes. */
async function readGroup(dir: string, group: ManifestGroup): Promise<Map<string, HostArray>> {
  const file = path.join(dir, group.paths[0]);
  const expected = groupBytes(group);
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat?.isFile()) throw new UserError(`${file}: missing (listed in ${MODEL_JSON})`);
  if (stat.size < expected) throw new UserError(`${file}: truncated (${stat.size.toLocaleString('en-US')} bytes, the manifest describes ${expected.toLocaleString('en-US')})`);
  if (stat.size > expected) throw new UserError(`${file}: ${(stat.size - expected).toLocaleString('en-US')} bytes more than the manifest describes`);
  const bytes = await fs.readFile(file);
  if (bytes.length !== expected) throw new UserError(`${file}: changed while being read`);
  const arrays = new Map<string, HostArray>();
  let offset = 0;
  for (const { name, shape } of group.weights) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = bytes.readFloatLE(offset + i * 4);
    arrays.set(name, { shape: [...shape], data });
    offset += size * 4;
  }
  return arrays;
}

/** A checkpoint's model.json, checked (checkpoint-manifest.ts), and the directory. */
export async function readCheckpointManifest(weightsPath: string): Promise<{ dir: string; model: ModelJson }> {
  const dir = await resolveCheckpointDir(weightsPath);
  const file = path.join(dir, MODEL_JSON);
  const size = (await fs.stat(file)).size;
  if (size > MAX_MODEL_JSON_BYTES) throw new UserError(`${file}: ${size.toLocaleString('en-US')} bytes, too large for a checkpoint's manifest`);
  return { dir, model: parseModelJson(await fs.readFile(file, 'utf8'), file) };
}

export interface ReadCheckpointOptions {
  /** The parameters a model needs: a checkpoint whose weights differ in any name or shape
   *  is refused (one UserError listing every mismatch) before its weights are read.
   *  `allowMissing`: the model may have parameters the checkpoint lacks (a grown model
   *  starting from a smaller one's weights), as long as it has some of them. */
  expect?: { params: ParamInfo[]; describe: (mismatches: string[], meta: CheckpointMeta, dir: string) => string; allowMissing?: boolean };
}

/** Reads a checkpoint (or a run's latest); with `expect`, checked against a model first. */
export async function readCheckpoint(weightsPath: string, options: ReadCheckpointOptions = {}): Promise<Checkpoint> {
  const { dir, model } = await readCheckpointManifest(weightsPath);
  if (options.expect) {
    const found = new Map(model.weightsManifest[0].weights.map((w) => [w.name, w]));
    const allowMissing = options.expect.allowMissing === true && options.expect.params.some((p) => found.has(p.name));
    const mismatches = paramMismatches(options.expect.params, found, allowMissing);
    if (mismatches.length > 0) throw new UserError(options.expect.describe(mismatches, model.netc, dir));
  }
  const groups: Map<string, HostArray>[] = [];
  for (const group of model.weightsManifest) groups.push(await readGroup(dir, group));
  return { dir, meta: model.netc, params: groups[0], slots: groups[1] ?? new Map() };
}

/** Reads a checkpoint and checks it against the program's generator (or `graphName`)
 *  before reading its weights; throws one UserError listing every mismatch. */
export async function loadCheckpointFor(program: Program, weightsPath: string, graphName = program.generator): Promise<{ checkpoint: Checkpoint; params: ParamMap }> {
  const describe = (mismatches: string[], meta: CheckpointMeta, dir: string) => {
    const sets = Object.entries(meta.set).map(([k, v]) => `${k}=${v}`).join(' ');
    const from = meta.specFile ? ` (saved from ${meta.specFile}${sets ? ` with --set ${sets}` : ''})` : '';
    return `${dir}: checkpoint${from} does not fit model '${graphName}' of ${describeProgram(program)}: ${mismatches.length} mismatch${mismatches.length > 1 ? 'es' : ''}\n  ` +
      listLines(mismatches);
  };
  const checkpoint = await readCheckpoint(weightsPath, { expect: { params: listParams(program.models[graphName]), describe } });
  return { checkpoint, params: paramsFromArrays(checkpoint.params) };
}
