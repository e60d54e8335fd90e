// The fused kernels a tfjs backend may register to run one of netc's compound operations in
// a single call: their names and attributes, the contract between the backend-neutral
// entries (conv.ts: conv + bias + residual + activation; optim.ts: one Adam update) and a
// backend that implements them (backends/onednn-custom-ops.ts). The entries ask tfjs's kernel
// registry whether the active backend has one; where none is registered they compose the
// same computation from tfjs ops. No Node-only modules (the browser page lowers through here).
import { tf } from './tf.js';

/** activation(conv2d(x, filter) + bias + residual): inputs x, filter, bias?, residual?;
 *  attrs FusedConvAttrs; output NHWC. */
export const FUSED_CONV = 'NetcConv2D';

/** Activations a fused conv applies itself (others are applied after it). */
export const FusedActivation = { None: 0, Relu: 1, LeakyRelu: 2 } as const;
export type FusedActivation = (typeof FusedActivation)[keyof typeof FusedActivation];

export interface FusedConvAttrs {
  /** [N, H, W, C, KH, KW, OC, OH, OW, SH, SW, DH, DW, top, bottom, left, right] */
  geometry: number[];
  activation: FusedActivation;
  /** leaky relu slope (>= 0). */
  alpha: number;
}

/** One Adam update of a parameter: inputs p, m, v, g; outputs [p', m', v']; attrs AdamStepAttrs. */
export const FUSED_ADAM = 'NetcAdam';

export interface AdamStepAttrs {
  beta1: number;
  beta2: number;
  eps: number;
  /** lr / (1 - beta1^t) */
  stepSize: number;
  /** sqrt(1 - beta2^t) */
  sqrtCorrection2: number;
}

/** One parameter's Adam update for a backend that writes it over the variables' own data. */
export interface AdamInPlaceUpdate {
  p: tf.Variable;
  m: tf.Variable;
  v: tf.Variable;
  g: tf.Tensor;
}

/** The method a backend may have that applies many Adam updates at once over p, m and v's
 *  own buffers (AdamStepAttrs as FUSED_ADAM), returning which it did; it must skip any whose
 *  data another tensor shares or that left the backend (the caller applies those as usual). */
export const ADAM_IN_PLACE = 'netcAdamInPlace';
type AdamInPlace = (updates: AdamInPlaceUpdate[], attrs: AdamStepAttrs) => boolean[];

/** The active backend's in-place Adam, if it has one. */
export function inPlaceAdam(): AdamInPlace | undefined {
  const backend = tf.backend() as unknown as Record<string, unknown>;
  const method = backend[ADAM_IN_PLACE];
  return typeof method === 'function' ? (method.bind(backend) as AdamInPlace) : undefined;
}

/** Whether the active backend registered `kernel` and every tensor is float32 (all the fused
 *  kernels take). */
export function fusedKernelAvailable(kernel: string, tensors: (tf.Tensor | undefined)[]): boolean {
  return tf.getKernel(kernel, tf.getBackend()) !== undefined && tensors.every((t) => t === undefined || t.dtype === 'float32');
}
