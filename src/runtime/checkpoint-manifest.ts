// Checking a checkpoint's model.json before anything it names is opened or allocated:
// the structure (checkpoint.ts describes it), weight files that are plain names inside the
// checkpoint directory, shapes that are lists of non-negative integers within the tensor
// limit, unique names, float32 only, and meta values (`set` by the same rule as --set).
// Every problem is a UserError naming the file and the JSON path, e.g.
//   runs/x/checkpoints/step-0000010/model.json: weightsManifest[0].weights[3].shape[1]: -1 is not a non-negative integer
import { overrideProblem } from '../compiler/overrides.js';
import { LIMITS, elementCount } from '../compiler/limits.js';
import { UserError } from '../errors.js';

export const CHECKPOINT_FORMAT = 'netc-checkpoint';
/** A model.json lists a few hundred tensors: a few hundred kilobytes. */
export const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;
const MAX_DIMS = 8;

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

/** A file name with no directory part: what a weight file of a checkpoint may be called. */
export function isPlainFileName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(name);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => (typeof v === 'string' ? `'${v.slice(0, 64)}'` : JSON.stringify(v)?.slice(0, 64) ?? String(v));

/** Parses and checks model.json's text; throws a UserError `file: path: problem`. */
export function parseModelJson(text: string, file: string): ModelJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const fail = (at: string, problem: string): never => {
    throw new UserError(`${file}: ${at}: ${problem}`);
  };
  if (!isObject(json) || json.format !== CHECKPOINT_FORMAT) {
    throw new UserError(`${file}: not a netc checkpoint (format ${show(isObject(json) ? json.format : json)}, expected '${CHECKPOINT_FORMAT}')`);
  }
  const groups = json.weightsManifest;
  if (!Array.isArray(groups) || groups.length < 1 || groups.length > 2) fail('weightsManifest', 'expected a list of one or two groups (weights, optimizer)');
  const paths = new Set<string>();
  (groups as unknown[]).forEach((group, g) => {
    const at = `weightsManifest[${g}]`;
    if (!isObject(group)) return fail(at, 'expected an object with paths and weights');
    if (!Array.isArray(group.paths) || group.paths.length !== 1 || typeof group.paths[0] !== 'string') return fail(`${at}.paths`, 'expected a list of one file name');
    const name = group.paths[0];
    if (!isPlainFileName(name) || name === 'model.json') fail(`${at}.paths[0]`, `${show(name)} is not a plain file name inside the checkpoint directory`);
    if (paths.has(name)) fail(`${at}.paths[0]`, `${show(name)} is listed twice`);
    paths.add(name);
    if (!Array.isArray(group.weights)) return fail(`${at}.weights`, 'expected a list of tensors');
    const names = new Set<string>();
    group.weights.forEach((w: unknown, i: number) => {
      const wat = `${at}.weights[${i}]`;
      if (!isObject(w)) return fail(wat, 'expected an object with name, shape and dtype');
      if (typeof w.name !== 'string' || w.name.length === 0 || w.name.length > 1024) fail(`${wat}.name`, 'expected a tensor name');
      if (names.has(w.name as string)) fail(`${wat}.name`, `${show(w.name)} appears twice`);
      names.add(w.name as string);
      if (!Array.isArray(w.shape) || w.shape.length > MAX_DIMS) return fail(`${wat}.shape`, `expected a list of at most ${MAX_DIMS} sizes`);
      w.shape.forEach((s: unknown, d: number) => {
        if (!Number.isSafeInteger(s) || (s as number) < 0) fail(`${wat}.shape[${d}]`, `${show(s)} is not a non-negative integer`);
      });
      if (elementCount(w.shape as number[]) > LIMITS.tensorElements) fail(`${wat}.shape`, `[${(w.shape as number[]).join(', ')}] has more than ${LIMITS.tensorElements.toLocaleString('en-US')} elements`);
      if (w.dtype !== 'float32') fail(`${wat}.dtype`, `${show(w.dtype)}: only float32 is supported`);
    });
  });
  checkMeta(json.netc, fail);
  return json as unknown as ModelJson;
}

function checkMeta(meta: unknown, fail: (at: string, problem: string) => never): void {
  if (!isObject(meta)) fail('netc', 'expected the netc metadata object');
  const m = meta as Record<string, unknown>;
  for (const key of ['specFile', 'specHash', 'createdAt']) {
    if (typeof m[key] !== 'string') fail(`netc.${key}`, 'expected a string');
  }
  if (!Number.isSafeInteger(m.step) || (m.step as number) < 0) fail('netc.step', `${show(m.step)} is not a non-negative integer`);
  if (!isObject(m.set)) fail('netc.set', 'expected an object of NAME: VALUE');
  for (const [name, value] of Object.entries(m.set as Record<string, unknown>)) {
    const problem = overrideProblem(name, value);
    if (problem) fail(`netc.set.${name.slice(0, 64)}`, problem);
  }
  if (m.extra !== undefined && !isObject(m.extra)) fail('netc.extra', 'expected an object');
}

/** Bytes the group's file must hold exactly. */
export function groupBytes(group: ManifestGroup): number {
  return group.weights.reduce((n, w) => n + 4 * elementCount(w.shape), 0);
}
