// One definition per op: its output shape, its parameters, its cost, and how it moves the
// receptive field. Shape inference, the cost model, the lowering and the exporters all read
// this table; nothing else knows an op's rules. Below it, the rules more than one stage
// needs: the pyramid's size rule, a conv's output size, the Gaussian taps, upsampling's
// sample positions and the size multiple `netc deblur` pads to.
import type {
  AvgPoolAttrs, ConcatAttrs, Conv2dAttrs, DenseAttrs, Graph, OpName, ParamSpec, PixelShuffleAttrs, PyramidDownAttrs, Shape, UpsampleAttrs,
} from './ir.js';

export interface OpDef {
  /** Output shape, or a message saying why the inputs do not fit. */
  shape(inputs: Shape[], attrs: never): Shape | string;
  /** Parameter names relative to the op (e.g. 'weight'), shapes and init. */
  params(inputs: Shape[], attrs: never): ParamSpec[];
  /** FLOPs = 2 x multiply-adds for convs and dense layers; elementwise ops count 0. */
  flops(inputs: Shape[], output: Shape, attrs: never): number;
  /** Receptive-field transfer: an output pixel sees `kernel` input pixels spaced by the
   *  input's jump; the output's jump is the input's times `stride` (0.5 for upsampling). */
  field(attrs: never): { kernel: number; stride: number };
}

const same = (inputs: Shape[]) => inputs[0];
const noParams = () => [];
const free = () => 0;
const pointwise = () => ({ kernel: 1, stride: 1 });

/** Why a value is not an image (NHWC), or undefined when it is. */
const notAnImage = (x: Shape) => (x.length === 4 ? undefined : `expects an image (HxWxC) but got a ${x.length - 1}-d value`);

const fmt = (s: Shape) => (s.length === 4 ? `${s[1]}x${s[2]}x${s[3]}` : `${s.slice(1).join('x')}`);

/** A convolution's (or pooling window's) output side: PyTorch's and oneDNN's floor rule,
 *  with the dilated kernel's extent (kernel - 1) * dilation + 1. */
export function convOutputSize(size: number, kernel: number, stride: number, padBefore: number, padAfter: number, dilation = 1): number {
  return Math.floor((size + padBefore + padAfter - ((kernel - 1) * dilation + 1)) / stride) + 1;
}

// The pyramid's size rule. skimage's pyramid_reduce(downscale=2) makes a level ceil(side / 2)
// pixels; netc's graphs accept only sides it halves exactly, so every level is the 2x2 mean
// of its blurred parent and its pixels line up with the parent's (what the exporters' 2x2
// average pools and the loss's sharp pyramid rely on).
export const PYRAMID_FACTOR = 2;

/** skimage's side of the next pyramid level (exact only where halvesExactly). */
export function pyramidSide(side: number): number {
  return Math.ceil(side / PYRAMID_FACTOR);
}

export function halvesExactly(side: number): boolean {
  return side % PYRAMID_FACTOR === 0;
}

/** The side of level `level` of a pyramid over `side` pixels under the exact rule (a
 *  fraction where the input does not halve that often). */
export function pyramidLevelSide(side: number, level: number): number {
  return side / PYRAMID_FACTOR ** level;
}

/** What an image's sides must be divisible by for a pyramid of `levels` levels. */
export function pyramidMultiple(levels: number): number {
  return PYRAMID_FACTOR ** (levels - 1);
}

const conv2d: OpDef = {
  shape([x, residual], a: Conv2dAttrs) {
    const problem = notAnImage(x);
    if (problem) return problem;
    const h = convOutputSize(x[1], a.kernel[0], a.stride[0], a.pad[0], a.pad[1]);
    const w = convOutputSize(x[2], a.kernel[1], a.stride[1], a.pad[2], a.pad[3]);
    if (h < 1 || w < 1) return `kernel ${a.kernel[0]} (pad ${a.pad[0]}) does not fit a ${x[1]}x${x[2]} input`;
    const out = [x[0], h, w, a.filters];
    if (residual && fmt(residual) !== fmt(out)) return `residual ${fmt(residual)} does not match conv output ${fmt(out)}`;
    return out;
  },
  params([x], a: Conv2dAttrs) {
    const fanIn = a.kernel[0] * a.kernel[1] * x[3];
    const kind = (random: ParamSpec['init']['kind']) => (a.zeroInit ? 'zeros' : random);
    const weight: ParamSpec = { name: 'weight', shape: [a.kernel[0], a.kernel[1], x[3], a.filters], init: { kind: kind('kaiming_uniform'), fanIn } };
    return a.bias ? [weight, { name: 'bias', shape: [a.filters], init: { kind: kind('bias_uniform'), fanIn } }] : [weight];
  },
  flops([x], out, a: Conv2dAttrs) {
    return 2 * out[1] * out[2] * a.filters * a.kernel[0] * a.kernel[1] * x[3];
  },
  field: (a: Conv2dAttrs) => ({ kernel: Math.max(a.kernel[0], a.kernel[1]), stride: a.stride[0] }),
};

const dense: OpDef = {
  shape([x], a: DenseAttrs) {
    if (x.length !== 2) return `expects a flat vector, got ${fmt(x)}; put 'flatten' before it`;
    return [x[0], a.units];
  },
  params([x], a: DenseAttrs) {
    const fanIn = x[1];
    const weight: ParamSpec = { name: 'weight', shape: [x[1], a.units], init: { kind: 'kaiming_uniform', fanIn } };
    return a.bias ? [weight, { name: 'bias', shape: [a.units], init: { kind: 'bias_uniform', fanIn } }] : [weight];
  },
  flops: ([x], _out, a: DenseAttrs) => 2 * x[1] * a.units,
  field: () => ({ kernel: Infinity, stride: 1 }),
};

const elementwiseSameShape = (inputs: Shape[]) => {
  const [a, b] = inputs;
  if (fmt(a) !== fmt(b)) return `needs equal shapes, got ${fmt(a)} and ${fmt(b)}`;
  return a;
};

export const OPS: Record<OpName, OpDef> = {
  conv2d,
  relu: { shape: same, params: noParams, flops: free, field: pointwise },
  leaky_relu: { shape: same, params: noParams, flops: free, field: pointwise },
  sigmoid: { shape: same, params: noParams, flops: free, field: pointwise },
  affine: { shape: same, params: noParams, flops: free, field: pointwise },
  add: { shape: elementwiseSameShape, params: noParams, flops: free, field: pointwise },
  concat: {
    shape(inputs: Shape[], _a: ConcatAttrs) {
      const [first] = inputs;
      for (const s of inputs.slice(1)) {
        if (s.length !== 4 || s[1] !== first[1] || s[2] !== first[2]) {
          return `needs equal spatial sizes, got ${inputs.map((x) => `${x[1]}x${x[2]}`).join(' and ')}`;
        }
      }
      return [first[0], first[1], first[2], inputs.reduce((c, s) => c + s[3], 0)];
    },
    params: noParams, flops: free, field: pointwise,
  },
  pixel_shuffle: {
    shape([x], a: PixelShuffleAttrs) {
      const r2 = a.factor * a.factor;
      if (x[3] % r2 !== 0) return `factor ${a.factor} needs channels divisible by ${r2}, got ${x[3]}`;
      return [x[0], x[1] * a.factor, x[2] * a.factor, x[3] / r2];
    },
    params: noParams, flops: free,
    field: (a: PixelShuffleAttrs) => ({ kernel: 1, stride: 1 / a.factor }),
  },
  pyramid_down: {
    shape([x], _a: PyramidDownAttrs) {
      if (!halvesExactly(x[1]) || !halvesExactly(x[2])) return `cannot halve ${x[1]}x${x[2]} exactly`;
      return [x[0], pyramidSide(x[1]), pyramidSide(x[2]), x[3]];
    },
    params: noParams, flops: free,
    // Gaussian taps (2 * radius + 1) then a 2x2 mean.
    field: (a: PyramidDownAttrs) => ({ kernel: 2 * a.radius + PYRAMID_FACTOR, stride: PYRAMID_FACTOR }),
  },
  upsample: {
    shape([x], a: UpsampleAttrs) {
      return notAnImage(x) ?? [x[0], x[1] * a.factor, x[2] * a.factor, x[3]];
    },
    params: noParams, flops: free,
    // bilinear reads the two nearest input pixels along each axis.
    field: (a: UpsampleAttrs) => ({ kernel: a.mode === 'bilinear' ? 2 : 1, stride: 1 / a.factor }),
  },
  avg_pool: {
    shape([x], a: AvgPoolAttrs) {
      const problem = notAnImage(x);
      if (problem) return problem;
      const h = convOutputSize(x[1], a.kernel, a.stride, 0, 0);
      const w = convOutputSize(x[2], a.kernel, a.stride, 0, 0);
      if (h < 1 || w < 1) return `window ${a.kernel} does not fit a ${x[1]}x${x[2]} input`;
      return [x[0], h, w, x[3]];
    },
    params: noParams, flops: free,
    field: (a: AvgPoolAttrs) => ({ kernel: a.kernel, stride: a.stride }),
  },
  flatten: { shape: ([x]) => [x[0], x.slice(1).reduce((p, d) => p * d, 1)], params: noParams, flops: free, field: pointwise },
  dense,
  repeat: { shape: same, params: noParams, flops: free, field: pointwise }, // the cost model walks the body
};

export function opDef(op: OpName): OpDef {
  return OPS[op];
}

/** The normalized Gaussian weights of pyramid_down (skimage pyramid_gaussian): 2 * radius + 1 taps. */
export function gaussianTaps(sigma: number, radius: number): number[] {
  const taps = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = taps.reduce((a, b) => a + b, 0);
  return taps.map((t) => t / sum);
}

/** Where output pixel i of an upsampling by an integer `factor` reads an axis of `size`
 *  input pixels: y[i] = x[lower[i]] * (1 - weight[i]) + x[upper[i]] * weight[i]. nearest:
 *  input floor(i / factor). bilinear: PyTorch's align_corners=False (source position
 *  (i + 0.5) / factor - 0.5, clamped at 0; the upper neighbour clamped at the last pixel). */
export function upsampleTaps(size: number, factor: number, mode: UpsampleAttrs['mode']): { lower: number[]; upper: number[]; weight: number[] } {
  const taps = { lower: [] as number[], upper: [] as number[], weight: [] as number[] };
  for (let i = 0; i < size * factor; i++) {
    const source = mode === 'nearest' ? Math.floor(i / factor) : Math.max(0, (i + 0.5) / factor - 0.5);
    const lower = Math.floor(source);
    taps.lower.push(lower);
    taps.upper.push(Math.min(lower + 1, size - 1));
    taps.weight.push(source - lower);
  }
  return taps;
}

/** What the input's sides must be divisible by: the largest downsampling factor along any
 *  path (the product of the ops' field strides: pyramid levels, strided convs; upsampling
 *  divides), so every op sees whole pixels. */
export function sizeMultiple(graph: Graph): number {
  const factor = new Map<string, number>(graph.inputs.map((input) => [input.id, 1]));
  let largest = 1;
  for (const node of graph.nodes) {
    let f = Math.max(1, ...node.inputs.map((id) => factor.get(id) ?? 1));
    f *= node.op === 'repeat' ? sizeMultiple(node.repeat!.body) : OPS[node.op].field(node.attrs as never).stride;
    factor.set(node.id, f);
    largest = Math.max(largest, f);
  }
  return Math.ceil(largest);
}
