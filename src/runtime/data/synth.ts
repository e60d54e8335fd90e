// Blurry/sharp pairs made the GOPRO way from consecutive video frames (Nah et al. 2017):
// a blurry image is the average of `window` consecutive frames, the sharp image is the
// middle one. Two blurry versions are written, named as in GOPRO_Large:
//   blur_gamma/  frames linearized with x^gamma, averaged, then x^(1/gamma) (the camera
//                response taken into account; DeepDeblur-PyTorch's default `blur_key`)
//   blur/        the plain average of the stored frame values (a linear camera response)
// Windows start every `stride` frames (default: `window`, so no frame is used twice); the
// window must be odd so that it has a middle frame. Output, for each window:
//   ROOT/<split>/<SEQ>/{blur,blur_gamma,sharp}/<middle frame's name>.png
// All values are computed in float64 from the 8-bit frames and rounded half to even once.
// The sequence folder is built aside and renamed into place (writeDirAtomic): a killed run
// leaves no partial sequence; a finished one replaces an older one, but only one netc wrote
// (ROOT/manifest.json lists it: data/dataset-root.ts). A run asked to stop (`shouldStop`,
// SIGINT/SIGTERM in the CLI) ends after the current pair and keeps the pairs made so far as
// the sequence (none made: nothing changes).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../errors.js';
import { writeDirAtomic } from '../fsutil.js';
import { parseSplit, type Split } from './dataset.js';
import { claimDatasetEntry, recordDatasetEntry, sequenceOwnership } from './dataset-root.js';
import { encodePng, readImage, roundHalfEven, toUint8, type RgbImage } from '../image.js';

export interface SynthOptions {
  /** Folder of consecutive frames (PNG/JPEG), ordered by file name (numbers compared as numbers). */
  frames: string;
  /** Only frames first..last (1-based, inclusive, in that order). */
  range?: [number, number];
  /** Dataset root; pairs go to ROOT/<split>/<seq>/. */
  out: string;
  window?: number;
  stride?: number;
  gamma?: number;
  split?: Split;
  /** Sequence name; default: the frames folder's name. */
  seq?: string;
  /** Largest frame accepted, in pixels (readImage's maxPixels). */
  maxPixels?: number;
  onProgress?: (done: number, total: number) => void;
  /** Polled between pairs: true stops the run, keeping the pairs made so far. */
  shouldStop?: () => boolean;
}

export interface SynthResult {
  /** The sequence folder written. */
  dir: string;
  /** File names of the pairs written (the middle frames' names, as .png). */
  names: string[];
  /** Pairs the frames make (names.length unless stopped). */
  total: number;
  /** Whether shouldStop ended the run early. */
  stopped: boolean;
}

export const DEFAULT_WINDOW = 7;
export const DEFAULT_GAMMA = 2.2;
const FRAME_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** The blurry images of a window of 8-bit frames: [plain average, gamma-domain average]. */
export function averageFrames(frames: Uint8Array[], gamma: number): { blur: Uint8Array; blurGamma: Uint8Array } {
  const n = frames[0].length;
  const blur = new Uint8Array(n);
  const blurGamma = new Uint8Array(n);
  // x^gamma of the 256 possible values, so the pixel loop does no pow but the last one.
  const linear = new Float64Array(256).map((_, v) => Math.pow(v / 255, gamma));
  for (let i = 0; i < n; i++) {
    let sum = 0;
    let sumLinear = 0;
    for (const frame of frames) {
      sum += frame[i];
      sumLinear += linear[frame[i]];
    }
    blur[i] = roundHalfEven(sum / frames.length);
    blurGamma[i] = roundHalfEven(Math.pow(sumLinear / frames.length, 1 / gamma) * 255);
  }
  return { blur, blurGamma };
}

/** The image files of a frames folder in playing order. */
export async function listFrames(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${dir}: no such folder`);
    if (code === 'ENOTDIR') throw new UserError(`${dir}: not a folder (give the folder of video frames)`);
    throw new UserError(`${dir}: cannot read (${(err as Error).message})`);
  }
  const frames = entries.filter((name) => FRAME_EXTENSIONS.has(path.extname(name).toLowerCase()));
  if (frames.length === 0) throw new UserError(`${dir}: no PNG or JPEG frames in this folder`);
  return frames.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new UserError(`${what} must be a positive integer, got ${value}`);
  return value;
}

/** Writes the pairs of one sequence (see the header). */
export async function synthesize(options: SynthOptions): Promise<SynthResult> {
  const window = positiveInteger(options.window ?? DEFAULT_WINDOW, '--window');
  if (window % 2 === 0 || window < 3) throw new UserError(`--window must be odd and at least 3 (the sharp image is the middle frame), got ${window}`);
  const stride = positiveInteger(options.stride ?? window, '--stride');
  const gamma = options.gamma ?? DEFAULT_GAMMA;
  if (!(gamma > 0) || !Number.isFinite(gamma)) throw new UserError(`--gamma must be a positive number, got ${gamma}`);
  const split = parseSplit(options.split ?? 'train', '--split');
  const seq = options.seq ?? path.basename(path.resolve(options.frames));
  if (!seq || seq.includes('/') || seq.includes('\\') || seq.startsWith('.')) throw new UserError(`--seq ${seq}: not a usable folder name`);

  const all = await listFrames(options.frames);
  const [first, last] = options.range ?? [1, all.length];
  if (!(Number.isInteger(first) && Number.isInteger(last) && first >= 1 && last >= first && last <= all.length)) {
    throw new UserError(`--range ${first}:${last}: ${options.frames} has frames 1..${all.length}`);
  }
  // Frames first..last (1-based, in name order): lets a test split hold out later frames.
  const names = all.slice(first - 1, last);
  if (window > names.length) {
    throw new UserError(`${options.frames}: ${names.length} frames, fewer than --window ${window}`);
  }
  const starts: number[] = [];
  for (let s = 0; s + window <= names.length; s += stride) starts.push(s);

  const loaded = new Map<number, RgbImage>();
  let size: { width: number; height: number; name: string } | undefined;
  const frame = async (index: number): Promise<Uint8Array> => {
    let image = loaded.get(index);
    if (!image) {
      const file = path.join(options.frames, names[index]);
      image = await readImage(file, { maxPixels: options.maxPixels });
      if (!size) size = { width: image.width, height: image.height, name: names[index] };
      else if (image.width !== size.width || image.height !== size.height) {
        throw new UserError(`${file}: ${image.width}x${image.height}, but ${size.name} is ${size.width}x${size.height}; all frames must have one size`);
      }
      loaded.set(index, image);
    }
    return toUint8(image);
  };

  const dir = path.join(options.out, split, seq);
  const entry = `${split}/${seq}`;
  await claimDatasetEntry(options.out, entry);
  const written: string[] = [];
  let stopped = false;
  await writeDirAtomic(dir, sequenceOwnership(options.out, entry), async (tmp) => {
    for (const sub of ['blur', 'blur_gamma', 'sharp']) await fs.mkdir(path.join(tmp, sub));
    for (const [done, start] of starts.entries()) {
      if (options.shouldStop?.()) {
        stopped = true;
        if (written.length === 0) throw new StoppedBeforeAnyPair();
        break;
      }
      for (const index of loaded.keys()) if (index < start) loaded.delete(index); // keep memory to one window
      const window8: Uint8Array[] = [];
      for (let i = start; i < start + window; i++) window8.push(await frame(i));
      const middle = start + (window - 1) / 2;
      const { blur, blurGamma } = averageFrames(window8, gamma);
      const name = `${path.parse(names[middle]).name}.png`;
      const { width, height } = size!;
      const asImage = (data: Uint8Array): RgbImage => ({ width, height, data: Float32Array.from(data, (v) => v / 255) });
      await fs.writeFile(path.join(tmp, 'blur', name), encodePng(asImage(blur)));
      await fs.writeFile(path.join(tmp, 'blur_gamma', name), encodePng(asImage(blurGamma)));
      await fs.writeFile(path.join(tmp, 'sharp', name), encodePng(asImage(window8[(window - 1) / 2])));
      written.push(name);
      options.onProgress?.(done + 1, starts.length);
    }
  }).catch((err: unknown) => {
    if (!(err instanceof StoppedBeforeAnyPair)) throw err;
  });
  if (written.length > 0) {
    await recordDatasetEntry(options.out, entry, {
      frames: path.resolve(options.frames), range: [first, last], window, stride, gamma, pairs: written.length,
      ...(stopped ? { stoppedAfter: `${written.length} of ${starts.length} pairs` } : {}), createdAt: new Date().toISOString(),
    });
  }
  return { dir, names: written, total: starts.length, stopped };
}

class StoppedBeforeAnyPair extends Error {}
