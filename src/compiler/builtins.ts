// The language's built-in names: each one's signature, and for layers the op and attributes
// it adds to the graph (ops.ts has the op's rules). Validation checks calls against the
// signatures; elaboration binds arguments with the same matching (matchArguments) and
// evaluates the other built-ins from its table (elaborate/calls.ts, a Record over
// FunctionName, so a built-in without an evaluation is a type error).
import type { Argument, Declaration } from './ast.js';
import type { OpName } from './ir.js';

export type ParamType = 'int' | 'number' | 'bool' | 'string' | 'any' | 'choice';

export interface BuiltinParam {
  name: string;
  type: ParamType;
  /** Absent: required. A function: computed from the arguments bound before it. */
  default?: unknown | ((bound: Record<string, unknown>) => unknown);
  /** Variadic: collects every remaining positional argument. */
  rest?: boolean;
  /** type 'choice': the bare built-in names it accepts (bound as the name). */
  choices?: string[];
}

export type BuiltinContext = 'layer' | 'function' | 'loss' | 'train' | 'choice';

export interface Builtin {
  name: string;
  context: BuiltinContext;
  params: BuiltinParam[];
  doc: string;
}

/** The graph node a layer adds: its op and attributes, or what is wrong with the arguments
 *  (said after the layer's name: `conv: 'kernel' must be at least 1, got 0`). */
export type LayerNode = { op: OpName; attrs: Record<string, unknown> } | string;

export interface LayerBuiltin extends Builtin {
  context: 'layer';
  node(args: Record<string, unknown>): LayerNode;
}

type Signature = Omit<Builtin, 'name'>;
const req = (name: string, type: ParamType): BuiltinParam => ({ name, type });
const opt = (name: string, type: ParamType, value: BuiltinParam['default']): BuiltinParam => ({ name, type, default: value });
const layer = (doc: string, params: BuiltinParam[], node: LayerBuiltin['node']): Omit<LayerBuiltin, 'name'> => ({ context: 'layer', doc, params, node });
const fn = (context: BuiltinContext, doc: string, params: BuiltinParam[] = []): Signature => ({ context, doc, params });

/** The first of `keys` whose argument is below `min`, said as a problem. */
function atLeast(args: Record<string, unknown>, min: number, ...keys: string[]): string | undefined {
  const key = keys.find((k) => !((args[k] as number) >= min));
  return key === undefined ? undefined : `'${key}' must be at least ${min}, got ${args[key]}`;
}

/** Layers: used as chain stages (`x -> conv(64, 5) -> relu`). */
const LAYERS = {
  conv: layer('2-D convolution; pad defaults to kernel // 2 (PyTorch default_conv); init = zeros starts it at 0', [
    req('filters', 'int'), req('kernel', 'int'), opt('stride', 'int', 1),
    opt('pad', 'int', (a: Record<string, unknown>) => Math.floor((a.kernel as number) / 2)), opt('bias', 'bool', true),
    { name: 'init', type: 'choice', default: 'kaiming', choices: ['kaiming', 'zeros'] },
  ], (a) => {
    const k = a.kernel as number, s = a.stride as number, p = a.pad as number;
    return atLeast(a, 1, 'filters', 'kernel', 'stride') ?? atLeast(a, 0, 'pad') ?? {
      op: 'conv2d',
      attrs: { filters: a.filters, kernel: [k, k], stride: [s, s], pad: [p, p, p, p], bias: a.bias, ...(a.init === 'zeros' ? { zeroInit: true } : {}) },
    };
  }),
  relu: layer('max(x, 0)', [], () => ({ op: 'relu', attrs: {} })),
  leaky_relu: layer('x if x > 0 else slope * x', [opt('slope', 'number', 0.2)], (a) => ({ op: 'leaky_relu', attrs: { alpha: a.slope } })),
  sigmoid: layer('1 / (1 + exp(-x))', [], () => ({ op: 'sigmoid', attrs: {} })),
  pixel_shuffle: layer('sub-pixel upsampling: C*r*r channels -> C channels at r times the size (PyTorch order)', [opt('factor', 'int', 2)],
    (a) => atLeast(a, 1, 'factor') ?? { op: 'pixel_shuffle', attrs: { factor: a.factor } }),
  dense: layer('fully connected layer', [req('units', 'int'), opt('bias', 'bool', true)],
    (a) => atLeast(a, 1, 'units') ?? { op: 'dense', attrs: { units: a.units, bias: a.bias } }),
  flatten: layer('HxWxC -> one vector (row-major, channels last)', [], () => ({ op: 'flatten', attrs: {} })),
  upsample: layer('each side times factor: nearest (pixel repeated) or bilinear (PyTorch align_corners=False)', [
    req('factor', 'int'), { name: 'mode', type: 'choice', default: 'nearest', choices: ['nearest', 'bilinear'] },
  ], (a) => atLeast(a, 1, 'factor') ?? { op: 'upsample', attrs: { factor: a.factor, mode: a.mode } }),
  avg_pool: layer('mean of each kernel x kernel window, stride apart, no padding (PyTorch avg_pool2d)', [
    req('kernel', 'int'), opt('stride', 'int', (a: Record<string, unknown>) => a.kernel),
  ], (a) => atLeast(a, 1, 'kernel', 'stride') ?? { op: 'avg_pool', attrs: { kernel: a.kernel, stride: a.stride } }),
  scale: layer('x * factor', [req('factor', 'number')], (a) => ({ op: 'affine', attrs: { scale: a.factor, shift: 0 } })),
  shift: layer('x + offset', [req('offset', 'number')], (a) => ({ op: 'affine', attrs: { scale: 1, shift: a.offset } })),
} satisfies Record<string, Omit<LayerBuiltin, 'name'>>;

/** Everything else: functions on tensors, loss terms, training settings, and the bare names
 *  a 'choice' parameter accepts. */
const FUNCTIONS = {
  concat: fn('function', 'concatenate along channels', [{ name: 'values', type: 'any', rest: true }]),
  pyramid: fn('function', 'Gaussian pyramid, finest first (skimage pyramid_gaussian, downscale 2)', [
    req('image', 'any'), req('levels', 'int'), opt('sigma', 'number', 2 / 3), opt('radius', 'int', 3),
  ]),
  mse: fn('loss', 'mean squared error over all elements', [req('output', 'any'), req('target', 'any')]),
  l1: fn('loss', 'mean absolute error over all elements', [req('output', 'any'), req('target', 'any')]),
  gan: fn('loss', 'adversarial loss, BCE on logits; D is trained on real vs fake, G to fool D', [
    req('discriminator', 'any'), req('real', 'any'), req('fake', 'any'),
  ]),
  adam: fn('train', 'Adam optimizer', [req('lr', 'number'), opt('beta1', 'number', 0.9), opt('beta2', 'number', 0.999), opt('eps', 'number', 1e-8)]),
  constant: fn('train', 'constant learning rate'),
  step: fn('train', 'multiply the learning rate by factor at each iteration in at', [req('at', 'any'), req('factor', 'number')]),
  cosine: fn('train', 'anneal the learning rate from lr to min along a half cosine over the iterations (torch CosineAnnealingLR), then hold min', [opt('min', 'number', 0)]),
  ema: fn('train', 'keep an exponential moving average of the weights, avg = decay * avg + (1 - decay) * w after each update; checkpoints, validation, deblur and export use it', [req('decay', 'number')]),
  flip: fn('train', 'random horizontal and vertical flips'),
  rot90: fn('train', 'random 90-degree rotations'),
  permute_channels: fn('train', 'random RGB channel permutation'),
  saturation: fn('train', 'saturation x U[low, high] in HSV', [req('low', 'number'), req('high', 'number')]),
  noise: fn('train', 'Gaussian noise on the blurry input', [req('sigma', 'any')]),
  shake: fn('train', 'make each blurry crop anew from its sharp crop: a fresh random camera-shake kernel (path length min..max px) in linear light with sensor noise, as netc synth --kernels (the stored blurry images are not used)', [opt('min', 'number', 3), opt('max', 'number', 16)]),
  normal: fn('train', 'a normal distribution N(mean, std^2)', [req('mean', 'number'), req('std', 'number')]),
  nearest: fn('choice', "upsample's mode: each pixel repeated"),
  kaiming: fn('choice', "conv's init: PyTorch's default for Conv2d (weights kaiming_uniform(a = sqrt(5)), bias uniform), the default"),
  zeros: fn('choice', "conv's init: weights and bias 0, e.g. the last conv of a residual branch, so that a new block starts as the identity"),
  bilinear: fn('choice', "upsample's mode: bilinear interpolation, PyTorch align_corners=False"),
  gopro: fn('train', 'a GOPRO-layout dataset root; blur_gamma = frames averaged in linear space (the paper, the official default)', [req('root', 'string'), opt('blur', 'string', 'blur_gamma')]),
} satisfies Record<string, Signature>;

export type LayerName = keyof typeof LAYERS;
export type FunctionName = keyof typeof FUNCTIONS;

const named = <T extends object>(table: Record<string, T>) => Object.fromEntries(Object.entries(table).map(([name, entry]) => [name, { name, ...entry }]));

export const LAYER_BUILTINS: Record<LayerName, LayerBuiltin> = named(LAYERS) as Record<LayerName, LayerBuiltin>;
export const BUILTINS: Record<string, Builtin> = { ...LAYER_BUILTINS, ...named(FUNCTIONS) };

export function isLayer(name: string): name is LayerName {
  return name in LAYER_BUILTINS;
}

/** A block's parameters as a signature (any type; a default makes one optional). */
export function blockSignature(block: Extract<Declaration, { kind: 'block' }>): BuiltinParam[] {
  return block.params.map((p) => ({ name: p.name.name, type: 'any', default: p.default ? true : undefined }));
}

/** The reductions over pyramid levels: `mean(k in 0..K) ...`, `sum(...)`. */
export const REDUCTIONS = ['mean', 'sum'] as const;

/** The names the `loss` section sees besides the generator's outputs. */
export const LOSS_NAMES = ['sharp'];
/** The input types a model may declare. */
export const INPUT_TYPES: Record<string, number> = { rgb: 3 };
/** Train settings: their meaning, and whether they take a list (`augment: flip, rot90`)
 *  rather than one value. */
export const TRAIN_SETTINGS: Record<string, { meaning: string; list?: true }> = {
  optimizer: { meaning: 'adam(...)' },
  schedule: { meaning: 'constant, step(at, factor) or cosine(min)' },
  average: { meaning: 'ema(decay): the weights that are evaluated and shipped' },
  augment: { meaning: 'a list of augmentations', list: true },
  data: { meaning: 'gopro("path")' },
  checkpoint_every: { meaning: 'steps between checkpoints' },
  validate_every: { meaning: 'steps between validations' },
};
/** Top-level constants the trainer reads (so `--set patch=64` works in every model). */
export const TRAIN_CONSTANTS = ['patch', 'batch', 'iterations', 'lr'];

export interface ArgumentMatch {
  /** Each argument, in order, with the parameter it fills (undefined: it fills none). */
  pairs: { arg: Argument; param?: BuiltinParam }[];
  /** What is wrong with the call, with the argument concerned where there is one. */
  problems: { message: string; arg?: Argument }[];
  /** Required parameters no argument fills. */
  missing: string[];
}

/** The one rule pairing a call's arguments with a signature (validation reports its
 *  problems, elaboration binds its pairs): positional arguments fill the parameters in
 *  order, or all go to the variadic parameter when there is one; named ones fill theirs. */
export function matchArguments(params: BuiltinParam[], args: Argument[], what: string): ArgumentMatch {
  const match: ArgumentMatch = { pairs: [], problems: [], missing: [] };
  const seen = new Set<string>();
  let position = 0;
  let tooMany = false;
  const rest = params.find((p) => p.rest);
  for (const arg of args) {
    // After too many arguments, the rest of the call is not looked at (one message).
    let param: BuiltinParam | undefined;
    if (tooMany) {
      param = undefined;
    } else if (arg.name) {
      param = params.find((p) => p.name === arg.name!.name);
      if (!param) match.problems.push({ message: `${what} has no argument '${arg.name.name}'${suggest(arg.name.name, params.map((p) => p.name))}`, arg });
      else if (seen.has(param.name)) match.problems.push({ message: `${what}: argument '${param.name}' is given twice`, arg });
      if (param) seen.add(param.name);
    } else if (rest) {
      param = rest;
    } else if (position < params.length) {
      param = params[position++];
      seen.add(param.name);
    } else {
      tooMany = true;
      match.problems.push({ message: `${what} takes at most ${params.length} argument${params.length === 1 ? '' : 's'}, got ${args.length}`, arg });
    }
    match.pairs.push({ arg, param });
  }
  const named = new Set(args.filter((a) => a.name).map((a) => a.name!.name));
  const positional = args.filter((a) => !a.name).length;
  match.missing = params.filter((p, i) => p.default === undefined && !p.rest && i >= positional && !named.has(p.name)).map((p) => p.name);
  return match;
}

/** ", did you mean 'kernel'?" when a known name is one or two edits away. */
export function suggest(name: string, known: Iterable<string>): string {
  let best: string | undefined;
  // Short names need a closer match: 'x' is not a typo of 'G'.
  let bestDistance = Math.min(name.length <= 3 ? 2 : 3, name.length);
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestDistance && k !== name) {
      best = k;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}
