// The checkpoint format without the file system: parsing model.json, decoding a weight
// group's bytes, checking parameters against a model. checkpoint.ts reads directories
// with it in Node; the browser page reads the same files over HTTP with it.
// (The format itself is described in checkpoint.ts.)
import type { Program } from '../compiler/ir.js';
import { UserError } from '../errors.js';
import { listParams, type HostArray, type ParamInfo } from './params.js';

export const CHECKPOINT_FORMAT = 'netc-checkpoint';
export const MODEL_JSON = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
export const OPTIMIZER_FILE = 'optimizer.bin';

export interface CheckpointMeta {
  specFile: string;
  specHash: string;
  set: Record<string, number>;
  step: number;
  createdAt: string;
  extra?: Record<string, unknown>;
}

export interface ManifestGroup {
  paths: string[];
  weights: { name: string; shape: number[]; dtype: 'float32' }[];
}
export interface ModelJson {
  format: string;
  weightsManifest: ManifestGroup[];
  netc: CheckpointMeta;
}

/** Parses and checks a model.json; `file` names it in errors. */
export function parseModelJson(text: string, file: string): ModelJson {
  let model: ModelJson;
  try {
    model = JSON.parse(text) as ModelJson;
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (model.format !== CHECKPOINT_FORMAT || !Array.isArray(model.weightsManifest) || !model.netc) {
    throw new UserError(`${file}: not a netc checkpoint (format '${String(model.format)}')`);
  }
  return model;
}

/** The tensors of one manifest group from its file's bytes (float32 little-endian, in
 *  manifest order); `file` names the weight file in errors. */
export function decodeGroup(file: string, dir: string, group: ManifestGroup, bytes: Uint8Array): Map<string, HostArray> {
  const arrays = new Map<string, HostArray>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  for (const { name, shape, dtype } of group.weights) {
    if (dtype !== 'float32') throw new UserError(`${dir}: tensor '${name}' has dtype ${dtype}; only float32 is supported`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (offset + size * 4 > bytes.length) throw new UserError(`${file}: truncated (tensor '${name}' reaches past the end)`);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = view.getFloat32(offset + i * 4, true);
    arrays.set(name, { shape, data });
    offset += size * 4;
  }
  if (offset !== bytes.length) throw new UserError(`${file}: ${bytes.length - offset} bytes more than the manifest describes`);
  return arrays;
}

const formatShape = (shape: number[]) => `[${shape.join(', ')}]`;

/** Every difference between the expected parameters and `found`, one line each. */
export function paramMismatches(expected: ParamInfo[], found: Map<string, { shape: number[] }>): string[] {
  const lines: string[] = [];
  const expectedNames = new Set(expected.map((p) => p.name));
  for (const { name, shape } of expected) {
    const actual = found.get(name);
    if (!actual) lines.push(`missing: ${name} ${formatShape(shape)}`);
    else if (formatShape(actual.shape) !== formatShape(shape)) {
      lines.push(`wrong shape: ${name}: expected ${formatShape(shape)}, found ${formatShape(actual.shape)}`);
    }
  }
  for (const [name, { shape }] of found) if (!expectedNames.has(name)) lines.push(`unexpected: ${name} ${formatShape(shape)}`);
  return lines;
}

function describeProgram(program: Program): string {
  const sets = Object.entries(program.overrides).map(([k, v]) => `${k}=${v}`);
  return sets.length ? `${program.file} with --set ${sets.join(' ')}` : program.file;
}

/** Throws one UserError listing every mismatch between a checkpoint's parameters and the
 *  program's graph `graphName`. */
export function checkFits(program: Program, graphName: string, dir: string, meta: CheckpointMeta, params: Map<string, { shape: number[] }>): void {
  const mismatches = paramMismatches(listParams(program.models[graphName]), params);
  if (mismatches.length === 0) return;
  const from = meta.specFile ? ` (saved from ${meta.specFile}${Object.keys(meta.set ?? {}).length ? ' with --set ' + Object.entries(meta.set).map(([k, v]) => `${k}=${v}`).join(' ') : ''})` : '';
  throw new UserError(
    `${dir}: checkpoint${from} does not fit model '${graphName}' of ${describeProgram(program)}: ${mismatches.length} mismatch${mismatches.length > 1 ? 'es' : ''}\n  ` +
      mismatches.join('\n  '),
  );
}
