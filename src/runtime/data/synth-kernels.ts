// Blurry/sharp pairs from still images with random camera-shake kernels (kernels.ts): each
// sharp photo, or each `stride`-th frame of a video, is blurred `count` times in linear light
// with sensor noise; the kernel is saved beside the pair. Seeded: the same seed, sources and
// settings give the same pairs. Each pair draws from its own stream (seed, source name,
// copy), so adding a photo changes no other pair.
// Output: ROOT/<split>/<seq>/{blur,blur_gamma,sharp,kernel}/<name>_k<j>.png (the kernel
// image scaled to its peak), built aside and renamed into place (a run asked to stop keeps
// the pairs made so far), then ROOT/manifest.json.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../errors.js';
import { writeDirAtomic } from '../fsutil.js';
import { parseSplit, type Split } from './dataset.js';
import { claimDatasetEntry, sequenceOwnership } from './dataset-root.js';
import { encodePng, fromUint8, readImage, toUint8 } from '../image.js';
import { SENSOR_NOISE, blurImage, randomKernel, type Kernel } from './kernels.js';
import { checkHeldOut, recordSequence, sha256File, type SequenceRecord } from './manifest.js';
import { Rng } from './rng.js';
import { DEFAULT_GAMMA, listFrames } from './synth.js';
import { sequenceName } from './synth-video.js';
import { decodeFrames, probeVideo } from './video.js';

export interface KernelSynthOptions {
  /** A folder of photos (PNG/JPEG), or ... */
  images?: string;
  /** ... a video whose frames (every `stride`-th of `range`, at `size`) are blurred. */
  video?: string;
  stride?: number;
  range?: [number, number];
  size?: [number, number];
  out: string;
  split?: Split;
  seq?: string;
  /** Blurred copies per image, each with its own kernel. */
  count?: number;
  seed?: number;
  /** Kernel path length in pixels, drawn from [minLength, maxLength]. */
  minLength?: number;
  maxLength?: number;
  /** Sensor noise: Poisson gain and read-noise sigma (linear units), each drawn from [0, max]. */
  noiseGain?: number;
  noiseRead?: number;
  gamma?: number;
  license?: string;
  /** Polled between pairs: true ends the run, keeping the pairs made so far. */
  shouldStop?: () => boolean;
  /** Largest frame or photo accepted, in pixels. */
  maxPixels?: number;
  onProgress?: (done: number, total: number) => void;
}

export const KERNEL_DEFAULTS = { count: 4, minLength: 3, maxLength: 32, noiseGain: SENSOR_NOISE.gain, noiseRead: SENSOR_NOISE.read };

/** FNV-1a of a name, mixed with the seed: each source's own stream. */
function streamSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

interface SharpImage { name: string; width: number; height: number; rgb: Uint8Array }

async function* photos(dir: string, maxPixels?: number): AsyncGenerator<SharpImage> {
  for (const file of await listFrames(dir)) {
    const image = await readImage(path.join(dir, file), { maxPixels });
    yield { name: path.parse(file).name, width: image.width, height: image.height, rgb: toUint8(image) };
  }
}

async function* videoFrames(options: KernelSynthOptions, seq: string): AsyncGenerator<SharpImage> {
  const info = await probeVideo(options.video!);
  const [first, last] = options.range ?? [1, info.frames];
  if (!(Number.isInteger(first) && Number.isInteger(last) && first >= 1 && last >= first && last <= info.frames)) {
    throw new UserError(`--range ${first}:${last}: ${options.video} has frames 1..${info.frames}`);
  }
  const stride = options.stride ?? 1;
  const [width, height] = options.size ?? [info.width, info.height];
  let index = 0;
  for await (const rgb of decodeFrames(info, { range: [first, last], size: [width, height] })) {
    if (index % stride === 0) yield { name: `${seq}_${String(first + index).padStart(5, '0')}`, width, height, rgb };
    index++;
  }
}

function kernelImage(kernel: Kernel): Uint8Array {
  const peak = Math.max(...kernel.weights);
  const rgb = new Uint8Array(kernel.size * kernel.size * 3);
  kernel.weights.forEach((w, i) => rgb.fill(Math.round((255 * w) / peak), 3 * i, 3 * i + 3));
  return rgb;
}

export async function synthesizeKernels(options: KernelSynthOptions): Promise<{ dir: string; names: string[]; stopped: boolean }> {
  if ((options.images === undefined) === (options.video === undefined)) throw new UserError('--kernels needs --images DIR or --video FILE (one of them)');
  const split = parseSplit(options.split ?? 'train', '--split');
  const o = { ...KERNEL_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<KernelSynthOptions> & typeof KERNEL_DEFAULTS;
  if (!Number.isInteger(o.count) || o.count < 1) throw new UserError(`--count must be a positive integer, got ${o.count}`);
  if (!(o.minLength >= 1 && o.maxLength >= o.minLength && o.maxLength <= 256)) throw new UserError(`--length ${o.minLength}:${o.maxLength}: expected 1 <= MIN <= MAX <= 256 pixels`);
  const gamma = options.gamma ?? DEFAULT_GAMMA;
  const seed = options.seed ?? 1;
  const source = options.images ?? options.video!;
  const seq = sequenceName(source, options.seq);
  let sources: SequenceRecord['sources'];
  if (options.images !== undefined) {
    const files = await listFrames(options.images);
    sources = await Promise.all(files.map(async (f) => ({ path: path.join(options.images!, f), sha256: await sha256File(path.join(options.images!, f)) })));
  } else {
    await fs.access(options.video!).catch(() => { throw new UserError(`${options.video}: no such file`); });
    sources = [{ path: options.video!, sha256: await sha256File(options.video!) }];
  }
  await checkHeldOut(options.out, split, sources);

  const entry = `${split}/${seq}`;
  await claimDatasetEntry(options.out, entry);
  const dir = path.join(options.out, split, seq);
  const names: string[] = [];
  let stopped = false;
  const kernels: Record<string, Kernel['params'] & { size: number; noiseGain: number; noiseRead: number }> = {};
  await writeDirAtomic(dir, sequenceOwnership(options.out, entry), async (tmp) => {
    for (const sub of ['blur', 'blur_gamma', 'sharp', 'kernel']) await fs.mkdir(path.join(tmp, sub));
    const images = options.images !== undefined ? photos(options.images, options.maxPixels) : videoFrames(options, seq);
    for await (const image of images) {
      if (options.shouldStop?.()) {
        stopped = true;
        break;
      }
      for (let j = 0; j < o.count; j++) {
        const rng = new Rng(streamSeed(seed, `${image.name}#${j}`));
        const kernel = randomKernel(rng, { minLength: o.minLength, maxLength: o.maxLength });
        if (kernel.size >= Math.min(image.width, image.height) / 2) {
          throw new UserError(`${image.name}: ${image.width}x${image.height} is too small for kernels up to --length ${o.maxLength}`);
        }
        const noise = { gain: o.noiseGain * rng.uniform(), read: o.noiseRead * rng.uniform() };
        const pair = blurImage(image.rgb, image.width, image.height, kernel, gamma, noise, rng);
        const name = `${image.name}_k${j}.png`;
        const png = (data: Uint8Array) => encodePng(fromUint8(pair.width, pair.height, data));
        await fs.writeFile(path.join(tmp, 'blur', name), png(pair.blur));
        await fs.writeFile(path.join(tmp, 'blur_gamma', name), png(pair.blurGamma));
        await fs.writeFile(path.join(tmp, 'sharp', name), png(pair.sharp));
        await fs.writeFile(path.join(tmp, 'kernel', name), encodePng(fromUint8(kernel.size, kernel.size, kernelImage(kernel))));
        kernels[name] = { size: kernel.size, ...kernel.params, noiseGain: noise.gain, noiseRead: noise.read };
        names.push(name);
        options.onProgress?.(names.length, 0);
      }
    }
    await fs.writeFile(path.join(tmp, 'kernels.json'), JSON.stringify({ seed, gamma, kernels }, null, 1) + '\n');
  });
  await recordSequence(options.out, {
    split, seq, kind: 'kernels', sources, license: options.license ?? 'not stated', pairs: names.length,
    settings: { ...(stopped ? { stopped: true } : {}), count: o.count, seed, length: [o.minLength, o.maxLength], noise: { gain: o.noiseGain, read: o.noiseRead }, gamma, stride: options.stride, range: options.range, size: options.size },
    created: new Date().toISOString(),
  });
  return { dir, names, stopped };
}
