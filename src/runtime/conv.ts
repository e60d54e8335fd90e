// activation(conv2d(x, filter) + bias + residual): the convolution every conv2d node lowers
// to. One call of the active backend's fused kernel where it registered one
// (fused-kernels.ts: oneDNN's NetcConv2D); composed from tfjs ops (fused conv + bias, add,
// activation) on any other backend. No Node-only modules: the browser page lowers through
// this file too.
import type { Activation } from '../compiler/ir.js';
import { convOutputSize } from '../compiler/ops.js';
import { FUSED_CONV, FusedActivation, fusedKernelAvailable, type FusedConvAttrs } from './fused-kernels.js';
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

/** activation(conv2d(x, filter) + bias + residual), differentiable, on NHWC / HWIO tensors. */
export function conv2dWithPostOps(x: tf.Tensor4D, filter: tf.Tensor4D, options: ConvPostOps): tf.Tensor4D {
  const fused = fusedConv(x, filter, options);
  if (fused) return fused;
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

/** The FUSED_CONV kernel's result, or undefined where the active backend has none or the
 *  geometry is outside its contract (grouped, negative padding, empty output). */
function fusedConv(x: tf.Tensor4D, filter: tf.Tensor4D, options: ConvPostOps): tf.Tensor4D | undefined {
  const { strides, pad, bias, residual, activation } = options;
  const alpha = options.alpha ?? 0.01;
  const [n, h, w] = x.shape;
  const [kh, kw, , oc] = filter.shape;
  const [top, bottom, left, right] = pad;
  const oh = convOutputSize(h, kh, strides[0], top, bottom);
  const ow = convOutputSize(w, kw, strides[1], left, right);
  const fits = filter.shape[2] === x.shape[3] && (bias === undefined || bias.size === oc) && oh >= 1 && ow >= 1 && Math.min(...pad) >= 0;
  if (!fits || !fusedKernelAvailable(FUSED_CONV, [x, filter, bias, residual])) return undefined;
  // sigmoid (and leaky relu with a negative slope) is not fused: the kernel's gradient from
  // the output alone needs a monotonic activation with a sign-preserving output.
  const fusedActivation = activation === 'relu' ? FusedActivation.Relu : activation === 'leaky_relu' && alpha >= 0 ? FusedActivation.LeakyRelu : FusedActivation.None;
  const attrs: FusedConvAttrs = {
    geometry: [n, h, w, x.shape[3], kh, kw, oc, oh, ow, strides[0], strides[1], 1, 1, top, bottom, left, right],
    activation: fusedActivation,
    alpha,
  };
  const inputs: Record<string, tf.Tensor> = { x, filter };
  if (bias) inputs.bias = bias.reshape([oc]);
  if (residual) inputs.residual = residual;
  const y = tf.engine().runKernel(FUSED_CONV, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  return fusedActivation === FusedActivation.None ? applyActivation(y, activation, alpha) : y;
}
