// oneDNN backend kernels that move data (Transpose, Concat, GatherV2, Slice, SplitV) into
// recycled outputs (the concat gradient alone took 90 ms per call through tfjs-backend-cpu's
// generic kernels): concats and slices along one axis as row copies in the addon (a
// 1280x720 channel concat: ~0.2 s as a JavaScript loop over runs of 16 floats), transposes
// and other slices as one strided pass in the addon, gathers in JavaScript.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { stridedCopyInto, stridesOf } from '../strided.js';
import { tf } from '../tf.js';
import { nativeAddon } from './onednn-addon.js';
import { floats, output, outputArray, size, type CpuBackend, type KernelArgs } from './onednn-backend.js';

/** A strided view of `values` (see strided.ts) copied into a new output array: by the addon,
 *  threaded (pixel_shuffle's transpose of a 1280x720 forward: ~0.13 s in JavaScript); rank 0
 *  and ranks above the addon's 8 in JavaScript. */
function stridedCopy(backend: CpuBackend, values: Float32Array, outShape: number[], strides: number[], offset: number): Float32Array {
  const out = outputArray(backend, size(outShape));
  if (outShape.length === 0 || outShape.length > 8) return stridedCopyInto(out, values, outShape, strides, offset);
  nativeAddon().stridedCopy(values, out, outShape, strides, offset);
  return out;
}

function sliceValues(backend: CpuBackend, values: Float32Array, shape: number[], begin: number[], sliceSize: number[]): Float32Array {
  const partial = shape.flatMap((extent, axis) => (sliceSize[axis] === extent ? [] : [axis]));
  if (partial.length === 1) {
    // Along one axis: rows (its outer index) of sliceSize[axis] * inner contiguous floats.
    const axis = partial[0];
    const inner = size(shape.slice(axis + 1));
    const count = sliceSize[axis] * inner;
    const out = outputArray(backend, size(sliceSize));
    nativeAddon().copyRows(values, out, [size(shape.slice(0, axis)), count, begin[axis] * inner, shape[axis] * inner, 0, count]);
    return out;
  }
  const strides = stridesOf(shape);
  return stridedCopy(backend, values, sliceSize, strides, begin.reduce((offset, b, axis) => offset + b * strides[axis], 0));
}

export function transpose(args: KernelArgs): TensorInfo | undefined {
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
export function concat(args: KernelArgs): TensorInfo | undefined {
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
    nativeAddon().copyRows(values!, out, [outer, blocks[k], 0, blocks[k], column, width]);
    column += blocks[k];
  });
  return output(backend, outShape, out);
}

/** tf.gather along one axis (batchDims 0): whole slices copied per index, natively (the
 *  reflect padding of the Gaussian pyramid). Out-of-range indices go to the plain kernel's error. */
export function gather(args: KernelArgs): TensorInfo | undefined {
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
  nativeAddon().gather(values, out, picks, outer, axisSize, inner);
  return output(backend, [...x.shape.slice(0, $axis), ...indices.shape, ...x.shape.slice($axis + 1)], out);
}

export function slice(args: KernelArgs): TensorInfo | undefined {
  const backend = args.backend as CpuBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { begin, size: sizes } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  const values = floats(backend, x);
  if (!values) return undefined;
  const [$begin, $size] = tf.backend_util.slice_util.parseSliceParams(x as tf.Tensor, begin, sizes);
  tf.backend_util.slice_util.assertParamsValid(x as tf.Tensor, $begin, $size);
  return output(backend, $size, sliceValues(backend, values, x.shape, $begin, $size));
}

export function splitV(args: KernelArgs): TensorInfo[] | undefined {
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
