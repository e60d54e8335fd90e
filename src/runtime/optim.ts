// One Adam update of one parameter, as torch.optim.Adam computes it (no weight decay, no
// amsgrad), with the bias corrections folded into stepSize and sqrtCorrection2 on the host:
//   m' = b1 m + (1 - b1) g;  v' = b2 v + (1 - b2) g^2;  p' = p - m' / (sqrt(v') / c2 + eps) * stepSize
// One call of the active backend's fused kernel where it registered one (fused-kernels.ts:
// oneDNN's single native pass); elsewhere the same float32 operations in the same order as
// tfjs ops, so both give the same bits. applyAdamUpdates: a step's updates at once, in place
// where the backend can (oneDNN), the same bits again.
import { FUSED_ADAM, fusedKernelAvailable, inPlaceAdam, type AdamInPlaceUpdate, type AdamStepAttrs } from './fused-kernels.js';
import { tf } from './tf.js';

export type { AdamStepAttrs };

/** The hyper-parameters of update number `step` (1-based) at learning rate `lr`. */
export function adamStepAttrs(settings: { beta1: number; beta2: number; eps: number }, lr: number, step: number): AdamStepAttrs {
  const { beta1, beta2, eps } = settings;
  return { beta1, beta2, eps, stepSize: lr / (1 - beta1 ** step), sqrtCorrection2: Math.sqrt(1 - beta2 ** step) };
}

/** New [parameter, first moment, second moment] after one update with gradient `g`. */
export function adamUpdate(p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, attrs: AdamStepAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  if (fusedKernelAvailable(FUSED_ADAM, [p, m, v, g])) {
    return tf.engine().runKernel(FUSED_ADAM, { p, m, v, g }, attrs as unknown as tf.NamedAttrMap) as [tf.Tensor, tf.Tensor, tf.Tensor];
  }
  const { beta1, beta2, eps, stepSize, sqrtCorrection2 } = attrs;
  return tf.tidy(() => {
    const mNext = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
    const vNext = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
    const denom = tf.add(tf.div(tf.sqrt(vNext), sqrtCorrection2), eps);
    return [tf.sub(p, tf.mul(tf.div(mNext, denom), stepSize)), mNext, vNext];
  });
}

/** adamUpdate assigned to the variables themselves (the previous values are released). */
export function applyAdam(p: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor, attrs: AdamStepAttrs): void {
  const [pNext, mNext, vNext] = adamUpdate(p, m, v, g, attrs);
  p.assign(pNext);
  m.assign(mNext);
  v.assign(vNext);
  tf.dispose([pNext, mNext, vNext]);
}

/** applyAdam for many parameters: in one call over their own buffers where the backend can
 *  (fused-kernels.ts's ADAM_IN_PLACE), applyAdam for the rest. */
export function applyAdamUpdates(updates: AdamInPlaceUpdate[], attrs: AdamStepAttrs): void {
  const inPlace = inPlaceAdam();
  const done = inPlace ? inPlace(updates, attrs) : [];
  updates.forEach(({ p, m, v, g }, i) => {
    if (!done[i]) applyAdam(p, m, v, g, attrs);
  });
}
