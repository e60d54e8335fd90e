// The oneDNN addon (native/): its interface, and finding and loading it. The kernels
// (onednn-*-kernels.ts, onednn-custom-ops.ts) call it through `nativeAddon()` once
// registerOneDnnBackend (onednn.ts) has loaded it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import type { FusedActivation } from '../fused-kernels.js';

const require = createRequire(import.meta.url);

/** Where node-gyp puts the addon, relative to the package root. */
const ADDON_PATH = join('native', 'build', 'Release', 'netc_onednn.node');

export interface OneDnnAddon {
  info(): OneDnnInfo;
  /** Frees cached primitives and scratch buffers. */
  release(): void;
  /** `length` floats on their own 2 MiB-aligned mapping advised onto transparent huge pages
   *  (Linux, from 2 MiB up; else plain memory), freed with the array's buffer. */
  hugePageFloats(length: number): Float32Array;
  /** Moves every other thread the process has now to SCHED_IDLE (Linux); returns how many. */
  yieldHelperThreads(): number;
  /** activation: fused-kernels.ts's FusedActivation codes. */
  convForward(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    residual: Float32Array | null,
    y: Float32Array,
    geometry: number[],
    activation: FusedActivation,
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
  /** Row r's `count` floats from src[srcOffset + r * srcStride] to dst[dstOffset + r * dstStride]
   *  (concat and one-axis slices). */
  copyRows(src: Float32Array, dst: Float32Array, rows: [number, number, number, number, number, number]): void;
  /** tf.gather along one axis: src as [outer, axisSize, inner], dst [outer, picks.length, inner]. */
  gather(src: Float32Array, dst: Float32Array, picks: Int32Array, outer: number, axisSize: number, inner: number): void;
  /** dst (row-major, `shape`, rank 1-8) [i] = src[offset + index(i) . strides], strides >= 0
   *  (transposes, slices along several axes). */
  stridedCopy(src: Float32Array, dst: Float32Array, shape: number[], strides: number[], offset: number): void;
  /** One Adam update into pOut, mOut, vOut (fused-kernels.ts's FUSED_ADAM). */
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
  /** adam's update for each parameter of [p0, m0, v0, g0, p1, ...], written over p, m and v. */
  adamInPlace(arrays: Float32Array[], hyper: [number, number, number, number, number, number, number]): void;
}

export const Binary = { Add: 0, Sub: 1, Mul: 2, Div: 3 } as const;
export type Binary = (typeof Binary)[keyof typeof Binary];

export const Unary = { Relu: 0, Step: 1, Square: 2, Sqrt: 3, Abs: 4 } as const;
export type Unary = (typeof Unary)[keyof typeof Unary];

export interface OneDnnInfo {
  /** oneDNN library version. */
  version: string;
  /** OpenMP threads oneDNN runs on. */
  threads: number;
  /** Cached conv primitives. */
  cachedPlans: number;
  /** Native conv executions since load (forward, backward-data, backward-weights). */
  convCalls: number;
  /** Of these, convolutions with 1-4 output channels that small-conv.cc's kernels ran. */
  smallConvCalls: number;
  /** The build of the hand-written kernels that runs: within oneDNN's instruction set (below). */
  kernelBuild: 'avx512' | 'avx2' | 'baseline';
  /** Of these, 5x5 convolutions that winograd.cc's kernels ran. */
  winogradCalls: number;
  /** oneDNN's instruction set: the CPU's, capped by ONEDNN_MAX_CPU_ISA (e.g. AVX2 to behave
   *  as on an AVX2-only machine). */
  isa: string;
  /** Backward-weights plans reading activations in oneDNN's blocked layout: chosen per shape
   *  by timing both layouts on the first call (NETC_CONV_LAYOUT=nhwc|blocked forces one). */
  blockedWeightGradPlans: number;
}

let addon: OneDnnAddon | undefined;

/** The loaded addon (the kernels run only after registerOneDnnBackend loaded it). */
export function nativeAddon(): OneDnnAddon {
  if (!addon) throw new Error('the oneDNN addon is not loaded');
  return addon;
}

export function addonLoaded(): boolean {
  return addon !== undefined;
}

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

/** Loads the addon (once); throws when it is missing or oneDNN cannot start. */
export function loadAddon(): OneDnnAddon {
  if (addon) return addon;
  const path = findAddon();
  if (!path) throw new Error(`native addon not built (${ADDON_PATH} missing; run 'npm run setup')`);
  // OpenMP threads that spin between parallel regions compete with the JavaScript thread and
  // anything else on a small machine (2x slower convs measured under load, no gain when
  // idle). libgomp reads this when oneDNN loads it, i.e. on the require below.
  process.env.OMP_WAIT_POLICY ??= 'passive';
  const loaded = require(path) as OneDnnAddon;
  // Before oneDNN's first parallel region starts the OpenMP threads: V8's helper threads
  // (GC, compilers) then run only on an idle core instead of stalling a convolution split
  // over every core (native/src/addon.cc). NETC_HELPER_THREADS=normal leaves them as they are.
  if (isMainThread && process.env.NETC_HELPER_THREADS !== 'normal') loaded.yieldHelperThreads();
  loaded.info(); // fails here, not in the first kernel, if oneDNN itself cannot start
  addon = loaded;
  return loaded;
}
