// The language's built-in names and their signatures. Validation checks calls against
// these; elaboration binds arguments with `bindArguments`.
import type { Argument } from './ast.js';

export type ParamType = 'int' | 'number' | 'bool' | 'string' | 'any';

export interface BuiltinParam {
  name: string;
  type: ParamType;
  /** Absent: required. A function: computed from the arguments bound before it. */
  default?: unknown | ((bound: Record<string, unknown>) => unknown);
  /** Variadic: collects every remaining positional argument. */
  rest?: boolean;
}

export type BuiltinContext = 'layer' | 'function' | 'loss' | 'train';

export interface Builtin {
  name: string;
  context: BuiltinContext;
  params: BuiltinParam[];
  doc: string;
}

const b = (name: string, context: BuiltinContext, doc: string, params: BuiltinParam[] = []): Builtin => ({ name, context, params, doc });
const req = (name: string, type: ParamType): BuiltinParam => ({ name, type });
const opt = (name: string, type: ParamType, value: BuiltinParam['default']): BuiltinParam => ({ name, type, default: value });

export const BUILTINS: Record<string, Builtin> = Object.fromEntries(
  [
    // Layers: used as chain stages (`x -> conv(64, 5) -> relu`).
    b('conv', 'layer', '2-D convolution; pad defaults to kernel // 2 (PyTorch default_conv)', [
      req('filters', 'int'), req('kernel', 'int'), opt('stride', 'int', 1),
      opt('pad', 'int', (a: Record<string, unknown>) => Math.floor((a.kernel as number) / 2)), opt('bias', 'bool', true),
    ]),
    b('relu', 'layer', 'max(x, 0)'),
    b('leaky_relu', 'layer', 'x if x > 0 else slope * x', [opt('slope', 'number', 0.2)]),
    b('sigmoid', 'layer', '1 / (1 + exp(-x))'),
    b('pixel_shuffle', 'layer', 'sub-pixel upsampling: C*r*r channels -> C channels at r times the size (PyTorch order)', [opt('factor', 'int', 2)]),
    b('dense', 'layer', 'fully connected layer', [req('units', 'int'), opt('bias', 'bool', true)]),
    b('flatten', 'layer', 'HxWxC -> one vector (row-major, channels last)'),
    b('scale', 'layer', 'x * factor', [req('factor', 'number')]),
    b('shift', 'layer', 'x + offset', [req('offset', 'number')]),
    // Functions on tensors.
    b('concat', 'function', 'concatenate along channels', [{ name: 'values', type: 'any', rest: true }]),
    b('pyramid', 'function', 'Gaussian pyramid, finest first (skimage pyramid_gaussian, downscale 2)', [
      req('image', 'any'), req('levels', 'int'), opt('sigma', 'number', 2 / 3), opt('radius', 'int', 3),
    ]),
    // Loss terms.
    b('mse', 'loss', 'mean squared error over all elements', [req('output', 'any'), req('target', 'any')]),
    b('l1', 'loss', 'mean absolute error over all elements', [req('output', 'any'), req('target', 'any')]),
    b('gan', 'loss', 'adversarial loss, BCE on logits; D is trained on real vs fake, G to fool D', [
      req('discriminator', 'any'), req('real', 'any'), req('fake', 'any'),
    ]),
    // Training settings.
    b('adam', 'train', 'Adam optimizer', [req('lr', 'number'), opt('beta1', 'number', 0.9), opt('beta2', 'number', 0.999), opt('eps', 'number', 1e-8)]),
    b('constant', 'train', 'constant learning rate'),
    b('step', 'train', 'multiply the learning rate by factor at each iteration in at', [req('at', 'any'), req('factor', 'number')]),
    b('flip', 'train', 'random horizontal and vertical flips'),
    b('rot90', 'train', 'random 90-degree rotations'),
    b('permute_channels', 'train', 'random RGB channel permutation'),
    b('saturation', 'train', 'saturation x U[low, high] in HSV', [req('low', 'number'), req('high', 'number')]),
    b('noise', 'train', 'Gaussian noise on the blurry input', [req('sigma', 'any')]),
    b('normal', 'train', 'a normal distribution N(mean, std^2)', [req('mean', 'number'), req('std', 'number')]),
    b('gopro', 'train', 'a GOPRO-layout dataset root; blur_gamma = frames averaged in linear space (the paper, the official default)', [req('root', 'string'), opt('blur', 'string', 'blur_gamma')]),
  ].map((x) => [x.name, x]),
);

/** The names the `loss` section sees besides the generator's outputs. */
export const LOSS_NAMES = ['sharp'];
/** The input types a model may declare. */
export const INPUT_TYPES: Record<string, number> = { rgb: 3 };
/** Train settings and their meaning. */
export const TRAIN_SETTINGS: Record<string, string> = {
  optimizer: 'adam(...)',
  schedule: 'constant or step(at, factor)',
  augment: 'a list of augmentations',
  data: 'gopro("path")',
  checkpoint_every: 'steps between checkpoints',
  validate_every: 'steps between validations',
};
/** Top-level constants the trainer reads (so `--set patch=64` works in every model). */
export const TRAIN_CONSTANTS = ['patch', 'batch', 'iterations', 'lr'];

/** Checks argument names and count against a signature; returns problems with the argument
 *  (or call) they concern. Positional arguments fill parameters in order. */
export function checkArguments(params: BuiltinParam[], args: Argument[], what: string): { message: string; arg?: Argument }[] {
  const problems: { message: string; arg?: Argument }[] = [];
  const seen = new Set<string>();
  let position = 0;
  const rest = params.find((p) => p.rest);
  for (const arg of args) {
    if (arg.name) {
      const param = params.find((p) => p.name === arg.name!.name);
      if (!param) {
        const hint = suggest(arg.name.name, params.map((p) => p.name));
        problems.push({ message: `${what} has no argument '${arg.name.name}'${hint}`, arg });
        continue;
      }
      if (seen.has(param.name)) problems.push({ message: `${what}: argument '${param.name}' is given twice`, arg });
      seen.add(param.name);
    } else {
      if (rest) continue;
      if (position >= params.length) {
        problems.push({ message: `${what} takes at most ${params.length} argument${params.length === 1 ? '' : 's'}, got ${args.length}`, arg });
        break;
      }
      seen.add(params[position++].name);
    }
  }
  return problems;
}

export function missingArguments(params: BuiltinParam[], args: Argument[]): string[] {
  const named = new Set(args.filter((a) => a.name).map((a) => a.name!.name));
  const positional = args.filter((a) => !a.name).length;
  return params.filter((p, i) => p.default === undefined && !p.rest && i >= positional && !named.has(p.name)).map((p) => p.name);
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
