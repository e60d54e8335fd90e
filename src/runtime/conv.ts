// activation(conv2d(x, filter) + bias + residual): the convolution every conv2d node lowers
// to. Composed from tfjs ops (fused conv + bias, add, activation) on any backend; a native
// backend may take it over as one call (the oneDNN backend installs its kernel with
// useNativeConv when it registers). No Node-only modules: the browser page lowers through
// this file too.
import type { Activation } from '../compiler/ir.js';
import { tf } from './tf.js';

export interface ConvPostOps {
  strides: [number, number];
  /** Explicit zero padding [top, bottom, left, right]. */
  pad: [number, number, number, number];
  /** Per-channel bias, shape [outChannels]. */
  bias?: tf.Tensor;
  /** Added after conv + bias, before the activation; the output's shape. */
  residual?: tf.Tensor;
  activation?: Activation;
  /** leaky_relu slope (default 0.01). */
  alpha?: number;
}

/** A native implementation: its result, or undefined where it does not apply (another
 *  backend active, unsupported dtype or geometry). */
export type NativeConv = (x: tf.Tensor4D, filter: tf.Tensor4D, options: ConvPostOps) => tf.Tensor4D | undefined;

let nativeConv: NativeConv | undefined;

export function useNativeConv(impl: NativeConv): void {
  nativeConv = impl;
}

/** activation(conv2d(x, filter) + bias + residual), differentiable, on NHWC / HWIO tensors. */
export function conv2dWithPostOps(x: tf.Tensor4D, filter: tf.Tensor4D, options: ConvPostOps): tf.Tensor4D {
  const native = nativeConv?.(x, filter, options);
  if (native) return native;
  const [top, bottom, left, right] = options.pad;
  let y: tf.Tensor4D = tf.fused.conv2d({
    x,
    filter,
    strides: options.strides,
    pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
    bias: options.bias,
  });
  if (options.residual) y = tf.add(y, options.residual);
  return applyActivation(y, options.activation, options.alpha ?? 0.01);
}

export function applyActivation(y: tf.Tensor4D, activation: Activation | undefined, alpha: number): tf.Tensor4D {
  switch (activation) {
    case undefined:
      return y;
    case 'relu':
      return tf.relu(y);
    case 'leaky_relu':
      return tf.leakyRelu(y, alpha);
    case 'sigmoid':
      return tf.sigmoid(y);
  }
}
