// Blurry/sharp pairs the GOPRO way straight from a video file: ffmpeg decodes (video.ts), a
// window of consecutive frames is averaged in linear light (blur_gamma) and as stored values
// (blur), the middle frame is the sharp image (averageFrames, as `netc synth --frames`).
// Optional motion-compensated interpolation (`interpolate` frames per stored frame) turns
// a 30 fps clip's averaged copies of a moving edge (ghosts) into a continuous smear, as REDS
// did from 120 fps; the sharp image is always a stored frame, never an interpolated one.
// `exposureMs` gives the window as a shutter time instead of a frame count.
// Output: ROOT/<split>/<seq>/{blur,blur_gamma,sharp}/<seq>_<frame>.png, the sequence built
// aside and renamed into place (a killed run leaves the older sequence whole; a run asked to
// stop keeps the pairs made so far), then ROOT/manifest.json updated.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../errors.js';
import { writeDirAtomic } from '../fsutil.js';
import { parseSplit, type Split } from './dataset.js';
import { claimDatasetEntry, sequenceOwnership } from './dataset-root.js';
import { encodePng, fromUint8 } from '../image.js';
import { checkHeldOut, recordSequence, sha256File } from './manifest.js';
import { DEFAULT_GAMMA, averageFrames } from './synth.js';
import { decodeFrames, probeVideo } from './video.js';


export interface VideoSynthOptions {
  video: string;
  out: string;
  split?: Split;
  /** Default: the file name without extension. */
  seq?: string;
  /** Frames averaged (odd, after interpolation), or ... */
  window?: number;
  /** ... the shutter time in milliseconds. */
  exposureMs?: number;
  /** Stored frames between the sharp frames of consecutive pairs (default: no frame is
   *  used by two windows). */
  stride?: number;
  /** 1-based inclusive range of stored frames to use. */
  range?: [number, number];
  /** Output [width, height] (area-averaged); default the video's. */
  size?: [number, number];
  /** Frames per stored frame after motion-compensated interpolation (default 1: none). */
  interpolate?: number;
  gamma?: number;
  license?: string;
  /** Polled between pairs: true ends the run, keeping the pairs made so far. */
  shouldStop?: () => boolean;
  /** Largest frame or photo accepted, in pixels. */
  maxPixels?: number;
  onProgress?: (pairs: number, frame: number, frames: number) => void;
}

export interface VideoSynthResult {
  dir: string;
  names: string[];
  window: number;
  /** Whether shouldStop ended the run early. */
  stopped: boolean;
}

export function sequenceName(file: string, given?: string): string {
  const seq = given ?? path.parse(file).name;
  if (!seq || /[\\/]/.test(seq) || seq === '.' || seq === '..') throw new UserError(`--seq ${seq}: not a usable folder name`);
  return seq;
}

/** The window in (interpolated) frames for a shutter time. */
export function exposureWindow(exposureMs: number, fps: number, interpolate: number): number {
  const frames = (exposureMs / 1000) * fps * interpolate;
  const odd = Math.max(1, 2 * Math.round((frames - 1) / 2) + 1);
  if (odd < 3) {
    throw new UserError(`--exposure ${exposureMs}: ${frames.toFixed(2)} frames at ${fps.toFixed(2)} fps${interpolate > 1 ? ` x ${interpolate}` : ''}; a blurry image needs at least 3 (raise --exposure or --interpolate)`);
  }
  return odd;
}

export async function synthesizeVideo(options: VideoSynthOptions): Promise<VideoSynthResult> {
  const split = parseSplit(options.split ?? 'train', '--split');
  const k = options.interpolate ?? 1;
  if (!Number.isInteger(k) || k < 1 || k > 32) throw new UserError(`--interpolate ${k}: expected a whole number from 1 to 32`);
  if (options.window !== undefined && options.exposureMs !== undefined) throw new UserError('give --window or --exposure, not both');
  const gamma = options.gamma ?? DEFAULT_GAMMA;
  const seq = sequenceName(options.video, options.seq);
  await fs.access(options.video).catch(() => { throw new UserError(`${options.video}: no such file`); });
  const source = { path: options.video, sha256: await sha256File(options.video) };
  await checkHeldOut(options.out, split, [source]);

  const info = await probeVideo(options.video);
  const [first, last] = options.range ?? [1, info.frames];
  if (!(Number.isInteger(first) && Number.isInteger(last) && first >= 1 && last >= first && last <= info.frames)) {
    throw new UserError(`--range ${first}:${last}: ${options.video} has frames 1..${info.frames}`);
  }
  const window = options.exposureMs !== undefined ? exposureWindow(options.exposureMs, info.fps, k) : (options.window ?? 7);
  if (!Number.isInteger(window) || window < 3 || window % 2 === 0) throw new UserError(`--window must be odd and at least 3 (the sharp image is the middle frame), got ${window}`);
  const half = (window - 1) / 2;
  const span = Math.ceil(window / k); // stored frames one window covers
  const stride = options.stride ?? span;
  if (!Number.isInteger(stride) || stride < 1) throw new UserError(`--stride must be a positive integer, got ${stride}`);
  const stored = last - first + 1;
  const firstCentre = Math.ceil(half / k); // first stored frame with a full window before it
  if (stored < span) {
    throw new UserError(`--range ${first}:${last}: ${stored} frames, fewer than one window (${span} frames)`);
  }
  const [width, height] = options.size ?? [info.width, info.height];

  const entry = `${split}/${seq}`;
  await claimDatasetEntry(options.out, entry);
  const dir = path.join(options.out, split, seq);
  const names: string[] = [];
  let stopped = false;
  await writeDirAtomic(dir, sequenceOwnership(options.out, entry), async (tmp) => {
    for (const sub of ['blur', 'blur_gamma', 'sharp']) await fs.mkdir(path.join(tmp, sub));
    const recent: Uint8Array[] = []; // the last `window` frames
    let index = -1; // of the newest (interpolated) frame, from the range's first frame
    for await (const frame of decodeFrames(info, { range: [first, last], size: [width, height], interpolate: k })) {
      index++;
      if (options.shouldStop?.()) {
        stopped = true;
        break;
      }
      recent.push(frame);
      if (recent.length > window) recent.shift();
      options.onProgress?.(names.length, Math.floor(index / k) + 1, stored);
      if (recent.length < window) continue;
      const centre = index - half;
      if (centre % k !== 0 || (centre / k - firstCentre) % stride !== 0 || centre / k < firstCentre) continue;
      const { blur, blurGamma } = averageFrames(recent, gamma);
      const name = `${seq}_${String(first + centre / k).padStart(5, '0')}.png`;
      const image = (data: Uint8Array) => encodePng(fromUint8(width, height, data));
      await fs.writeFile(path.join(tmp, 'blur', name), image(blur));
      await fs.writeFile(path.join(tmp, 'blur_gamma', name), image(blurGamma));
      await fs.writeFile(path.join(tmp, 'sharp', name), image(recent[half]));
      names.push(name);
    }
    if (names.length === 0 && !stopped) throw new UserError(`${options.video}: frames ${first}..${last} give no full window of ${window} frames${k > 1 ? ` (x${k} interpolated)` : ''}`);
  });
  await recordSequence(options.out, {
    split, seq, kind: 'video', sources: [source], license: options.license ?? 'not stated', pairs: names.length,
    settings: { window, exposureMs: options.exposureMs, interpolate: k, stride, range: [first, last], size: [width, height], gamma, fps: info.fps, ...(stopped ? { stopped: true } : {}) },
    created: new Date().toISOString(),
  });
  return { dir, names, window, stopped };
}
