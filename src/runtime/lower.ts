// One lowering function per IR op: IR node + input tensors + parameters -> tfjs ops.
// Everything here is differentiable (the trainer takes gradients through it); callers run
// each call inside tf.tidy, so temporaries are freed.
import type {
  AffineAttrs,
  AvgPoolAttrs,
  ConcatAttrs,
  Conv2dAttrs,
  LeakyReluAttrs,
  Node,
  PixelShuffleAttrs,
  PrimitiveOp,
  PyramidDownAttrs,
  UpsampleAttrs,
} from '../compiler/ir.js';
import { PYRAMID_FACTOR, gaussianTaps, halvesExactly, pyramidSide, upsampleTaps } from '../compiler/ops.js';
import { conv2dWithPostOps } from './conv.js';
import { weightAndBias } from './params.js';
import { tf } from './tf.js';

/** Looks up a parameter of the node by its ParamSpec name (relative to the current scope). */
export type ParamLookup = (relativeName: string) => tf.Tensor;

type Lowering = (node: Node, args: tf.Tensor[], param: ParamLookup) => tf.Tensor;

/** activation(conv + bias + residual): one native call on the oneDNN backend; composed from
 *  tfjs ops (fused conv + bias, add, activation) elsewhere. */
function conv2d(node: Node, args: tf.Tensor[], param: ParamLookup): tf.Tensor {
  const attrs = node.attrs as unknown as Conv2dAttrs;
  const { weight, bias } = weightAndBias(node);
  return conv2dWithPostOps(args[0] as tf.Tensor4D, param(weight.name) as tf.Tensor4D, {
    strides: attrs.stride,
    pad: attrs.pad,
    bias: bias ? param(bias.name) : undefined,
    residual: attrs.residual !== undefined ? args[args.length - 1] : undefined,
    activation: attrs.activation,
    alpha: attrs.alpha,
  });
}

/** PyTorch PixelShuffle order in NHWC: input channel c*r*r + dy*r + dx goes to output pixel
 *  (r*y + dy, r*x + dx), channel c. reshape + transpose (tf.depthToSpace has no gradient and
 *  uses another channel order). */
export function pixelShuffle(x: tf.Tensor, factor: number): tf.Tensor {
  const [n, h, w, c] = x.shape;
  const channels = c / (factor * factor);
  return tf
    .reshape(x, [n, h, w, channels, factor, factor])
    .transpose([0, 1, 4, 2, 5, 3])
    .reshape([n, h * factor, w * factor, channels]);
}

/** Index of scipy.ndimage mode 'reflect' (d c b a | a b c d | d c b a, repeating). */
function reflectIndex(i: number, n: number): number {
  const period = 2 * n;
  const k = ((i % period) + period) % period;
  return k < n ? k : period - 1 - k;
}

/** Pads `radius` samples on both sides of `axis` with scipy's 'reflect' rule (any size). */
function padReflect(x: tf.Tensor, axis: number, radius: number): tf.Tensor {
  const n = x.shape[axis];
  const indices = Array.from({ length: n + 2 * radius }, (_, i) => reflectIndex(i - radius, n));
  return tf.gather(x, tf.tensor1d(indices, 'int32'), axis);
}

/** A [kh, kw, c, c] filter applying `taps` to each channel on its own: a depthwise filter as
 *  a dense one, because the dense convolution is the fast kernel on every backend (tfjs's CPU
 *  depthwise convolution took a third of a small model's training step on the pyramid). */
function perChannelFilter(taps: Float32Array, shape: [number, number], c: number): tf.Tensor4D {
  const data = new Float32Array(taps.length * c * c);
  for (let t = 0; t < taps.length; t++) for (let ch = 0; ch < c; ch++) data[(t * c + ch) * c + ch] = taps[t];
  return tf.tensor4d(data, [...shape, c, c]);
}

/** skimage pyramid_reduce(downscale=2): separable Gaussian blur with scipy 'reflect' borders,
 *  then the 2x2 mean where the sides halve exactly (all that a graph's pyramid_down sees,
 *  ops.ts), else skimage's bilinear resize at pixel centres to ops.ts's pyramidSide. Where the
 *  sides halve, the mean folds into the blur: along each axis one stride-2 pass of the taps
 *  g * [1/2, 1/2] (output o = (b[2o] + b[2o+1]) / 2 with b the blurred samples). */
export function pyramidDown(x: tf.Tensor, sigma: number, radius: number): tf.Tensor {
  const [, h, w, c] = x.shape;
  const gauss = gaussianTaps(sigma, radius);
  const halves = halvesExactly(h) && halvesExactly(w);
  const taps = halves
    ? Float32Array.from({ length: gauss.length + 1 }, (_, k) => ((gauss[k] ?? 0) + (gauss[k - 1] ?? 0)) / PYRAMID_FACTOR)
    : Float32Array.from(gauss);
  const stride = halves ? PYRAMID_FACTOR : 1;
  let y = padReflect(x, 1, radius) as tf.Tensor4D;
  y = tf.conv2d(y, perChannelFilter(taps, [taps.length, 1], c), [stride, 1], 'valid');
  y = padReflect(y, 2, radius) as tf.Tensor4D;
  y = tf.conv2d(y, perChannelFilter(taps, [1, taps.length], c), [1, stride], 'valid');
  if (halves) return y;
  return tf.image.resizeBilinear(y, [pyramidSide(h), pyramidSide(w)], false, true);
}

/** A linear map along one axis: output o = sum over terms of weight[o] * input[index[o]]. */
interface AxisMap {
  terms: { index: number[]; weight: number[] }[];
  inputSize: number;
}

function applyAxisMap(x: tf.Tensor, axis: number, map: AxisMap): tf.Tensor {
  const along = (values: number[]) => tf.tensor(values, x.shape.map((d, i) => (i === axis ? values.length : 1)));
  let y: tf.Tensor | undefined;
  for (const { index, weight } of map.terms) {
    const gathered = tf.gather(x, tf.tensor1d(index, 'int32'), axis);
    const term = weight.every((w) => w === 1) ? gathered : tf.mul(gathered, along(weight));
    y = y ? tf.add(y, term) : term;
  }
  return y!;
}

/** The transpose of a map (what its gradient is), again as a few gathers: each input
 *  collects the outputs that read it. (tfjs differentiates a gather with
 *  unsortedSegmentSum, whose CPU kernel costs outputs x inputs: a 128x128 training step of
 *  a U-Net with bilinear upsampling took 40x longer than with pixel_shuffle.) */
function transposeAxisMap(map: AxisMap): AxisMap {
  const outputs = map.terms[0].index.length;
  const readers: [number, number][][] = Array.from({ length: map.inputSize }, () => []);
  for (const { index, weight } of map.terms) index.forEach((i, o) => void (weight[o] !== 0 && readers[i].push([o, weight[o]])));
  const k = Math.max(1, ...readers.map((r) => r.length));
  // Missing readers point at output 0 with weight 0.
  const terms = Array.from({ length: k }, (_, j) => ({ index: readers.map((r) => r[j]?.[0] ?? 0), weight: readers.map((r) => r[j]?.[1] ?? 0) }));
  return { terms, inputSize: outputs };
}

/** `map` along `axis`, differentiated by its transpose. WebGL keeps tfjs's own gradient:
 *  its unsortedSegmentSum is not slow on the GPU, and there the transposed gathers read
 *  wrong rows of some uploaded tensors (tfjs-backend-webgl 4.x; ops-parity.test.ts). */
function alongAxis(x: tf.Tensor, axis: number, map: AxisMap): tf.Tensor {
  if (tf.getBackend() === 'webgl') return applyAxisMap(x, axis, map);
  // The transpose is built only when a gradient is asked for (not for inference).
  const op = tf.customGrad((input) => ({
    value: applyAxisMap(input as tf.Tensor, axis, map),
    gradFunc: (dy) => applyAxisMap(dy as tf.Tensor, axis, transposeAxisMap(map)),
  }));
  return op(x);
}

/** Upsampling by an integer factor as ops.ts's upsampleTaps define it: a gather along each
 *  axis (nearest), or a blend of two gathered neighbours (bilinear). Exact and
 *  differentiable on every backend (tfjs's resizeBilinear gradient ignores half-pixel
 *  centres, and resizeNearestNeighbor computes its source pixels in floating point). */
export function upsample(x: tf.Tensor, factor: number, mode: UpsampleAttrs['mode']): tf.Tensor {
  let y = x;
  for (const axis of [1, 2]) {
    const taps = upsampleTaps(y.shape[axis], factor, mode);
    const terms = mode === 'nearest'
      ? [{ index: taps.lower, weight: taps.lower.map(() => 1) }]
      : [{ index: taps.lower, weight: taps.weight.map((w) => 1 - w) }, { index: taps.upper, weight: taps.weight }];
    y = alongAxis(y, axis, { terms, inputSize: y.shape[axis] });
  }
  return y;
}

function dense(node: Node, args: tf.Tensor[], param: ParamLookup): tf.Tensor {
  const { weight, bias } = weightAndBias(node);
  // Weight layout [in_features, units] (x @ W), the transpose of PyTorch's Linear.weight.
  const y = tf.matMul(args[0] as tf.Tensor2D, param(weight.name) as tf.Tensor2D);
  return bias ? tf.add(y, param(bias.name)) : y;
}

const lowerings: Record<PrimitiveOp, Lowering> = {
  conv2d,
  dense,
  relu: (_node, [x]) => tf.relu(x),
  leaky_relu: (node, [x]) => tf.leakyRelu(x, (node.attrs as unknown as LeakyReluAttrs).alpha),
  sigmoid: (_node, [x]) => tf.sigmoid(x),
  add: (_node, args) => args.slice(1).reduce((sum, x) => tf.add(sum, x), args[0]),
  concat: (node, args) => tf.concat(args, (node.attrs as unknown as ConcatAttrs).axis),
  pixel_shuffle: (node, [x]) => pixelShuffle(x, (node.attrs as unknown as PixelShuffleAttrs).factor),
  pyramid_down: (node, [x]) => {
    const { sigma, radius } = node.attrs as unknown as PyramidDownAttrs;
    return pyramidDown(x, sigma, radius);
  },
  upsample: (node, [x]) => {
    const { factor, mode } = node.attrs as unknown as UpsampleAttrs;
    return upsample(x, factor, mode);
  },
  avg_pool: (node, [x]) => {
    const { kernel, stride } = node.attrs as unknown as AvgPoolAttrs;
    return tf.avgPool(x as tf.Tensor4D, kernel, stride, 'valid');
  },
  flatten: (_node, [x]) => tf.reshape(x, [x.shape[0], -1]),
  affine: (node, [x]) => {
    const { scale, shift } = node.attrs as unknown as AffineAttrs;
    return tf.add(tf.mul(x, scale), shift);
  },
};

/** Lowers one node (not `repeat`, which the executor handles). */
export function lowerNode(node: Node, args: tf.Tensor[], param: ParamLookup): tf.Tensor {
  if (node.op === 'repeat') throw new Error(`lowerNode: '${node.op}' is handled by the executor`);
  return lowerings[node.op](node, args, param);
}
