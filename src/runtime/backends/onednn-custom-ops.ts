// The fused kernels of fused-kernels.ts as the oneDNN backend implements them: FUSED_CONV
// (conv + bias + residual + relu/leaky relu in one native call) with its gradient,
// FUSED_ADAM (one Adam update as a single native pass; a dozen tfjs ops otherwise), and
// ADAM_IN_PLACE (a step's updates in one call, over the variables' own buffers).
import type { GradConfig, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { FUSED_ADAM, FUSED_CONV, FusedActivation, type AdamInPlaceUpdate, type AdamStepAttrs, type FusedConvAttrs } from '../fused-kernels.js';
import { tf } from '../tf.js';
import { nativeAddon } from './onednn-addon.js';
import { floats, output, outputArray, size, type CpuBackend, type KernelArgs, type RecyclingCpuBackend } from './onednn-backend.js';

const adamHyper = ({ beta1, beta2, eps, stepSize, sqrtCorrection2 }: AdamStepAttrs): [number, number, number, number, number, number, number] => [
  beta1,
  1 - beta1,
  beta2,
  1 - beta2,
  sqrtCorrection2,
  eps,
  stepSize,
];

function netcAdam(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as CpuBackend;
  const { p, m, v, g } = args.inputs as Record<string, TensorInfo>;
  const [pOut, mOut, vOut] = [0, 1, 2].map(() => outputArray(backend, size(p.shape)));
  nativeAddon().adam(floats(backend, p)!, floats(backend, m)!, floats(backend, v)!, floats(backend, g)!, pOut, mOut, vOut, adamHyper(args.attrs as unknown as AdamStepAttrs));
  return [pOut, mOut, vOut].map((values) => output(backend, p.shape, values));
}

/** fused-kernels.ts's ADAM_IN_PLACE: every update whose p, m and v are each the only tensor on
 *  a whole recycled buffer (refCount 1, buffer-pool.ts's soleView) in one native call over
 *  those buffers; the others are left to the caller (e.g. parameters just loaded from a
 *  checkpoint, whose arrays tfjs may share with the loader, until their first update). */
export function adamInPlace(backend: RecyclingCpuBackend, updates: AdamInPlaceUpdate[], attrs: AdamStepAttrs): boolean[] {
  const own = (t: tf.Tensor) => {
    if (t.dtype !== 'float32' || !backend.data.has(t.dataId)) return undefined;
    const data = backend.data.get(t.dataId);
    return data.refCount === 1 && backend.pool.soleView(data.values) ? (data.values as Float32Array) : undefined;
  };
  const arrays: Float32Array[] = [];
  const done = updates.map(({ p, m, v, g }) => {
    const [pValues, mValues, vValues] = [own(p), own(m), own(v)];
    const gValues = backend.data.has(g.dataId) ? floats(backend, g) : undefined;
    if (!pValues || !mValues || !vValues || !gValues || gValues.length !== pValues.length || mValues.length !== pValues.length || vValues.length !== pValues.length) return false;
    arrays.push(pValues, mValues, vValues, gValues);
    return true;
  });
  if (arrays.length) nativeAddon().adamInPlace(arrays, adamHyper(attrs));
  return done;
}

// tfjs's FusedConv2D has no residual input, and while recording gradients tf.fused.conv2d
// splits relu off (and cannot differentiate leaky relu at all). NetcConv2D is conv + bias +
// residual + relu/leaky relu in one native call; its gradient (registered below) computes
// each input's gradient only when backprop asks for it.
const NETC_ACTIVATION_GRAD = 'NetcActivationGrad';

function netcConv2d(args: KernelArgs): TensorInfo {
  const backend = args.backend as CpuBackend;
  const { x, filter, bias, residual } = args.inputs as Record<string, TensorInfo | undefined>;
  const { geometry, activation, alpha } = args.attrs as unknown as FusedConvAttrs;
  const [n, , , , , , oc, oh, ow] = geometry;
  const y = outputArray(backend, n * oh * ow * oc);
  const values = (t: TensorInfo | undefined) => (t ? floats(backend, t)! : null);
  nativeAddon().convForward(values(x)!, values(filter)!, values(bias), values(residual), y, geometry, activation, alpha);
  return output(backend, [n, oh, ow, oc], y);
}

/** dy * activation'(pre-activation), from the activation's output y. */
function netcActivationGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as CpuBackend;
  const { dy, y } = args.inputs as { dy: TensorInfo; y: TensorInfo };
  const dx = outputArray(backend, size(dy.shape));
  nativeAddon().activationGrad(floats(backend, dy)!, floats(backend, y)!, dx, args.attrs!.alpha as number);
  return output(backend, dy.shape, dx);
}

const netcConv2dGradient: GradConfig = {
  kernelName: FUSED_CONV,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dyOrList, saved, attrs) => {
    const dy = dyOrList as tf.Tensor; // one output
    const [x, filter, y] = saved;
    const { geometry, activation, alpha } = attrs as unknown as FusedConvAttrs;
    const [, , , , , , , , , sh, sw, , , top, bottom, left, right] = geometry;
    const convAttrs = {
      strides: [sh, sw],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
    };
    // Created here, in backprop's scope, so that every input's gradient can use it.
    const dPre =
      activation === FusedActivation.None
        ? dy
        : (tf.engine().runKernel(NETC_ACTIVATION_GRAD, { dy, y }, { alpha: activation === FusedActivation.LeakyRelu ? alpha : 0 }) as tf.Tensor);
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
        nativeAddon().convBackwardWeights(floats(backend, x)!, floats(backend, dPre)!, pending.filter!, pending.bias!, geometry);
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

/** The kernels and the gradient above, registered for `backendName`. */
export function registerCustomOps(backendName: string): void {
  const kernels: KernelConfig[] = [
    { kernelName: FUSED_CONV, backendName, kernelFunc: netcConv2d as KernelFunc },
    { kernelName: FUSED_ADAM, backendName, kernelFunc: netcAdam as KernelFunc },
    { kernelName: NETC_ACTIVATION_GRAD, backendName, kernelFunc: netcActivationGrad as KernelFunc },
  ];
  kernels.forEach((k) => tf.registerKernel(k));
  tf.registerGradient(netcConv2dGradient);
}
