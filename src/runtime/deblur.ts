// Deblurring whole images with a compiled generator.
//
// Sizes: H and W must be multiples of the generator's size multiple m (ops.ts's
// sizeMultiple; 2^(scales-1) = 4 for DeepDeblur's pyramid). Any other size is padded at the
// bottom/right by repeating the last row/column up to the next multiple of m, deblurred, and
// cropped back; the output always has the input's size.
// Tiles: images larger than --tile (default 1280) in either dimension are cut into tiles of
// tile x tile pixels overlapping by --overlap (default 64) pixels; each tile is deblurred on
// its own and overlapping parts are blended with linear ramps, so memory stays bounded by
// one tile's activations. The network's receptive field is far larger than any practical
// overlap, so tiled output differs slightly from whole-image output near tile seams;
// --tile 0 processes the whole image at once. On WebGL, tiles also shrink to what the
// largest texture allows (maxTilePixels): a 1280x720 frame runs as two tiles there.
// Ensemble: with `ensemble` n > 1 each tile also runs flipped (n = 2: left-right; n = 4: and
// up-down, and both) and the flipped-back outputs are averaged: the geometric self-ensemble
// of Lim et al. (EDSR, 2017), n times the work for a model trained with flip augmentation.
// Output: the finest scale, clamped to [0, 1]; writePng rounds it to 8 bits (half to even,
// like numpy), which is the GOPRO evaluation protocol.
import type { Graph, Program } from '../compiler/ir.js';
import { UserError } from '../errors.js';
import { walkNodes } from '../compiler/walk.js';
import { sizeMultiple } from '../compiler/ops.js';
export { sizeMultiple };
import { webglConvPixelLimit } from './backends/webgl-limit.js';
import { ENSEMBLE_FLIPS, ENSEMBLE_VIEWS } from './ensemble.js';
import { runGraph, type ParamSource } from './execute.js';
import { tf } from './tf.js';

/** An RGB image, HWC, values 0..1 (the same shape as image.ts's RgbImage). */
export interface RgbPixels {
  width: number;
  height: number;
  data: Float32Array;
}

export interface TileOptions {
  /** Tile size in pixels (0: never tile). */
  tile: number;
  overlap: number;
  /** Flipped views averaged per tile: 1 (none), 2 or 4 (ENSEMBLE_VIEWS). */
  ensemble?: number;
  onProgress?: (done: number, total: number) => void;
  /** Told once, before the first tile, how the image is cut. */
  onPlan?: (plan: TilePlan) => void;
}

export interface TilePlan {
  tileHeight: number;
  tileWidth: number;
  tiles: number;
}

/** Whole 1280x720 frames fit in one tile: tiling costs overlap recomputation (512 tiles
 *  would do 1.7x the work on 720p) and seams, so it is kept for larger images. */
export const DEFAULT_TILE = 1280;
export const DEFAULT_OVERLAP = 64;

/** Copies the region [top, top+h) x [left, left+w) of `image`, repeating the last row and
 *  column where the region reaches past the image. */
function crop(image: RgbPixels, top: number, left: number, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(top + y, image.height - 1);
    for (let x = 0; x < w; x++) {
      const sx = Math.min(left + x, image.width - 1);
      const from = (sy * image.width + sx) * 3;
      const to = (y * w + x) * 3;
      out[to] = image.data[from];
      out[to + 1] = image.data[from + 1];
      out[to + 2] = image.data[from + 2];
    }
  }
  return out;
}

/** Tile start positions along an axis of `size` pixels. */
export function tileStarts(size: number, tile: number, overlap: number): number[] {
  if (size <= tile) return [0];
  const step = Math.max(1, tile - overlap);
  const starts: number[] = [];
  for (let s = 0; s + tile < size; s += step) starts.push(s);
  starts.push(size - tile);
  return starts;
}

/** Blend weight of position i in a tile of `length` at `start` on an axis of `size`. */
function ramp(i: number, start: number, length: number, size: number, overlap: number): number {
  let w = 1;
  if (start > 0) w = Math.min(w, (i + 0.5) / overlap);
  if (start + length < size) w = Math.min(w, (length - i - 0.5) / overlap);
  return w;
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** An h x w RGB image (HWC) flipped; its own inverse. In JavaScript because tfjs's CPU
 *  reverse kernel took 4 s for one 1280x720 image. */
function flipRgb(data: Float32Array, h: number, w: number, [leftRight, upDown]: [boolean, boolean]): Float32Array {
  if (!leftRight && !upDown) return data;
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++) {
    const from = (upDown ? h - 1 - y : y) * w;
    for (let x = 0; x < w; x++) {
      const p = (from + (leftRight ? w - 1 - x : x)) * 3;
      const q = (y * w + x) * 3;
      out[q] = data[p];
      out[q + 1] = data[p + 1];
      out[q + 2] = data[p + 2];
    }
  }
  return out;
}

/** Finest-scale output of the generator for one padded region (NHWC data, batch 1). */
async function runRegion(graph: Graph, params: ParamSource, data: Float32Array, h: number, w: number): Promise<Float32Array> {
  const input = tf.tensor4d(data, [1, h, w, 3]);
  const outputs = runGraph(graph, [input], params);
  input.dispose();
  const finest = outputs.find((o) => o.shape[1] === h && o.shape[2] === w);
  const result = finest ? ((await finest.data()) as Float32Array) : undefined;
  tf.dispose(outputs);
  if (!result) throw new Error(`generator '${graph.name}' has no output of the input's size ${h}x${w}`);
  return result;
}

/** runRegion averaged over the ensemble's flipped views, each flipped back. */
async function runEnsemble(graph: Graph, params: ParamSource, data: Float32Array, h: number, w: number, ensemble: number): Promise<Float32Array> {
  const flips = ENSEMBLE_FLIPS[ensemble];
  if (!flips) throw new Error(`ensemble ${ensemble}: expected one of ${ENSEMBLE_VIEWS.join(', ')} (the CLI checks --ensemble as it parses it)`);
  if (flips.length === 1) return runRegion(graph, params, data, h, w);
  const sum = new Float32Array(h * w * 3);
  for (const flip of flips) {
    const out = flipRgb(await runRegion(graph, params, flipRgb(data, h, w, flip), h, w), h, w, flip);
    for (let i = 0; i < sum.length; i++) sum[i] += out[i] / flips.length;
  }
  return sum;
}

/** The most input pixels one tile may have on the active backend (Infinity: no limit).
 *  Only WebGL has one (see webglConvPixelLimit); the tile shrinks to fit it. */
export function maxTilePixels(graph: Graph): number {
  if (tf.getBackend() !== 'webgl') return Infinity;
  const [, h, w] = graph.inputs[0].shape;
  let limit = Infinity;
  for (const { node } of walkNodes(graph)) {
    if (node.op !== 'conv2d') continue;
    const [kh, kw, inChannels] = node.params[0].shape; // the HWIO weight
    const outputPixelsPerInputPixel = (node.shape[1] * node.shape[2]) / (h * w);
    limit = Math.min(limit, webglConvPixelLimit(kh * kw * inChannels) / outputPixelsPerInputPixel);
  }
  return limit;
}

/** Deblurs one image with the program's generator (see the header for sizes and tiles). */
export async function deblurImage(program: Program, params: ParamSource, image: RgbPixels, options: TileOptions): Promise<RgbPixels> {
  const graph = program.models[program.generator];
  const m = sizeMultiple(graph);
  const H = roundUp(image.height, m);
  const W = roundUp(image.width, m);
  if (options.tile < 0 || options.overlap < 0) throw new UserError('--tile and --overlap must be >= 0');
  let tile = options.tile === 0 ? Math.max(H, W) : roundUp(options.tile, m);
  if (options.tile !== 0 && options.overlap >= tile) throw new UserError(`--overlap ${options.overlap} must be smaller than --tile ${options.tile}`);
  const limit = maxTilePixels(graph);
  if (Math.min(tile, H) * Math.min(tile, W) > limit) {
    tile = Math.max(m, Math.floor(Math.sqrt(limit) / m) * m, roundUp(options.overlap + 1, m));
  }
  const tileH = Math.min(tile, H);
  const tileW = Math.min(tile, W);
  const rows = tileStarts(H, tileH, options.overlap);
  const cols = tileStarts(W, tileW, options.overlap);
  const total = rows.length * cols.length;
  options.onPlan?.({ tileHeight: tileH, tileWidth: tileW, tiles: total });

  const sum = new Float32Array(image.height * image.width * 3);
  const weight = new Float32Array(image.height * image.width);
  let done = 0;
  options.onProgress?.(0, total);
  for (const top of rows) {
    for (const left of cols) {
      const out = await runEnsemble(graph, params, crop(image, top, left, tileH, tileW), tileH, tileW, options.ensemble ?? 1);
      for (let y = 0; y < tileH && top + y < image.height; y++) {
        const wy = total === 1 ? 1 : ramp(y, top, tileH, H, options.overlap);
        for (let x = 0; x < tileW && left + x < image.width; x++) {
          const wgt = total === 1 ? 1 : wy * ramp(x, left, tileW, W, options.overlap);
          const p = (top + y) * image.width + left + x;
          const q = (y * tileW + x) * 3;
          sum[p * 3] += wgt * out[q];
          sum[p * 3 + 1] += wgt * out[q + 1];
          sum[p * 3 + 2] += wgt * out[q + 2];
          weight[p] += wgt;
        }
      }
      options.onProgress?.(++done, total);
    }
  }
  const data = new Float32Array(sum.length);
  for (let i = 0; i < data.length; i++) {
    const v = sum[i] / weight[Math.floor(i / 3)];
    data[i] = Math.min(1, Math.max(0, v));
  }
  return { width: image.width, height: image.height, data };
}
