// The checkpoint format without the file system: parsing and checking model.json
// (checkpoint-manifest.ts), decoding a weight group's bytes, checking parameters against a model. checkpoint.ts reads directories
// with it in Node; the browser page reads the same files over HTTP with it.
// (The format itself is described in checkpoint.ts.)
import type { Program } from '../compiler/ir.js';
import { UserError } from '../errors.js';
import type { CheckpointMeta, ManifestGroup } from './checkpoint-manifest.js';
import { listParams, type HostArray, type ParamInfo } from './params.js';

export { CHECKPOINT_FORMAT, parseModelJson, type CheckpointMeta, type ManifestGroup, type ModelJson } from './checkpoint-manifest.js';
export const MODEL_JSON = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
export const OPTIMIZER_FILE = 'optimizer.bin';

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

/** Lines for a message: all of them up to 100, else the first 100 and a count. */
export function listLines(lines: string[], max = 100): string {
  return (lines.length > max ? [...lines.slice(0, max), `... and ${lines.length - max} more`] : lines).join('\n  ');
}

/** Every difference between the expected parameters and `found`, one line each.
 *  `allowMissing`: expected parameters `found` lacks are not differences. */
export function paramMismatches(expected: ParamInfo[], found: Map<string, { shape: number[] }>, allowMissing = false): string[] {
  const lines: string[] = [];
  const expectedNames = new Set(expected.map((p) => p.name));
  for (const { name, shape } of expected) {
    const actual = found.get(name);
    if (!actual) {
      if (!allowMissing) lines.push(`missing: ${name} ${formatShape(shape)}`);
    } else if (formatShape(actual.shape) !== formatShape(shape)) {
      lines.push(`wrong shape: ${name}: expected ${formatShape(shape)}, found ${formatShape(actual.shape)}`);
    }
  }
  for (const [name, { shape }] of found) if (!expectedNames.has(name)) lines.push(`unexpected: ${name} ${formatShape(shape)}`);
  return lines;
}

export function describeProgram(program: Program): string {
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
      listLines(mismatches),
  );
}
