// The 'onednn' tfjs backend: tfjs-backend-cpu with its convolutions (and the elementwise
// kernels that dominate a training step) run by a native addon on oneDNN (native/).
// Every kernel registered for 'cpu' is registered for 'onednn' too, then the hot ones are
// replaced; gradients are registered per kernel name, so autodiff works unchanged.
// Shapes or options the addon does not handle fall back to the plain CPU kernel.
// The parts: onednn-addon.ts (loading), onednn-backend.ts (the recycling backend, kernel
// helpers), kernels by family (onednn-conv-kernels.ts, onednn-elementwise-kernels.ts,
// onednn-copy-kernels.ts) and the fused kernels (onednn-custom-ops.ts).
import { createRequire } from 'node:module';
import type * as tfjsCpu from '@tensorflow/tfjs-backend-cpu';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { ADAM_IN_PLACE, type AdamInPlaceUpdate, type AdamStepAttrs } from '../fused-kernels.js';
import { tf } from '../tf.js';
import { Binary, Unary, addonLoaded, loadAddon, nativeAddon, type OneDnnInfo } from './onednn-addon.js';
import { recyclingBackendClass, withFallback, type RecyclingCpuBackend } from './onednn-backend.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput, fusedConv2d } from './onednn-conv-kernels.js';
import { concat, gather, slice, splitV, transpose } from './onednn-copy-kernels.js';
import { adamInPlace, registerCustomOps } from './onednn-custom-ops.js';
import { binaryKernel, reduceKernel, unaryKernel } from './onednn-elementwise-kernels.js';

export type { OneDnnInfo };
export { FUSED_ADAM as NETC_ADAM } from '../fused-kernels.js';

const require = createRequire(import.meta.url);

/** The tfjs backend name (`--backend cpu` activates it when the addon loads). */
export const ONEDNN_BACKEND = 'onednn';

export type RegisterResult = { ok: true } | { ok: false; reason: string };

let registration: RegisterResult | undefined;
let backendInstance: RecyclingCpuBackend | undefined;

/** Version and thread count of the loaded addon, or undefined when it is not loaded. */
export function oneDnnInfo(): OneDnnInfo | undefined {
  return addonLoaded() ? nativeAddon().info() : undefined;
}

/** Frees the addon's cached primitives and scratch buffers (they grow to the largest conv
 *  seen, e.g. ~0.5 GB after a 64-channel 1280x720 conv); later calls rebuild them. */
export function releaseOneDnnMemory(): void {
  if (addonLoaded()) nativeAddon().release();
  backendInstance?.pool.clear();
}

/** tfjs kernel names the addon takes over (each falls back to the plain CPU kernel). */
function kernelOverrides(): Map<string, KernelFunc> {
  return new Map<string, KernelFunc>([
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
    ['Abs', withFallback('Abs', unaryKernel(Unary.Abs))],
    ['Sum', withFallback('Sum', reduceKernel(false))],
    ['Mean', withFallback('Mean', reduceKernel(true))],
    ['Slice', withFallback('Slice', slice)],
    ['SplitV', withFallback('SplitV', splitV)],
    ['Transpose', withFallback('Transpose', transpose)],
    ['GatherV2', withFallback('GatherV2', gather)],
    ['Concat', withFallback('Concat', concat)],
  ]);
}

/** Registers the 'onednn' backend (idempotent). When the addon is missing or fails to load,
 *  registers nothing and says why; callers then use the plain 'cpu' backend. */
export function registerOneDnnBackend(): RegisterResult {
  if (registration) return registration;
  try {
    loadAddon();
  } catch (err) {
    registration = { ok: false, reason: `oneDNN addon unavailable: ${(err as Error).message}` };
    return registration;
  }
  // Another copy of this module (src/ and dist/ in one process) may have registered it.
  if (!tf.findBackendFactory(ONEDNN_BACKEND)) {
    const { MathBackendCPU } = require('@tensorflow/tfjs-backend-cpu') as typeof tfjsCpu;
    // Priority 0: never chosen implicitly; netc activates it by name.
    const RecyclingBackend = recyclingBackendClass(MathBackendCPU);
    class OneDnnBackend extends RecyclingBackend {
      [ADAM_IN_PLACE](updates: AdamInPlaceUpdate[], attrs: AdamStepAttrs): boolean[] {
        return adamInPlace(this, updates, attrs);
      }
    }
    tf.registerBackend(ONEDNN_BACKEND, () => (backendInstance = new OneDnnBackend()), 0);
    const overrides = kernelOverrides();
    for (const config of tf.getKernelsForBackend('cpu')) {
      const kernelFunc = overrides.get(config.kernelName) ?? config.kernelFunc;
      tf.registerKernel({ ...config, backendName: ONEDNN_BACKEND, kernelFunc } satisfies KernelConfig);
    }
    registerCustomOps(ONEDNN_BACKEND);
  }
  registration = { ok: true };
  return registration;
}
