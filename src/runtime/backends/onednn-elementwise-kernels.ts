// oneDNN's elementwise and reduction kernels for tfjs's kernel names (Add, Sub, Multiply,
// RealDiv with NumPy broadcasting; Relu, Step, Square, Sqrt, Abs; Sum, Mean): vectorized native
// loops over float32 data.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { nativeAddon, type Binary, type Unary } from './onednn-addon.js';
import { floats, output, outputArray, size, type CpuBackend, type KernelArgs } from './onednn-backend.js';

export function binaryKernel(op: Binary) {
  return (args: KernelArgs): TensorInfo | undefined => {
    const backend = args.backend as CpuBackend;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const aValues = floats(backend, a);
    const bValues = floats(backend, b);
    if (!aValues || !bValues) return undefined;
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = outputArray(backend, size(shape));
    nativeAddon().binary(op, aValues, a.shape, bValues, b.shape, out, shape);
    return output(backend, shape, out);
  };
}

export function unaryKernel(op: Unary) {
  return (args: KernelArgs): TensorInfo | undefined => {
    const backend = args.backend as CpuBackend;
    const { x } = args.inputs as { x: TensorInfo };
    const values = floats(backend, x);
    if (!values) return undefined;
    const out = outputArray(backend, values.length);
    nativeAddon().unary(op, values, out, (args.attrs?.alpha as number | undefined) ?? 0);
    return output(backend, x.shape, out);
  };
}

/** Sum (mean = true: Mean) over attrs.axis, as the tfjs kernels. */
export function reduceKernel(mean: boolean) {
  return (args: KernelArgs): TensorInfo | undefined => {
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
    nativeAddon().reduceSum(values, x.shape, reduced, out, mean ? 1 / count : 1);
    return output(backend, outShape, out);
  };
}
