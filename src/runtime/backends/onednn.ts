// The 'onednn' tfjs backend: tfjs-backend-cpu with its convolutions (and the elementwise
// kernels that dominate a training step) run by a native addon on oneDNN (native/).
// Every kernel registered for 'cpu' is registered for 'onednn' too, then the hot ones are
// replaced; gradients are registered per kernel name, so autodiff works unchanged.
// Shapes or options the addon does not handle fall back to the plain CPU kernel.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tfjsCpu from '@tensorflow/tfjs-backend-cpu';
import type { BackendValues, DataId, DataType, GradConfig, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { stridedCopyInto, stridesOf } from '../strided.js';
import { BufferPool } from './buffer-pool.js';
import { applyActivation, useNativeConv, type ConvPostOps } from '../conv.js';
import { tf } from '../tf.js';
import { convOutputSize } from '../../compiler/ops.js';

const require = createRequire(import.meta.url);

/** The tfjs backend name (`--backend cpu` activates it when the addon loads). */
export const ONEDNN_BACKEND = 'onednn';

/** Where node-gyp puts the addon, relative to the package root. */
const ADDON_PATH = join('native', 'build', 'Release', 'netc_onednn.node');

/** Activation codes of the addon's convForward. */
const enum Act {
  None = 0,
  Relu = 1,
  LeakyRelu = 2,
}

interface OneDnnAddon {
  info(): OneDnnInfo;
  /** Frees cached primitives and scratch buffers. */
  release(): void;
  convForward(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    residual: Float32Array | null,
    y: Float32Array,
    geometry: number[],
    activation: Act,
    alpha: number,
  ): void;
  convBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, geometry: number[]): void;
  convBackwardWeights(x: Float32Array, dy: Float32Array, dw: Float32Array, db: Float32Array | null, geometry: number[]): void;
  /** dx = y > 0 ? dy : alpha * dy (the gradient of relu / leaky relu(alpha >= 0) from its output). */
  activationGrad(dy: Float32Array, y: Float32Array, dx: Float32Array, alpha: number): void;
  /** out = a op b with NumPy broadcasting. */
  binary(op: Binary, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], out: Float32Array, outShape: number[]): void;
  unary(op: Unary, x: Float32Array, out: Float32Array, alpha: number): void;
  /** out = scale * sum of x over the axes marked in `reduced`. */
  reduceSum(x: Float32Array, shape: number[], reduced: boolean[], out: Float32Array, scale: number): void;
  /** One Adam update into pOut, mOut, vOut (see NETC_ADAM). */
  adam(
    p: Float32Array,
    m: Float32Array,
    v: Float32Array,
    g: Float32Array,
    pOut: Float32Array,
    mOut: Float32Array,
    vOut: Float32Array,
    hyper: [number, number, number, number, number, number, number],
  ): void;
}

const enum Binary {
  Add = 0,
  Sub = 1,
  Mul = 2,
  Div = 3,
}

const enum Unary {
  Relu = 0,
  Step = 1,
  Square = 2,
  Sqrt = 3,
}

export interface OneDnnInfo {
  /** oneDNN library version. */
  version: string;
  /** OpenMP threads oneDNN runs on. */
  threads: number;
  /** Cached conv primitives. */
  cachedPlans: number;
  /** Native conv executions since load (forward, backward-data, backward-weights). */
  convCalls: number;
}

export type RegisterResult = { ok: true } | { ok: false; reason: string };

let addon: OneDnnAddon | undefined;
let registration: RegisterResult | undefined;
let backendInstance: RecyclingCpuBackend | undefined;

/** Finds the addon from this module's folder upwards (works from src/ and from dist/). */
function findAddon(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, ADDON_PATH);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function loadAddon(): OneDnnAddon {
  const path = findAddon();
  if (!path) throw new Error(`native addon not built (${ADDON_PATH} missing; run 'npm run setup')`);
  // OpenMP threads that spin between parallel regions compete with the JavaScript thread and
  // anything else on a small machine (2x slower convs measured under load, no gain when
  // idle). libgomp reads this when oneDNN loads it, i.e. on the require below.
  process.env.OMP_WAIT_POLICY ??= 'passive';
  const loaded = require(path) as OneDnnAddon;
  loaded.info(); // fails here, not in the first kernel, if oneDNN itself cannot start
  return loaded;
}

/** Version and thread count of the loaded addon, or undefined when it is not loaded. */
export function oneDnnInfo(): OneDnnInfo | undefined {
  return addon?.info();
}

/** Frees the addon's cached primitives and scratch buffers (they grow to the largest conv
 *  seen, e.g. ~0.5 GB after a 64-channel 1280x720 conv); later calls rebuild them. */
export function releaseOneDnnMemory(): void {
  addon?.release();
  backendInstance?.pool.clear();
}

// ------------------------------------------------------------------ kernel helpers

type CpuBackend = tfjsCpu.MathBackendCPU;
type RecyclingCpuBackend = CpuBackend & { readonly pool: BufferPool };

/** Free output buffers kept for reuse at most (a 1280x720x64 activation is 236 MB). */
const POOL_MAX_FREE_BYTES = 1 << 30;

/** tfjs-backend-cpu whose data store tells the pool when a tensor views, hands out or stops
 *  viewing a buffer (the hooks buffer-pool.ts needs). */
function recyclingBackendClass(Base: typeof tfjsCpu.MathBackendCPU) {
  return class RecyclingBackend extends Base {
    readonly pool = new BufferPool(POOL_MAX_FREE_BYTES);
    override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
      const dataId = super.write(values, shape, dtype);
      this.pool.adopt(values);
      return dataId;
    }
    override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
      super.move(dataId, values, shape, dtype, refCount);
      this.pool.adopt(values);
    }
    override disposeData(dataId: DataId, force = false): boolean {
      const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
      const disposed = super.disposeData(dataId, force);
      if (values !== undefined && !this.data.has(dataId)) this.pool.release(values);
      return disposed;
    }
    override readSync(dataId: DataId): BackendValues {
      if (this.data.has(dataId)) this.pool.escape(this.data.get(dataId).values);
      return super.readSync(dataId);
    }
    override dispose(): void {
      this.pool.clear();
      super.dispose();
    }
  };
}

/** The Float32Array behind a tensor, or undefined when it is not plain float32 data. */
function floats(backend: CpuBackend, t: TensorInfo): Float32Array | undefined {
  if (t.dtype !== 'float32') return undefined;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : undefined;
}

/** A Float32Array for a kernel's result, recycled (buffer-pool.ts) and not zero-filled:
 *  every kernel here writes all of its output, and zeroing costs about as much as an
 *  elementwise op. */
function outputArray(backend: CpuBackend, length: number): Float32Array {
  return (backend as RecyclingCpuBackend).pool.take(length);
}

function output(backend: CpuBackend, shape: number[], values: Float32Array): TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', values);
}

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** The addon's geometry: [N, H, W, C, KH, KW, OC, OH, OW, SH, SW, DH, DW, top, bottom, left, right]. */
function geometryOf(info: Conv2DInfo): number[] {
  const { top, bottom, left, right } = info.padInfo;
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    top,
    bottom,
    left,
    right,
  ];
}

function supportedGeometry(info: Conv2DInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return (
    info.dataFormat === 'channelsLast' &&
    info.inChannels === info.filterShape[2] && // not depthwise
    Math.min(top, bottom, left, right) >= 0 &&
    info.outHeight >= 1 &&
    info.outWidth >= 1 &&
    info.outHeight === convOutputSize(info.inHeight, info.filterHeight, info.strideHeight, top, bottom, info.dilationHeight) &&
    info.outWidth === convOutputSize(info.inWidth, info.filterWidth, info.strideWidth, left, right, info.dilationWidth)
  );
}

type ConvAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | number[][];
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/** conv info for the addon, or undefined when the plain kernel must run. */
function convInfo(
  inShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
): Conv2DInfo | undefined {
  const info = tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad as Parameters<typeof tf.backend_util.computeConv2DInfo>[4],
    attrs.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
  return supportedGeometry(info) ? info : undefined;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Wraps an addon kernel so that it runs the plain CPU kernel when it returns undefined. */
function withFallback(kernelName: string, fast: (args: Parameters<KernelFunc>[0]) => TensorInfo | TensorInfo[] | undefined): KernelFunc {
  const plain = tf.getKernel(kernelName, 'cpu');
  if (!plain) throw new Error(`tfjs-backend-cpu has no '${kernelName}' kernel`);
  return (args) => fast(args) ?? plain.kernelFunc(args);
}

// ------------------------------------------------------------------ convolution kernels

function conv2d(args: Parameters<KernelFunc>[0]): TensorInfo | undefined {
  const backend = args.backend as CpuBackend;
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const info = convInfo(x.shape, filter.shape, args.attrs as unknown as ConvAttrs);
  const xValues = floats(backend, x);
  const wValues = floats(backend, filter);
  if (!info || !xValues || !wValues) return undefined;
  const y = outputArray(backend, size(info.outShape));
  addon!.convForward(xValues, wValues, null, null, y, geometryOf(info), Act.None, 0);
  return output(backend, info.outShape, y);
}

function fusedConv2d(args: Parameters<KernelFunc>[0]): TensorInfo | undefined {
  const backend = args.backend as CpuBackend;
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as ConvAttrs & { activation: string; leakyreluAlpha?: number };
  if (preluActivationWeights) return undefined;
  const activation =
    attrs.activation === 'linear'
      ? Act.None
      : attrs.activation === 'relu'
        ? Act.Relu
        : attrs.activation === 'leakyrelu' && attrs.leakyreluAlpha !== undefined
          ? Act.LeakyRelu
          : undefined;
  if (activation === undefined) return undefined;
  const info = convInfo(x!.shape, filter!.shape, attrs);
  const xValues = floats(backend, x!);
  const wValues = floats(backend, filter!);
  if (!info || !xValues || !wValues) return undefined;
  let biasValues: Float32Array | null = null;
  if (bias) {
    // Per-channel bias only ([OC], or [1, .., OC]); other broadcasts use the plain kernel.
    const perChannel = size(bias.shape) === info.outChannels && bias.shape[bias.shape.length - 1] === info.outChannels;
    biasValues = perChannel ? (floats(backend, bias) ?? null) : null;
    if (!biasValues) return undefined;
  }
  const y = outputArray(backend, size(info.outShape));
  addon!.convForward(xValues, wValues, biasValues, null, y, geometryOf(info), activation, attrs.leakyreluAlpha ?? 0);
  return output(backend, info.outShape, y);
}

function conv2dBackpropInput(args: Parameters<KernelFunc>[0]): TensorInfo | undefined {
  const backend = args.backend as CpuBackend;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const info = convInfo(attrs.inputShape, filter.shape, { ...attrs, dilations: 1 });
  const dyValues = floats(backend, dy);
  const wValues = floats(backend, filter);
  if (!info || !dyValues || !wValues) return undefined;
  const dx = outputArray(backend, size(attrs.inputShape));
  addon!.convBackwardData(dyValues, wValues, dx, geometryOf(info));
  return output(backend, attrs.inputShape, dx);
}

function conv2dBackpropFilter(args: Parameters<KernelFunc>[0]): TensorInfo | undefined {
  const backend = args.backend as CpuBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const info = convInfo(x.shape, attrs.filterShape, { ...attrs, dilations: 1 });
  const xValues = floats(backend, x);
  const dyValues = floats(backend, dy);
  if (!info || !xValues || !dyValues) return undefined;
  const dw = outputArray(backend, size(attrs.filterShape));
  addon!.convBackwardWeights(xValues, dyValues, dw, null, geometryOf(info));
  return output(backend, attrs.filterShape, dw);
}

// ------------------------------------------------------------------ elementwise kernels

function binaryKernel(op: Binary) {
  return (args: Parameters<KernelFunc>[0]): TensorInfo | undefined => {
    const backend = args.backend as CpuBackend;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const aValues = floats(backend, a);
    const bValues = floats(backend, b);
    if (!aValues || !bValues) return undefined;
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = outputArray(backend, size(shape));
    addon!.binary(op, aValues, a.shape, bValues, b.shape, out, shape);
    return output(backend, shape, out);
  };
}

function unaryKernel(op: Unary) {
  return (args: Parameters<KernelFunc>[0]): TensorInfo | undefined => {
    const backend = args.backend as CpuBackend;
    const { x } = args.inputs as { x: TensorInfo };
    const values = floats(backend, x);
    if (!values) return undefined;
    const out = outputArray(backend, values.length);
    addon!.unary(op, values, out, (args.attrs?.alpha as number | undefined) ?? 0);
    return output(backend, x.shape, out);
  };
}

/** Sum (mean = true: Mean) over attrs.axis, as the tfjs kernels. */
function reduceKernel(mean: boolean) {
  return (args: Parameters<KernelFunc>[0]): TensorInfo | undefined => {
    const backend = args.backend as CpuBackend;
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const values = floats(backend, x);
    if (!values) return undefined;
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const reduced = x.shape.map((_, i) => axes.includes(i));
    const outShape = keepDims ? x.shape.map((d, i) => (reduced[i] ? 1 : d)) : x.shape.filter((_, i) => !reduced[i]);
    const count = size(x.shape.filter((_, i) => reduced[i]));
    const out = outputArray(backend, size(outShape));
    addon!.reduceSum(values, x.shape, reduced, out, mean ? 1 / count : 1);
    return output(backend, outShape, out);
  };
}

// ------------------------------------------------------------------ slicing

/** stridedCopy into a new output array (see strided.ts). */
function stridedCopy(backend: CpuBackend, values: Float32Array, outShape: number[], strides: number[], offset: number): Float32Array {
  return stridedCopyInto(outputArray(backend, size(outShape)), values, outShape, strides, offset);
}

function sliceValues(backend: CpuBackend, values: Float32Array, shape: number[], begin: number[], sliceSize: number[]): Float32Array {
  const strides = stridesOf(shape);
  return stridedCopy(backend, values, sliceSize, strides, begin.reduce((offset, b, axis) => offset + b * strides[axis], 0));
}

function transpose(args: Parameters<KernelFunc>[0]): TensorInfo | undefined {
  const backend = args.backend as CpuBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { perm } = args.attrs as unknown as { perm: number[] };
  const values = floats(backend, x);
  if (!values) return undefined;
  const strides = stridesOf(x.shape);
  const outShape = perm.map((axis) => x.shape[axis]);
  return output(backend, outShape, stridedCopy(backend, values, outShape, perm.map((axis) => strides[axis]), 0));
}

/** tf.concat of float32 tensors: each input's block copied per outer index. */
function concat(args: Parameters<KernelFunc>[0]): TensorInfo | undefined {
  const backend = args.backend as CpuBackend;
  const inputs = args.inputs as unknown as TensorInfo[];
  const { axis } = args.attrs as unknown as { axis: number };
  const parts = inputs.map((t) => floats(backend, t));
  if (inputs.length === 0 || parts.some((values) => !values)) return undefined;
  const $axis = tf.util.parseAxisParam(axis, inputs[0].shape)[0];
  const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), $axis);
  const outer = size(outShape.slice(0, $axis));
  const blocks = inputs.map((t) => size(t.shape.slice($axis)));
  const width = blocks.reduce((a, b) => a + b, 0);
  const out = outputArray(backend, outer * width);
  let column = 0;
  parts.forEach((values, k) => {
    const block = blocks[k];
    for (let o = 0; o < outer; o++) {
      const to = o * width + column;
      if (block > 64) out.set(values!.subarray(o * block, (o + 1) * block), to);
      else for (let i = 0; i < block; i++) out[to + i] = values![o * block + i];
    }
    column += block;
  });
  return output(backend, outShape, out);
}

/** tf.gather along one axis (batchDims 0): whole slices copied per index (the reflect
 *  padding of the Gaussian pyramid). Out-of-range indices go to the plain kernel's error. */
function gather(args: Parameters<KernelFunc>[0]): TensorInfo | undefined {
  const backend = args.backend as CpuBackend;
  const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
  const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims?: number };
  const values = floats(backend, x);
  const picks = backend.data.get(indices.dataId).values;
  if (!values || (batchDims ?? 0) !== 0 || !(picks instanceof Int32Array)) return undefined;
  const $axis = tf.util.parseAxisParam(axis, x.shape)[0];
  const axisSize = x.shape[$axis];
  if (picks.some((i) => i < 0 || i >= axisSize)) return undefined;
  const outer = size(x.shape.slice(0, $axis));
  const inner = size(x.shape.slice($axis + 1));
  const out = outputArray(backend, outer * picks.length * inner);
  let to = 0;
  for (let o = 0; o < outer; o++) {
    for (const pick of picks) {
      const from = (o * axisSize + pick) * inner;
      if (inner > 64) out.set(values.subarray(from, from + inner), to);
      else for (let i = 0; i < inner; i++) out[to + i] = values[from + i];
      to += inner;
    }
  }
  return output(backend, [...x.shape.slice(0, $axis), ...indices.shape, ...x.shape.slice($axis + 1)], out);
}

function slice(args: Parameters<KernelFunc>[0]): TensorInfo | undefined {
  const backend = args.backend as CpuBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { begin, size: sizes } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  const values = floats(backend, x);
  if (!values) return undefined;
  const [$begin, $size] = tf.backend_util.slice_util.parseSliceParams(x as tf.Tensor, begin, sizes);
  tf.backend_util.slice_util.assertParamsValid(x as tf.Tensor, $begin, $size);
  return output(backend, $size, sliceValues(backend, values, x.shape, $begin, $size));
}

function splitV(args: Parameters<KernelFunc>[0]): TensorInfo[] | undefined {
  const backend = args.backend as CpuBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  const values = floats(backend, x);
  if (!values) return undefined;
  const $axis = tf.util.parseAxisParam(axis, x.shape)[0];
  const splits = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, $axis);
  const begin = x.shape.map(() => 0);
  return splits.map((length) => {
    const sliceSize = [...x.shape];
    sliceSize[$axis] = length;
    const part = output(backend, sliceSize, sliceValues(backend, values, x.shape, begin, sliceSize));
    begin[$axis] += length;
    return part;
  });
}

// ------------------------------------------------------------------ Adam

/** One Adam update of a parameter as a single native pass (a dozen tfjs ops otherwise):
 *  inputs p, m, v, g; outputs [p', m', v']; attrs in AdamStepAttrs. */
export const NETC_ADAM = 'NetcAdam';

export interface AdamStepAttrs {
  beta1: number;
  beta2: number;
  eps: number;
  /** lr / (1 - beta1^t) */
  stepSize: number;
  /** sqrt(1 - beta2^t) */
  sqrtCorrection2: number;
}

function netcAdam(args: Parameters<KernelFunc>[0]): TensorInfo[] {
  const backend = args.backend as CpuBackend;
  const { p, m, v, g } = args.inputs as Record<string, TensorInfo>;
  const { beta1, beta2, eps, stepSize, sqrtCorrection2 } = args.attrs as unknown as AdamStepAttrs;
  const [pOut, mOut, vOut] = [0, 1, 2].map(() => outputArray(backend, size(p.shape)));
  addon!.adam(floats(backend, p)!, floats(backend, m)!, floats(backend, v)!, floats(backend, g)!, pOut, mOut, vOut, [
    beta1,
    1 - beta1,
    beta2,
    1 - beta2,
    sqrtCorrection2,
    eps,
    stepSize,
  ]);
  return [pOut, mOut, vOut].map((values) => output(backend, p.shape, values));
}

/** Whether NETC_ADAM can run on these tensors now. */
export function nativeAdamAvailable(tensors: tf.Tensor[]): boolean {
  return addon !== undefined && tf.getBackend() === ONEDNN_BACKEND && tensors.every((t) => t.dtype === 'float32');
}

// ------------------------------------------------- conv + bias + residual + activation

// tfjs's FusedConv2D has no residual input, and while recording gradients tf.fused.conv2d
// splits relu off (and cannot differentiate leaky relu at all). NetcConv2D is conv + bias +
// residual + relu/leaky relu in one native call; its gradient (registered below) computes
// each input's gradient only when backprop asks for it.
const NETC_CONV = 'NetcConv2D';
const NETC_ACTIVATION_GRAD = 'NetcActivationGrad';
interface NetcConvAttrs {
  geometry: number[];
  activation: Act;
  alpha: number;
}

function netcConv2d(args: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = args.backend as CpuBackend;
  const { x, filter, bias, residual } = args.inputs as Record<string, TensorInfo | undefined>;
  const { geometry, activation, alpha } = args.attrs as unknown as NetcConvAttrs;
  const [n, , , , , , oc, oh, ow] = geometry;
  const y = outputArray(backend, n * oh * ow * oc);
  const values = (t: TensorInfo | undefined) => (t ? floats(backend, t)! : null);
  addon!.convForward(values(x)!, values(filter)!, values(bias), values(residual), y, geometry, activation, alpha);
  return output(backend, [n, oh, ow, oc], y);
}

/** dy * activation'(pre-activation), from the activation's output y. */
function netcActivationGrad(args: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = args.backend as CpuBackend;
  const { dy, y } = args.inputs as { dy: TensorInfo; y: TensorInfo };
  const dx = outputArray(backend, size(dy.shape));
  addon!.activationGrad(floats(backend, dy)!, floats(backend, y)!, dx, args.attrs!.alpha as number);
  return output(backend, dy.shape, dx);
}

const netcConv2dGradient: GradConfig = {
  kernelName: NETC_CONV,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dyOrList, saved, attrs) => {
    const dy = dyOrList as tf.Tensor; // one output
    const [x, filter, y] = saved;
    const { geometry, activation, alpha } = attrs as unknown as NetcConvAttrs;
    const [, , , , , , , , , sh, sw, , , top, bottom, left, right] = geometry;
    const convAttrs = {
      strides: [sh, sw],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
    };
    // Created here, in backprop's scope, so that every input's gradient can use it.
    const dPre =
      activation === Act.None
        ? dy
        : (tf.engine().runKernel(NETC_ACTIVATION_GRAD, { dy, y }, { alpha: activation === Act.LeakyRelu ? alpha : 0 }) as tf.Tensor);
    const run = (kernel: string, inputs: Record<string, tf.Tensor>, extra: object) =>
      tf.engine().runKernel(kernel, inputs, { ...convAttrs, ...extra } as unknown as NamedAttrMap) as tf.Tensor;
    // Backprop asks for the filter's and the bias's gradient separately, each inside its own
    // tidy; one native call computes both (the bias gradient then costs almost nothing instead
    // of another pass over dy), and the one not asked for yet waits as a plain array.
    const shapes = { filter: filter.shape, bias: filter.shape.slice(3) }; // HWIO; [O]
    let pending: { filter?: Float32Array; bias?: Float32Array } | undefined;
    const weightGrad = (which: 'filter' | 'bias') => {
      if (!pending) {
        const backend = tf.backend() as CpuBackend;
        pending = { filter: outputArray(backend, size(shapes.filter)), bias: outputArray(backend, size(shapes.bias)) };
        addon!.convBackwardWeights(floats(backend, x)!, floats(backend, dPre)!, pending.filter!, pending.bias!, geometry);
      }
      const values = pending[which]!;
      pending[which] = undefined;
      return tf.tensor(values, shapes[which], 'float32');
    };
    return {
      x: () => run('Conv2DBackpropInput', { dy: dPre, filter }, { inputShape: x.shape }),
      filter: () => weightGrad('filter'),
      bias: () => weightGrad('bias'),
      residual: () => dPre.clone(),
    };
  },
};

/** activation(conv2d(x, filter) + bias + residual) as one native call forward (NetcConv2D)
 *  on the 'onednn' backend; undefined elsewhere, and conv.ts composes it from tfjs ops. */
function nativeConv2dWithPostOps(x: tf.Tensor4D, filter: tf.Tensor4D, options: ConvPostOps): tf.Tensor4D | undefined {
  const { strides, pad, bias, residual, activation } = options;
  const alpha = options.alpha ?? 0.01;
  const [n, h, w] = x.shape;
  const [kh, kw, , oc] = filter.shape;
  const [top, bottom, left, right] = pad;
  const oh = convOutputSize(h, kh, strides[0], top, bottom);
  const ow = convOutputSize(w, kw, strides[1], left, right);
  const fused = activation === 'relu' ? Act.Relu : activation === 'leaky_relu' && alpha >= 0 ? Act.LeakyRelu : Act.None;
  const fast =
    addon !== undefined &&
    tf.getBackend() === ONEDNN_BACKEND &&
    [x, filter, bias, residual].every((t) => t === undefined || t.dtype === 'float32') &&
    filter.shape[2] === x.shape[3] &&
    (bias === undefined || bias.size === oc) &&
    oh >= 1 &&
    ow >= 1 &&
    Math.min(...pad) >= 0;
  if (!fast) return undefined;
  const attrs: NetcConvAttrs = {
    geometry: [n, h, w, x.shape[3], kh, kw, oc, oh, ow, strides[0], strides[1], 1, 1, top, bottom, left, right],
    activation: fused,
    alpha,
  };
  const inputs: Record<string, tf.Tensor> = { x, filter };
  if (bias) inputs.bias = bias.reshape([oc]);
  if (residual) inputs.residual = residual;
  const y = tf.engine().runKernel(NETC_CONV, inputs, attrs as unknown as NamedAttrMap) as tf.Tensor4D;
  // sigmoid (and leaky relu with a negative slope) is not fused: the gradient from the
  // output alone needs a monotonic activation with a sign-preserving output.
  return fused === Act.None ? applyActivation(y, activation, alpha) : y;
}

// ------------------------------------------------------------------ registration

/** Registers the 'onednn' backend (idempotent). When the addon is missing or fails to load,
 *  registers nothing and says why; callers then use the plain 'cpu' backend. */
export function registerOneDnnBackend(): RegisterResult {
  if (registration) return registration;
  try {
    addon = loadAddon();
  } catch (err) {
    registration = { ok: false, reason: `oneDNN addon unavailable: ${(err as Error).message}` };
    return registration;
  }
  useNativeConv(nativeConv2dWithPostOps);
  // Another copy of this module (src/ and dist/ in one process) may have registered it.
  if (!tf.findBackendFactory(ONEDNN_BACKEND)) {
    const { MathBackendCPU } = require('@tensorflow/tfjs-backend-cpu') as typeof tfjsCpu;
    // Priority 0: never chosen implicitly; netc activates it by name.
    const RecyclingBackend = recyclingBackendClass(MathBackendCPU);
    tf.registerBackend(ONEDNN_BACKEND, () => (backendInstance = new RecyclingBackend()), 0);
    const overrides = new Map<string, KernelFunc>([
      ['Conv2D', withFallback('Conv2D', conv2d)],
      ['FusedConv2D', withFallback('FusedConv2D', fusedConv2d)],
      ['Conv2DBackpropInput', withFallback('Conv2DBackpropInput', conv2dBackpropInput)],
      ['Conv2DBackpropFilter', withFallback('Conv2DBackpropFilter', conv2dBackpropFilter)],
      ['Add', withFallback('Add', binaryKernel(Binary.Add))],
      ['Sub', withFallback('Sub', binaryKernel(Binary.Sub))],
      ['Multiply', withFallback('Multiply', binaryKernel(Binary.Mul))],
      ['RealDiv', withFallback('RealDiv', binaryKernel(Binary.Div))],
      ['Relu', withFallback('Relu', unaryKernel(Unary.Relu))],
      ['Step', withFallback('Step', unaryKernel(Unary.Step))],
      ['Square', withFallback('Square', unaryKernel(Unary.Square))],
      ['Sqrt', withFallback('Sqrt', unaryKernel(Unary.Sqrt))],
      ['Sum', withFallback('Sum', reduceKernel(false))],
      ['Mean', withFallback('Mean', reduceKernel(true))],
      ['Slice', withFallback('Slice', slice)],
      ['SplitV', withFallback('SplitV', splitV)],
      ['Transpose', withFallback('Transpose', transpose)],
      ['GatherV2', withFallback('GatherV2', gather)],
      ['Concat', withFallback('Concat', concat)],
    ]);
    for (const config of tf.getKernelsForBackend('cpu')) {
      const kernelFunc = overrides.get(config.kernelName) ?? config.kernelFunc;
      tf.registerKernel({ ...config, backendName: ONEDNN_BACKEND, kernelFunc } satisfies KernelConfig);
    }
    tf.registerKernel({ kernelName: NETC_CONV, backendName: ONEDNN_BACKEND, kernelFunc: netcConv2d as KernelFunc });
    tf.registerKernel({ kernelName: NETC_ADAM, backendName: ONEDNN_BACKEND, kernelFunc: netcAdam as KernelFunc });
    tf.registerKernel({ kernelName: NETC_ACTIVATION_GRAD, backendName: ONEDNN_BACKEND, kernelFunc: netcActivationGrad as KernelFunc });
    tf.registerGradient(netcConv2dGradient);
  }
  registration = { ok: true };
  return registration;
}
