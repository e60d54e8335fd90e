// Import of PyTorch generator weights onto a compiled model: official DeepDeblur-PyTorch
// checkpoints (below), and the general layout that `netc export --to pytorch` defines for every
// other model (src/compiler/emit/torch-layout.ts: netc names with '/' as '.').
//
// The official state dict names convolutions by module path:
//   body_models.{s}.body.0                 first conv of scale s (s = 0 finest)
//   body_models.{s}.body.{1..B}.body.{0,2} the two convs of ResBlock b
//   body_models.{s}.body.{B+1}             last conv of scale s
//   conv_end_models.{s}.uppath.0           up-conv of scale s's output, feeding scale s-1
// Run coarse to fine, these convolutions form one chain; so do the generator's conv2d nodes
// in the IR (execution order, repeats expanded). The import pairs the two chains in order,
// so it relies on the model's structure, not on netc's parameter names. Weights go from
// OIHW to HWIO; the up-conv's output channel order is kept, because netc's pixel_shuffle
// uses PyTorch's PixelShuffle order.
import { fromTorchValues, torchLayout, type TorchParam } from '../compiler/emit/torch-layout.js';
import type { Program } from '../compiler/ir.js';
import { UserError } from '../errors.js';
import { type HostArray, listParams, walkNodes, weightAndBias } from './params.js';
import { readTorchCheckpoint, stateDict } from './torch/load.js';

/** What the mapping needs of a tensor: its shape (the data is read after the match). */
interface Shaped { shape: number[] }

interface OfficialConv<T extends Shaped> {
  prefix: string;
  weight?: T;
  bias?: T;
}

const BODY_KEY = /^body_models\.(\d+)\.body\.(\d+)(\.body\.(\d+))?\.(weight|bias)$/;
const UP_KEY = /^conv_end_models\.(\d+)\.uppath\.0\.(weight|bias)$/;

/** PyTorch OIHW -> tfjs HWIO (permute 2, 3, 1, 0). */
export function oihwToHwio({ shape, data }: HostArray): HostArray {
  const [o, i, h, w] = shape;
  const out = new Float32Array(data.length);
  for (let oo = 0; oo < o; oo++)
    for (let ii = 0; ii < i; ii++)
      for (let hh = 0; hh < h; hh++)
        for (let ww = 0; ww < w; ww++) out[((hh * w + ww) * i + ii) * o + oo] = data[((oo * i + ii) * h + hh) * w + ww];
  return { shape: [h, w, i, o], data: out };
}

interface OfficialStructure<T extends Shaped> {
  convs: OfficialConv<T>[];
  scales: number;
  blocks: number[];
  unexpected: string[];
}

/** The official convs in forward (coarse to fine) order, from the keys present. Indices
 *  are consecutive in a real state dict: one larger than the number of keys is an error
 *  (it would otherwise make these loops run for as long as the number says). */
function officialChain<T extends Shaped>(stateDict: Map<string, T>, file: string): OfficialStructure<T> {
  const unexpected: string[] = [];
  const lastBody = new Map<number, number>();
  for (const key of stateDict.keys()) {
    const body = BODY_KEY.exec(key);
    if (body && (Number(body[1]) >= stateDict.size || Number(body[2]) >= stateDict.size)) {
      throw new UserError(`${file}: key '${key}' has an index beyond the ${stateDict.size} tensors of the state dict; not a DeepDeblur generator`);
    }
    if (body) lastBody.set(Number(body[1]), Math.max(lastBody.get(Number(body[1])) ?? 0, Number(body[2])));
    else if (!UP_KEY.test(key)) unexpected.push(key);
  }
  const scales = lastBody.size === 0 ? 0 : Math.max(...lastBody.keys()) + 1;
  const blocks: number[] = [];
  const convs: OfficialConv<T>[] = [];
  const conv = (prefix: string) => convs.push({ prefix, weight: stateDict.get(`${prefix}.weight`), bias: stateDict.get(`${prefix}.bias`) });
  for (let s = scales - 1; s >= 0; s--) {
    const last = lastBody.get(s) ?? 0;
    blocks[s] = Math.max(0, last - 1);
    conv(`body_models.${s}.body.0`);
    for (let b = 1; b < last; b++) {
      conv(`body_models.${s}.body.${b}.body.0`);
      conv(`body_models.${s}.body.${b}.body.2`);
    }
    conv(`body_models.${s}.body.${last}`);
    if (s > 0) conv(`conv_end_models.${s}.uppath.0`);
  }
  return { convs, scales, blocks, unexpected };
}

const shapeText = (shape: number[]) => `[${shape.join(', ')}]`;
const oihwShapeToHwio = ([o, i, h, w]: number[]) => [h, w, i, o];

/** Where each parameter comes from: the state dict's key, its tensor, and whether it is an
 *  OIHW filter to transpose. */
export interface ImportSource<T extends Shaped> {
  key: string;
  tensor: T;
  oihw: boolean;
  /** General layout: the parameter's PyTorch layout (values are converted back with it). */
  general?: TorchParam;
}

/** Matches an official generator state dict with the program's generator parameters by
 *  structure and shape alone (no tensor data is needed, so none has been read yet).
 *  Throws one UserError listing every problem. */
export function planOfficialImport<T extends Shaped>(program: Program, stateDict: Map<string, T>, file: string): Map<string, ImportSource<T>> {
  const official = officialChain(stateDict, file);
  const graph = program.models[program.generator];
  const modelConvs = [...walkNodes(graph)].filter(({ node }) => node.op === 'conv2d');
  const problems: string[] = official.unexpected.slice(0, 50).map((key) => `unexpected key: ${key}`);
  if (official.unexpected.length > 50) problems.push(`... and ${official.unexpected.length - 50} more unexpected keys`);

  if (official.convs.length !== modelConvs.length) {
    const feats = stateDict.get('body_models.0.body.0.weight')?.shape[0];
    const kernel = stateDict.get('body_models.0.body.0.weight')?.shape[2];
    const blocks = [...new Set(official.blocks)].join('/');
    throw new UserError(
      `${file}: the checkpoint's generator (scales=${official.scales} blocks=${blocks}` +
        `${feats ? ` feats=${feats}` : ''}${kernel ? ` kernel=${kernel}` : ''}: ${official.convs.length} convolutions) ` +
        `does not fit ${program.file} (${modelConvs.length} convolutions); compile the model with matching --set values` +
        (problems.length ? `\n  ${problems.join('\n  ')}` : ''),
    );
  }

  const plan = new Map<string, ImportSource<T>>();
  official.convs.forEach((conv, index) => {
    const { node, scope } = modelConvs[index];
    const { weight, bias } = weightAndBias(node);
    const target = `${scope(weight.name)} (${node.scope})`;
    if (!conv.weight) problems.push(`missing key: ${conv.prefix}.weight (for ${target})`);
    else {
      const oihw = conv.weight.shape.length === 4;
      const hwio = oihw ? oihwShapeToHwio(conv.weight.shape) : conv.weight.shape;
      if (shapeText(hwio) !== shapeText(weight.shape)) {
        problems.push(`wrong shape: ${conv.prefix}.weight -> ${target}: model expects HWIO ${shapeText(weight.shape)}, checkpoint has HWIO ${shapeText(hwio)} (OIHW ${shapeText(conv.weight.shape)})`);
      } else plan.set(scope(weight.name), { key: `${conv.prefix}.weight`, tensor: conv.weight, oihw });
    }
    if (bias && !conv.bias) problems.push(`missing key: ${conv.prefix}.bias (for ${scope(bias.name)})`);
    else if (!bias && conv.bias) problems.push(`unexpected key: ${conv.prefix}.bias (the model's conv ${target} has no bias)`);
    else if (bias && conv.bias) {
      if (shapeText(conv.bias.shape) !== shapeText(bias.shape)) {
        problems.push(`wrong shape: ${conv.prefix}.bias -> ${scope(bias.name)}: expected ${shapeText(bias.shape)}, found ${shapeText(conv.bias.shape)}`);
      } else plan.set(scope(bias.name), { key: `${conv.prefix}.bias`, tensor: conv.bias, oihw: false });
    }
  });
  if (problems.length > 0) {
    throw new UserError(`${file}: cannot import into ${program.file}: ${problems.length} problem${problems.length > 1 ? 's' : ''}\n  ${problems.join('\n  ')}`);
  }
  return plan;
}

/** Plans the import of a state dict in the general layout (torch-layout.ts): every key of the
 *  model present with its PyTorch shape, no other key. One UserError lists every problem. */
export function planGeneralImport<T extends Shaped>(program: Program, stateDict: Map<string, T>, file: string): Map<string, ImportSource<T>> {
  const layout = torchLayout(program.models[program.generator]);
  const problems: string[] = [];
  const plan = new Map<string, ImportSource<T>>();
  const expected = new Set<string>();
  for (const p of layout.params) {
    expected.add(p.key);
    const tensor = stateDict.get(p.key);
    if (!tensor) problems.push(`missing key: ${p.key} (for ${p.name})`);
    else if (shapeText(tensor.shape) !== shapeText(p.torchShape)) {
      problems.push(`wrong shape: ${p.key}: the model expects ${shapeText(p.torchShape)}, the checkpoint has ${shapeText(tensor.shape)}`);
    } else plan.set(p.name, { key: p.key, tensor, oihw: false, general: p });
  }
  for (const key of stateDict.keys()) if (!expected.has(key)) problems.push(`unexpected key: ${key}`);
  if (problems.length > 0) {
    const set = Object.entries(program.overrides).map(([k, v]) => `${k}=${v}`).join(' ');
    const shown = problems.slice(0, 20).join('\n  ') + (problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : '');
    throw new UserError(`${file}: cannot import into ${program.file}${set ? ` (--set ${set})` : ''}: ${problems.length} problem${problems.length > 1 ? 's' : ''}\n  ${shown}`);
  }
  return plan;
}

/** Reads a PyTorch checkpoint (`{'G': state_dict, ...}` or a bare state dict) and maps its
 *  generator weights onto the program: the official DeepDeblur-PyTorch keys when it has them
 *  (body_models.*), else the general layout of `netc export --to pytorch`. Tensor data is read
 *  only once every name and shape matched, and at most twice the model's parameter bytes
 *  (plus 16 MiB) of storage. */
export async function importTorchCheckpoint(program: Program, file: string): Promise<{ params: Map<string, HostArray>; layout: 'deepdeblur' | 'general' }> {
  const paramBytes = listParams(program.models[program.generator]).reduce((n, p) => n + 4 * p.shape.reduce((a, b) => a * b, 1), 0);
  const checkpoint = await readTorchCheckpoint(file, { budget: 2 * paramBytes + 16 * 2 ** 20 });
  try {
    const dict = stateDict(checkpoint, 'G');
    const official = [...dict.keys()].some((key) => BODY_KEY.test(key));
    const plan = official ? planOfficialImport(program, dict, file) : planGeneralImport(program, dict, file);
    const params = new Map<string, HostArray>();
    for (const [name, { key, tensor, oihw, general }] of plan) {
      const array = await checkpoint.read(tensor, key);
      params.set(name, general ? { shape: general.shape, data: fromTorchValues(general, array.data) } : oihw ? oihwToHwio(array) : array);
    }
    return { params, layout: official ? 'deepdeblur' : 'general' };
  } finally {
    await checkpoint.close();
  }
}

/** An official checkpoint's generator weights (importTorchCheckpoint, official layout only). */
export async function importOfficialCheckpoint(program: Program, file: string): Promise<Map<string, HostArray>> {
  const { params, layout } = await importTorchCheckpoint(program, file);
  if (layout !== 'deepdeblur') throw new UserError(`${file}: not an official DeepDeblur-PyTorch checkpoint (no body_models.* keys)`);
  return params;
}
