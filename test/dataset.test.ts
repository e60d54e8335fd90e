import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Augmentation } from '../src/compiler/ir.js';
import { UserError } from '../src/errors.js';
import { BatchLoader, addNoise, cropAndOrient, planSample, scaleSaturation, shakeCrop } from '../src/runtime/data/batches.js';
import { randomKernel } from '../src/runtime/data/kernels.js';
import { PairDataset } from '../src/runtime/data/dataset.js';
import { Rng } from '../src/runtime/data/rng.js';
import { synthesize } from '../src/runtime/data/synth.js';
import { writePng } from '../src/runtime/image.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const citySmall = path.join(here, '../../shared/fixtures/video/city-small');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'netc-dataset-'));
const ALL: Augmentation[] = [
  { kind: 'flip' },
  { kind: 'rot90' },
  { kind: 'permute_channels' },
  { kind: 'saturation', low: 0.5, high: 1.5 },
  { kind: 'noise', sigmaMean: 0, sigmaStd: 2 / 255 },
  { kind: 'shake', minLength: 3, maxLength: 16 },
];

let root: string;
beforeAll(async () => {
  root = tmp();
  await synthesize({ frames: citySmall, out: root, window: 7, split: 'train', seq: 'a' });
  await synthesize({ frames: citySmall, out: root, window: 9, split: 'test', seq: 'b' });
});

describe('Rng', () => {
  it('is xoshiro128** (reference outputs for state 1, 2, 3, 4)', () => {
    const rng = Rng.fromState({ kind: 'xoshiro128**', s: [1, 2, 3, 4] });
    // First outputs of the reference C code (prng.di.unimi.it/xoshiro128starstar.c) from s = {1, 2, 3, 4}.
    expect(Array.from({ length: 4 }, () => rng.nextUint32())).toEqual([11520, 0, 5927040, 70819200]);
  });

  it('repeats from a saved state; normals have mean 0 and variance 1', () => {
    const rng = new Rng(42);
    rng.uniform();
    const saved = rng.getState();
    const a = Array.from({ length: 5 }, () => rng.uniform());
    rng.setState(saved);
    expect(Array.from({ length: 5 }, () => rng.uniform())).toEqual(a);
    const n = 20000;
    const xs = Array.from({ length: n }, () => rng.normal());
    const mean = xs.reduce((s, x) => s + x, 0) / n;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    expect(new Rng(1).uniform()).not.toBe(new Rng(2).uniform());
  });
});

describe('PairDataset', () => {
  it('lists GOPRO-layout pairs matched by name and decodes them', async () => {
    const train = await PairDataset.open(root, 'train', 'blur_gamma');
    expect(train.size).toBe(4);
    expect(train.pairs.map((p) => p.id)).toEqual(['a/frame_0004.png', 'a/frame_0011.png', 'a/frame_0018.png', 'a/frame_0025.png']);
    const pair = await train.load(1);
    expect([pair.blur.width, pair.blur.height]).toEqual([240, 135]);
    expect(pair.blur.data).not.toEqual(pair.sharp.data);
    expect(await train.load(1)).toBe(pair); // cached
    const test = await PairDataset.open(root, 'test', 'blur');
    expect(test.size).toBe(3);
    expect(test.pairs[0].blur).toBe(path.join(root, 'test', 'b', 'blur', 'frame_0005.png'));
  });

  it('evicts least recently used pairs beyond the cache budget', async () => {
    const ds = await PairDataset.open(root, 'train', 'blur', { cacheBytes: 2 * 240 * 135 * 3 * 2 });
    const first = await ds.load(0);
    await ds.load(1);
    expect(await ds.load(0)).toBe(first); // 0 is now the most recent
    await ds.load(2); // evicts 1
    expect(await ds.load(0)).toBe(first);
    await ds.load(3); // evicts 2
    await ds.load(1); // evicts 0
    expect(await ds.load(0)).not.toBe(first);
  });

  it('loadSharp decodes and caches the sharp image alone: half a pair\'s bytes', async () => {
    const ds = await PairDataset.open(root, 'train', 'blur', { cacheBytes: 2 * 240 * 135 * 3 * 2 }); // two pairs
    const sharp = await Promise.all([0, 1, 2, 3].map((i) => ds.loadSharp(i))); // four sharp images fit
    for (const [i, image] of sharp.entries()) {
      expect(await ds.loadSharp(i)).toBe(image);
      expect('blur' in image).toBe(false);
    }
    const pair = await ds.load(2); // now whole: five images' bytes, so the least recent (0) is evicted
    expect(pair.sharp.data).toEqual(sharp[2].sharp.data);
    expect(await ds.loadSharp(2)).toBe(pair);
    expect(await ds.loadSharp(3)).toBe(sharp[3]);
    expect(await ds.loadSharp(0)).not.toBe(sharp[0]);
  });

  it.each([
    ['a missing root', (r: string) => path.join(r, 'nope'), 'train', /nope: no such folder \(the dataset root; expected ROOT\/\{train,val,test\}/],
    ['a missing split', (r: string) => r, 'test', /test: no such folder \(the test split/],
    ['a missing blur folder', (r: string) => { rmSync(path.join(r, 'train', 'a', 'blur_gamma'), { recursive: true }); return r; }, 'train', /blur_gamma: no such folder \(the blurry images of sequence a/],
    ['unmatched names', (r: string) => { rmSync(path.join(r, 'train', 'a', 'sharp', 'frame_0008.png')); return r; }, 'train', /a: unmatched pairs: frame_0008\.png in blur_gamma\/ but not in sharp\//],
    ['an empty split', (r: string) => { rmSync(path.join(r, 'train', 'a'), { recursive: true }); mkdirSync(path.join(r, 'train', 'x', 'blur_gamma'), { recursive: true }); mkdirSync(path.join(r, 'train', 'x', 'sharp')); return r; }, 'train', /train: no image pairs/],
  ])('refuses %s with a clear error', async (_what, prepare, split, message) => {
    const copy = tmp();
    await synthesize({ frames: citySmall, out: copy, window: 15, split: 'train', seq: 'a' });
    const error = await PairDataset.open(prepare(copy), split as 'train', 'blur_gamma').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses a pair whose images differ in size', async () => {
    const copy = tmp();
    await synthesize({ frames: citySmall, out: copy, window: 31, split: 'train', seq: 'a' });
    copyFileSync(path.join(here, 'fixtures/images/rgb_12x10.png'), path.join(copy, 'train/a/sharp/frame_0016.png'));
    const ds = await PairDataset.open(copy, 'train', 'blur');
    await expect(ds.load(0)).rejects.toThrow(/frame_0016\.png: 240x135, but its sharp image .*frame_0016\.png is 12x10/);
  });
});

describe('augmentations', () => {
  // A 4x4 single-channel-like image: pixel k has RGB (k, 100 + k, 200 + k).
  const image = { width: 4, height: 4, data: Uint8Array.from({ length: 48 }, (_, i) => (i % 3) * 100 + Math.floor(i / 3)) };
  const red = (out: Float32Array, n: number) => Array.from({ length: n }, (_, y) => Array.from({ length: n }, (_, x) => Math.round(out[(y * n + x) * 3] * 255)));
  const same = { permutation: [0, 1, 2] as [number, number, number] };

  it('crops, flips and rotates like numpy', () => {
    // /usr/bin/python3 -c "import numpy as np; a = np.arange(16).reshape(4, 4)[0:3, 0:3]; print(np.rot90(a).tolist(), a[:, ::-1].tolist(), a[::-1].tolist(), np.rot90(a[::-1, ::-1]).tolist())"
    // (on the top-left 3x3 crop of 0..15 laid out 4 wide: values 0 1 2 / 4 5 6 / 8 9 10)
    const out = new Float32Array(27);
    const run = (hflip: boolean, vflip: boolean, rot90: boolean, top = 0, left = 0) => {
      cropAndOrient(image, top, left, 3, { hflip, vflip, rot90, ...same }, out);
      return red(out, 3);
    };
    expect(run(false, false, false)).toEqual([[0, 1, 2], [4, 5, 6], [8, 9, 10]]);
    expect(run(false, false, true)).toEqual([[2, 6, 10], [1, 5, 9], [0, 4, 8]]);
    expect(run(true, false, false)).toEqual([[2, 1, 0], [6, 5, 4], [10, 9, 8]]);
    expect(run(false, true, false)).toEqual([[8, 9, 10], [4, 5, 6], [0, 1, 2]]);
    expect(run(true, true, true)).toEqual([[8, 4, 0], [9, 5, 1], [10, 6, 2]]);
    // np.rot90(np.arange(16).reshape(4, 4)[1:4, 0:3][::-1]).tolist() == [[14, 10, 6], [13, 9, 5], [12, 8, 4]]
    expect(run(false, true, true, 1, 0)).toEqual([[14, 10, 6], [13, 9, 5], [12, 8, 4]]);
  });

  it('permutes channels', () => {
    const out = new Float32Array(3);
    cropAndOrient(image, 1, 2, 1, { hflip: false, vflip: false, rot90: false, permutation: [2, 0, 1] }, out);
    expect(Array.from(out, (v) => Math.round(v * 255))).toEqual([206, 6, 106]);
  });

  it('scales saturation as skimage rgb2hsv -> s * f -> hsv2rgb -> clip', () => {
    // /usr/bin/python3 -c "
    // import numpy as np; from skimage.color import rgb2hsv, hsv2rgb
    // px = np.array([[[0.2, 0.5, 0.9], [1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.9, 0.8, 0.1], [0.3, 0.7, 0.7], [0.0, 0.0, 0.0], [0.95, 0.2, 0.6], [0.1, 0.4, 0.2]]])
    // for f in (0.6, 1.37, 1.5):
    //     h = rgb2hsv(px); h[..., 1] *= f
    //     print(f, np.round(hsv2rgb(h).clip(0, 1), 12).reshape(-1).tolist())"
    const pixels = [0.2, 0.5, 0.9, 1.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.9, 0.8, 0.1, 0.3, 0.7, 0.7, 0.0, 0.0, 0.0, 0.95, 0.2, 0.6, 0.1, 0.4, 0.2];
    const expected: Record<string, number[]> = {
      0.6: [0.48, 0.66, 0.9, 1.0, 0.4, 0.4, 0.5, 0.5, 0.5, 0.9, 0.84, 0.42, 0.46, 0.7, 0.7, 0.0, 0.0, 0.0, 0.95, 0.5, 0.74, 0.22, 0.4, 0.28],
      1.37: [0.0, 0.352, 0.9, 1.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.9, 0.763, 0.0, 0.152, 0.7, 0.7, 0.0, 0.0, 0.0, 0.95, 0.0, 0.4705, 0.0, 0.4, 0.126],
      1.5: [0.0, 0.3, 0.9, 1.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.9, 0.75, 0.0, 0.1, 0.7, 0.7, 0.0, 0.0, 0.0, 0.95, 0.0, 0.425, 0.0, 0.4, 0.1],
    };
    for (const [factor, want] of Object.entries(expected)) {
      const data = Float32Array.from(pixels);
      scaleSaturation(data, Number(factor));
      Array.from(data).forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    }
  });

  it('adds noise of the given sigma and clips', () => {
    const data = new Float32Array(30000).fill(0.5);
    addNoise(data, 0.05, new Rng(3));
    const mean = data.reduce((s, v) => s + v, 0) / data.length;
    const std = Math.sqrt(data.reduce((s, v) => s + (v - mean) ** 2, 0) / data.length);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.002);
    expect(Math.abs(std - 0.05)).toBeLessThan(0.002);
    const bright = new Float32Array(1000).fill(1);
    addNoise(bright, 0.5, new Rng(4));
    expect(Math.max(...bright)).toBe(1);
    expect(Math.min(...bright)).toBeGreaterThanOrEqual(0);
  });
});

describe('BatchLoader', () => {
  // The default assembles batches in a worker thread (the tests here run it from the sources through tsx).
  const options = { patch: 32, batch: 3, augment: ALL, seed: 7 };

  it('produces NHWC batches in [0, 1] with the same geometry for blur and sharp', async () => {
    const ds = await PairDataset.open(root, 'train', 'blur_gamma');
    const loader = new BatchLoader(ds, { ...options, augment: [{ kind: 'flip' }, { kind: 'rot90' }, { kind: 'permute_channels' }] });
    const batch = await loader.next();
    expect(batch.shape).toEqual([3, 32, 32, 3]);
    expect(batch.blur.length).toBe(3 * 32 * 32 * 3);
    for (const v of batch.blur) expect(v >= 0 && v <= 1).toBe(true);
    // Without noise or saturation, each sharp crop is found in its sharp image at some
    // orientation; checked indirectly: blurry and sharp crops are strongly correlated.
    let dot = 0, bb = 0, ss = 0;
    const mb = batch.blur.reduce((s, v) => s + v, 0) / batch.blur.length;
    const ms = batch.sharp.reduce((s, v) => s + v, 0) / batch.sharp.length;
    for (let i = 0; i < batch.blur.length; i++) {
      dot += (batch.blur[i] - mb) * (batch.sharp[i] - ms);
      bb += (batch.blur[i] - mb) ** 2;
      ss += (batch.sharp[i] - ms) ** 2;
    }
    expect(dot / Math.sqrt(bb * ss)).toBeGreaterThan(0.8);
  });

  it('is deterministic for a seed and differs between seeds', async () => {
    const ds = await PairDataset.open(root, 'train', 'blur_gamma');
    const a = new BatchLoader(ds, options);
    const b = new BatchLoader(ds, options);
    const c = new BatchLoader(ds, { ...options, seed: 8 });
    for (let i = 0; i < 3; i++) {
      const [x, y, z] = await Promise.all([a.next(), b.next(), c.next()]);
      expect(x.blur).toEqual(y.blur);
      expect(x.sharp).toEqual(y.sharp);
      expect(x.blur).not.toEqual(z.blur);
    }
  });

  it('restores a saved state exactly, prefetched batch included', async () => {
    const ds = await PairDataset.open(root, 'train', 'blur_gamma');
    const unbroken = new BatchLoader(ds, options);
    const reference = [];
    for (let i = 0; i < 5; i++) reference.push(await unbroken.next());

    const first = new BatchLoader(ds, options);
    await first.next();
    await first.next();
    const saved = JSON.parse(JSON.stringify(first.getState())); // as a checkpoint stores it
    const resumed = new BatchLoader(ds, { ...options, seed: 999 });
    resumed.setState(saved);
    for (let i = 2; i < 5; i++) {
      const batch = await resumed.next();
      expect(batch.blur).toEqual(reference[i].blur);
      expect(batch.sharp).toEqual(reference[i].sharp);
      expect(batch.indices).toEqual(reference[i].indices);
    }
  });

  it('refuses images smaller than the patch', async () => {
    const ds = await PairDataset.open(root, 'train', 'blur_gamma');
    const loader = new BatchLoader(ds, { ...options, patch: 136 });
    await expect(loader.next()).rejects.toThrow(/240x135 is smaller than the training patch 136x136/);
  });

  it('with shake the stored blurry images are never read: the same batches with them deleted, in a worker and in-thread', async () => {
    const shakeOnly = { ...options, augment: [{ kind: 'flip' }, { kind: 'shake', minLength: 3, maxLength: 9 }] as Augmentation[] };
    const reference = new BatchLoader(await PairDataset.open(root, 'train', 'blur_gamma'), shakeOnly);
    const copy = tmp();
    await synthesize({ frames: citySmall, out: copy, window: 7, split: 'train', seq: 'a' }); // as root's train split
    const ds = await PairDataset.open(copy, 'train', 'blur_gamma');
    expect(ds.pairs.map((p) => p.id)).toEqual((await PairDataset.open(root, 'train', 'blur_gamma')).pairs.map((p) => p.id));
    for (const pair of ds.pairs) rmSync(pair.blur);
    const loaders = [new BatchLoader(ds, shakeOnly), new BatchLoader(ds, { ...shakeOnly, workers: 0 })];
    try {
      for (let i = 0; i < 3; i++) {
        const expected = await reference.next();
        for (const loader of loaders) {
          const batch = await loader.next();
          expect(batch.blur).toEqual(expected.blur);
          expect(batch.sharp).toEqual(expected.sharp);
        }
      }
    } finally {
      await Promise.all([reference, ...loaders].map((l) => l.close()));
    }
  });

  it('shake makes each blurry crop anew: the sharp crop convolved with a fresh kernel in linear light, sensor noise aside', async () => {
    const ds = await PairDataset.open(root, 'train', 'blur_gamma');
    const frame = (await ds.load(0)).sharp;
    const patch = 24;
    let kernels = 0;
    for (let sample = 0; sample < 6; sample++) {
      const plan = planSample(new Rng(100 + sample), ds.size, [{ kind: 'shake', minLength: 4, maxLength: 12 }]);
      const kernel = randomKernel(new Rng(plan.shake!.seed), { minLength: 4, maxLength: 12 }); // what the plan's seed draws first
      const side = patch + kernel.size - 1;
      const top = Math.floor(plan.top * (frame.height - side + 1));
      const left = Math.floor(plan.left * (frame.width - side + 1));
      const made = shakeCrop(frame, patch, plan, true);
      // Direct convolution here: out(y, x) = sum_(v, u) k[v][u] * lin(in(y + size-1 - v, x + size-1 - u)), gamma 2.2.
      const lin = (v: number) => (v / 255) ** 2.2;
      let blurError = 0, sharpError = 0, blurVsSharp = 0;
      for (let y = 0; y < patch; y++) for (let x = 0; x < patch; x++) for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let v = 0; v < kernel.size; v++) for (let u = 0; u < kernel.size; u++) {
          sum += kernel.weights[v * kernel.size + u] * lin(frame.data[((top + y + kernel.size - 1 - v) * frame.width + left + x + kernel.size - 1 - u) * 3 + c]);
        }
        const expected = 255 * sum ** (1 / 2.2);
        const i = (y * patch + x) * 3 + c;
        const half = (kernel.size - 1) / 2;
        blurError += Math.abs(made.blur.data[i] - expected);
        sharpError += Math.abs(made.sharp.data[i] - frame.data[((top + y + half) * frame.width + left + x + half) * 3 + c]);
        blurVsSharp += Math.abs(made.blur.data[i] - made.sharp.data[i]);
      }
      const n = patch * patch * 3;
      expect(sharpError).toBe(0); // the sharp crop is the frame's, centred where the kernel is
      expect(blurError / n).toBeLessThan(4); // levels of 255: the sensor noise (sigma <= 0.02 in linear light) only
      expect(blurVsSharp / n).toBeGreaterThan(blurError / n);
      expect(made.blur.width).toBe(patch);
      kernels += kernel.size;
    }
    expect(kernels).toBeGreaterThan(6 * 5); // real kernels, not single taps
    const tiny = { width: 20, height: 20, data: new Uint8Array(20 * 20 * 3) };
    const plan = planSample(new Rng(1), 1, [{ kind: 'shake', minLength: 30, maxLength: 30 }]);
    expect(() => shakeCrop(tiny, 16, plan, true)).toThrow(/a 20x20 image is too small for 16x16 crops blurred by shake kernels of \d+x\d+/);
  });

  it('keeps the noise on the blurry input only', async () => {
    const small = tmp();
    const flat = { width: 16, height: 16, data: new Float32Array(16 * 16 * 3).fill(0.5) };
    for (const sub of ['blur', 'sharp']) await writePng(path.join(small, 'train', 's', sub, 'x.png'), flat);
    const ds = await PairDataset.open(small, 'train', 'blur');
    const loader = new BatchLoader(ds, { patch: 16, batch: 4, augment: [{ kind: 'noise', sigmaMean: 0.1, sigmaStd: 0 }], seed: 1 });
    const batch = await loader.next();
    const level = Math.round(0.5 * 255) / 255;
    expect(batch.sharp.every((v) => Math.abs(v - level) < 1e-7)).toBe(true);
    const std = Math.sqrt(batch.blur.reduce((s, v) => s + (v - level) ** 2, 0) / batch.blur.length);
    expect(std).toBeGreaterThan(0.09);
    expect(std).toBeLessThan(0.11);
  });

  it('gives bit-identical batches and states in a worker and on the main thread, resuming across them', async () => {
    const ds = await PairDataset.open(root, 'train', 'blur_gamma');
    const inThread = new BatchLoader(ds, { ...options, workers: 0 });
    const oneWorker = new BatchLoader(ds, { ...options, workers: 1 });
    const twoWorkers = new BatchLoader(ds, { ...options, workers: 2 });
    try {
      for (let i = 0; i < 3; i++) {
        const [a, b, c] = await Promise.all([inThread.next(), oneWorker.next(), twoWorkers.next()]);
        for (const other of [b, c]) {
          expect(other.blur).toEqual(a.blur);
          expect(other.sharp).toEqual(a.sharp);
          expect(other.indices).toEqual(a.indices);
          expect(other.shape).toEqual(a.shape);
        }
        expect(oneWorker.getState()).toEqual(inThread.getState());
        expect(twoWorkers.getState()).toEqual(inThread.getState());
      }
      // A state saved by the worker path resumes on the main thread and vice versa.
      const saved = JSON.parse(JSON.stringify(oneWorker.getState()));
      const expected = await oneWorker.next();
      inThread.setState(saved);
      expect((await inThread.next()).blur).toEqual(expected.blur);
      twoWorkers.setState(inThread.getState());
      expect((await twoWorkers.next()).sharp).toEqual((await inThread.next()).sharp);
    } finally {
      await Promise.all([oneWorker.close(), twoWorkers.close(), inThread.close()]);
    }
  });

  it('assembles the next batch in the worker while the main thread is blocked', async () => {
    const busyWait = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    // Event-loop turns until `promise` settles: a batch made elsewhere needs one (its message).
    const turnsUntilSettled = async (promise: Promise<unknown>) => {
      let settled = false;
      promise.then(() => (settled = true), () => (settled = true));
      let turns = 0;
      for (; !settled; turns++) await new Promise((resolve) => setImmediate(resolve));
      return turns;
    };
    // A one-byte cache: (almost) every sample is read and decoded again.
    const uncached = () => PairDataset.open(root, 'train', 'blur_gamma', { cacheBytes: 1 });
    const blockedTurns = async (workers: number, blockMs: number) => {
      const loader = new BatchLoader(await uncached(), { ...options, batch: 4, workers });
      try {
        const state = loader.getState();
        await loader.next(); // starts the worker (if any)
        loader.setState(state); // drops the prefetched batch: the next one is planned below
        const next = loader.next();
        busyWait(blockMs); // a synchronous "training step"
        return await turnsUntilSettled(next);
      } finally {
        await loader.close();
      }
    };
    const started = performance.now();
    await new BatchLoader(await uncached(), { ...options, batch: 4, workers: 0 }).next();
    const blockMs = Math.max(200, 10 * (performance.now() - started)); // many batch times
    expect(await blockedTurns(1, blockMs)).toBeLessThanOrEqual(2);
    // The same on the main thread: reading and decoding only start after the block.
    expect(await blockedTurns(0, blockMs)).toBeGreaterThan(2);
  });

  it('reports a corrupt image in the dataset as a UserError naming the file, from the worker too', async () => {
    const broken = tmp();
    const flat = { width: 16, height: 16, data: new Float32Array(16 * 16 * 3).fill(0.5) };
    await writePng(path.join(broken, 'train', 's', 'sharp', 'x.png'), flat);
    mkdirSync(path.join(broken, 'train', 's', 'blur'));
    const bad = path.join(broken, 'train', 's', 'blur', 'x.png');
    writeFileSync(bad, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
    const ds = await PairDataset.open(broken, 'train', 'blur');
    for (const workers of [1, 0]) {
      const loader = new BatchLoader(ds, { patch: 8, batch: 2, augment: [], seed: 1, workers });
      const error = await loader.next().catch((e: unknown) => e);
      await loader.close();
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toBe(`${bad}: corrupt PNG (no image header)`);
    }
  });

  it('close() is idempotent and ends the loader; an unclosed loader does not keep the process alive', async () => {
    const ds = await PairDataset.open(root, 'train', 'blur_gamma');
    const loader = new BatchLoader(ds, options);
    await loader.next();
    const closing = loader.close();
    expect(loader.close()).toBe(closing);
    await closing;
    await expect(loader.next()).rejects.toThrow(/closed/);

    // A run that never calls close(): it must exit on its own once its batches are done.
    const script = `
      import { PairDataset } from './src/runtime/data/dataset.ts';
      import { BatchLoader } from './src/runtime/data/batches.ts';
      const ds = await PairDataset.open(${JSON.stringify(root)}, 'train', 'blur_gamma');
      const batch = await new BatchLoader(ds, { patch: 32, batch: 2, augment: [], seed: 1 }).next();
      console.log('batch', batch.shape.join('x'));`;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.join(here, '..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(output.trim()).toBe('batch 2x32x32x3');
  });
});

