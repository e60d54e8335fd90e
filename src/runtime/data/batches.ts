// Training batches: random crops of `patch` x `patch` from random pairs, the declared
// augmentations, NHWC float32 in 0..1. Per sample, in this order (as DeepDeblur-PyTorch's
// data/common.py, with a true 90-degree rotation where it transposes; with the two flips
// both give all 8 orientations):
//   flip:             horizontal flip with p = 0.5, then vertical flip with p = 0.5
//   rot90:            rotation by 90 degrees counter-clockwise (np.rot90) with p = 0.5
//   permute_channels: a uniformly random permutation of R, G, B
//   saturation(a, b): HSV saturation times f ~ U(a, b), then clip to [0, 1]
//   noise(m, s):      blurry only: + N(0, sigma^2) per value, sigma = |N(m, s^2)|, clip [0, 1]
//   shake(min, max):  first of all, the blurry crop is made anew from the sharp image: a
//                     fresh camera-shake kernel per crop (kernels.ts, path length in
//                     [min, max] px), in linear light unless the data is `blur`, with sensor
//                     noise as `netc synth --kernels` adds; the stored blurry image is unused
// The same geometry, permutation and saturation apply to the blurry and the sharp crop.
//
// Reproducibility: every random decision of a batch is drawn from one seeded Rng, in a fixed
// order, synchronously when the batch is planned; only the per-sample noise comes from a
// second Rng seeded by a draw of the first. So the batches depend on the seed alone, and the
// loader's state (the Rng state before the next batch it will hand out) restores them.
// Prefetch: when a batch is handed out, the next is planned and assembled right away. By
// default a worker thread assembles it (decoding, cropping, augmenting: worker-pool.ts), so it
// is ready when a synchronous training step, which blocks the main event loop, ends. The
// worker only executes the plans, so its batches are bit-identical to the in-thread fallback
// (`workers: 0`). Call `close()` when done (idempotent); an idle worker never keeps the
// process alive, but close() frees its threads and cache at once.
import { UserError } from '../../errors.js';
import type { Augmentation } from '../../compiler/ir.js';
import type { Rgb8Image } from '../metrics.js';
import type { PairDataset } from './dataset.js';
import { SENSOR_NOISE, blurImage, randomKernel } from './kernels.js';
import { Rng, type RngState } from './rng.js';
import { DEFAULT_GAMMA } from './synth.js';
import { AssembleWorkers } from './worker-pool.js';

export interface Batch {
  blur: Float32Array;
  sharp: Float32Array;
  /** [batch, patch, patch, 3] */
  shape: [number, number, number, number];
  /** Dataset indices of the samples. */
  indices: number[];
}

export interface BatchLoaderOptions {
  patch: number;
  batch: number;
  augment: Augmentation[];
  seed: number;
  /** Worker threads that assemble batches (default 1); 0 assembles them on the main thread.
   *  With n workers, n batches are prefetched. Results do not depend on it. */
  workers?: number;
}

export interface BatchLoaderState {
  rng: RngState;
}

/** Every random decision for one sample. */
export interface SamplePlan {
  index: number;
  /** Crop position as fractions in [0, 1): scaled by the image's free room when applied. */
  top: number;
  left: number;
  hflip: boolean;
  vflip: boolean;
  rot90: boolean;
  permutation: [number, number, number];
  saturation?: number;
  noiseSigma?: number;
  noiseSeed: number;
  /** shake: the kernel's settings and the seed of its Rng (kernel, then noise). */
  shake?: { seed: number; minLength: number; maxLength: number };
}

export function planSample(rng: Rng, size: number, augment: Augmentation[]): SamplePlan {
  const plan: SamplePlan = {
    index: rng.int(size),
    top: rng.uniform(),
    left: rng.uniform(),
    hflip: false,
    vflip: false,
    rot90: false,
    permutation: [0, 1, 2],
    noiseSeed: rng.nextUint32(),
  };
  for (const a of augment) {
    switch (a.kind) {
      case 'flip':
        plan.hflip = rng.chance(0.5);
        plan.vflip = rng.chance(0.5);
        break;
      case 'rot90':
        plan.rot90 = rng.chance(0.5);
        break;
      case 'permute_channels':
        plan.permutation = rng.permutation(3) as [number, number, number];
        break;
      case 'saturation':
        plan.saturation = rng.uniformIn(a.low, a.high);
        break;
      case 'noise':
        plan.noiseSigma = Math.abs(a.sigmaMean + a.sigmaStd * rng.normal());
        break;
      case 'shake':
        plan.shake = { seed: rng.nextUint32(), minLength: a.minLength, maxLength: a.maxLength };
        break;
    }
  }
  return plan;
}

/** Crops, flips, rotates and permutes: out[y][x][c] = image[sy][sx][permutation[c]] / 255. */
export function cropAndOrient(image: Rgb8Image, top: number, left: number, patch: number, plan: Pick<SamplePlan, 'hflip' | 'vflip' | 'rot90' | 'permutation'>, out: Float32Array, offset = 0): void {
  const [p0, p1, p2] = plan.permutation;
  for (let y = 0; y < patch; y++) {
    for (let x = 0; x < patch; x++) {
      // Position in the flipped crop that lands at (y, x): np.rot90 gives out[y][x] = in[x][P-1-y].
      let fy = plan.rot90 ? x : y;
      let fx = plan.rot90 ? patch - 1 - y : x;
      if (plan.vflip) fy = patch - 1 - fy;
      if (plan.hflip) fx = patch - 1 - fx;
      const from = ((top + fy) * image.width + left + fx) * 3;
      const to = offset + (y * patch + x) * 3;
      out[to] = image.data[from + p0] / 255;
      out[to + 1] = image.data[from + p1] / 255;
      out[to + 2] = image.data[from + p2] / 255;
    }
  }
}

/** Scales HSV saturation by `factor` and clips to [0, 1]. With v = max(r, g, b), hue and value
 *  fixed, skimage's rgb2hsv -> s * factor -> hsv2rgb is exactly c' = v + factor * (c - v). */
export function scaleSaturation(data: Float32Array, factor: number, start = 0, end = data.length): void {
  for (let i = start; i < end; i += 3) {
    const v = Math.max(data[i], data[i + 1], data[i + 2]);
    for (let c = 0; c < 3; c++) data[i + c] = Math.min(1, Math.max(0, v + factor * (data[i + c] - v)));
  }
}

/** Adds N(0, sigma^2) noise and clips to [0, 1] (Box-Muller, both values of each draw). */
export function addNoise(data: Float32Array, sigma: number, rng: Rng, start = 0, end = data.length): void {
  for (let i = start; i < end; i += 2) {
    const r = sigma * Math.sqrt(-2 * Math.log(1 - rng.uniform()));
    const angle = 2 * Math.PI * rng.uniform();
    data[i] = Math.min(1, Math.max(0, data[i] + r * Math.cos(angle)));
    if (i + 1 < end) data[i + 1] = Math.min(1, Math.max(0, data[i + 1] + r * Math.sin(angle)));
  }
}

/** A pair made anew for a shake plan: the sharp image's `patch` x `patch` crop at the plan's
 *  position (within the room the kernel leaves at the borders) and its blurred copy, blurred
 *  in linear light (`linear`: the dataset's blur_gamma) or on the stored values (blur). */
export function shakeCrop(sharp: Rgb8Image, patch: number, plan: SamplePlan, linear: boolean): { blur: Rgb8Image; sharp: Rgb8Image } {
  const shake = plan.shake!;
  const rng = new Rng(shake.seed);
  const kernel = randomKernel(rng, { minLength: shake.minLength, maxLength: shake.maxLength });
  const side = patch + kernel.size - 1; // blurImage keeps the region where the kernel sees real pixels
  if (sharp.width < side || sharp.height < side) {
    throw new UserError(`a ${sharp.width}x${sharp.height} image is too small for ${patch}x${patch} crops blurred by shake kernels of ${kernel.size}x${kernel.size}; use smaller shake lengths or patches`);
  }
  const top = Math.floor(plan.top * (sharp.height - side + 1));
  const left = Math.floor(plan.left * (sharp.width - side + 1));
  const region = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) region.set(sharp.data.subarray(((top + y) * sharp.width + left) * 3, ((top + y) * sharp.width + left + side) * 3), y * side * 3);
  const noise = { gain: SENSOR_NOISE.gain * rng.uniform(), read: SENSOR_NOISE.read * rng.uniform() };
  const pair = blurImage(region, side, side, kernel, DEFAULT_GAMMA, noise, rng);
  return { blur: { width: patch, height: patch, data: linear ? pair.blurGamma : pair.blur }, sharp: { width: patch, height: patch, data: pair.sharp } };
}

function checkPatchFits(image: Rgb8Image, file: string, patch: number): void {
  if (image.width < patch || image.height < patch) {
    throw new UserError(`${file}: ${image.width}x${image.height} is smaller than the training patch ${patch}x${patch}`);
  }
}

/** Executes the plans: crops, orients and augments each planned sample into one batch
 *  (a shake plan decodes only the sharp image: shakeCrop makes its blurry crop). */
export async function assembleBatch(plans: SamplePlan[], patch: number, dataset: PairDataset): Promise<Batch> {
  const n = plans.length;
  const size = patch * patch * 3;
  const blur = new Float32Array(n * size);
  const sharp = new Float32Array(n * size);
  for (const [i, plan] of plans.entries()) {
    if (plan.shake) {
      const { entry, sharp: image } = await dataset.loadSharp(plan.index);
      checkPatchFits(image, entry.sharp, patch);
      const made = shakeCrop(image, patch, plan, dataset.linearBlur);
      cropAndOrient(made.blur, 0, 0, patch, plan, blur, i * size);
      cropAndOrient(made.sharp, 0, 0, patch, plan, sharp, i * size);
    } else {
      const pair = await dataset.load(plan.index);
      checkPatchFits(pair.blur, pair.entry.blur, patch);
      const top = Math.floor(plan.top * (pair.blur.height - patch + 1));
      const left = Math.floor(plan.left * (pair.blur.width - patch + 1));
      cropAndOrient(pair.blur, top, left, patch, plan, blur, i * size);
      cropAndOrient(pair.sharp, top, left, patch, plan, sharp, i * size);
    }
    if (plan.saturation !== undefined) {
      scaleSaturation(blur, plan.saturation, i * size, (i + 1) * size);
      scaleSaturation(sharp, plan.saturation, i * size, (i + 1) * size);
    }
    if (plan.noiseSigma !== undefined) addNoise(blur, plan.noiseSigma, new Rng(plan.noiseSeed), i * size, (i + 1) * size);
  }
  return { blur, sharp, shape: [n, patch, patch, 3], indices: plans.map((p) => p.index) };
}

interface Planned {
  /** The Rng state before this batch was planned. */
  state: RngState;
  batch: Promise<Batch>;
}

export class BatchLoader {
  private rng: Rng;
  /** Planned batches not handed out yet, oldest first. */
  private queue: Planned[] = [];
  private readonly workers?: AssembleWorkers;
  private readonly prefetch: number;
  private closed = false;

  constructor(private readonly dataset: PairDataset, private readonly options: BatchLoaderOptions) {
    const { patch, batch, workers = 1 } = options;
    if (!Number.isInteger(patch) || patch < 1) throw new UserError(`patch must be a positive integer, got ${patch}`);
    if (!Number.isInteger(batch) || batch < 1) throw new UserError(`batch must be a positive integer, got ${batch}`);
    if (!Number.isInteger(workers) || workers < 0) throw new UserError(`workers must be a non-negative integer, got ${workers}`);
    this.rng = new Rng(options.seed);
    if (workers > 0) this.workers = new AssembleWorkers(dataset.spec, workers); // threads start with the first batch
    this.prefetch = Math.max(1, workers);
  }

  /** The next batch; starts assembling the ones after it. */
  next(): Promise<Batch> {
    if (this.closed) return Promise.reject(new Error('the batch loader is closed'));
    const current = this.queue.shift() ?? this.plan();
    while (this.queue.length < this.prefetch) this.queue.push(this.plan());
    return current.batch;
  }

  /** The state that makes the following `next()` calls repeat (save it with a checkpoint). */
  getState(): BatchLoaderState {
    return { rng: this.queue.length ? this.queue[0].state : this.rng.getState() };
  }

  setState(state: BatchLoaderState): void {
    this.rng.setState(state.rng);
    this.queue = []; // batches prefetched from the old state are dropped
  }

  /** Stops the worker threads (batches in flight reject; later next() calls reject).
   *  Idempotent and safe to call in a `finally`; without workers it only marks the loader closed. */
  close(): Promise<void> {
    this.closed = true;
    this.queue = [];
    return this.workers?.close() ?? Promise.resolve();
  }

  private plan(): Planned {
    const state = this.rng.getState();
    const plans = Array.from({ length: this.options.batch }, () => planSample(this.rng, this.dataset.size, this.options.augment));
    const { patch } = this.options;
    const batch = this.workers ? this.workers.assemble(plans, patch) : assembleBatch(plans, patch, this.dataset);
    batch.catch(() => {}); // a prefetched batch's error surfaces when it is asked for
    return { state, batch };
  }
}
