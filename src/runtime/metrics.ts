// Image quality metrics on 8-bit RGB, as the GOPRO/DeepDeblur evaluations compute them:
// PSNR with data range 255, and SSIM exactly as skimage 0.19
//   structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
//                         data_range=255, channel_axis=-1)
// i.e. per channel: Gaussian-weighted local statistics (sigma 1.5, truncate 3.5 -> 11 taps,
// scipy 'reflect' borders), the SSIM map cropped by 5 pixels on each side, its mean; then the
// mean over the three channels. Computed in float64 like skimage.
import { toUint8, type RgbImage } from './image.js';

/** 8-bit RGB pixels, HWC. */
export interface Rgb8Image {
  width: number;
  height: number;
  data: Uint8Array;
}

const DATA_RANGE = 255;
const SSIM_SIGMA = 1.5;
const SSIM_TRUNCATE = 3.5;
const SSIM_RADIUS = Math.floor(SSIM_TRUNCATE * SSIM_SIGMA + 0.5); // 5, as scipy.ndimage
/** The smallest side SSIM accepts (its window). */
export const SSIM_MIN_SIDE = 2 * SSIM_RADIUS + 1;

/** Clamps and rounds a float image to 8 bits (the GOPRO protocol) for the metrics. */
export function toRgb8(image: RgbImage): Rgb8Image {
  return { width: image.width, height: image.height, data: toUint8(image) };
}

function checkSameSize(a: Rgb8Image, b: Rgb8Image): void {
  if (a.width !== b.width || a.height !== b.height || a.data.length !== b.data.length || a.data.length !== a.width * a.height * 3) {
    throw new Error(`metrics need two RGB images of one size, got ${a.width}x${a.height} and ${b.width}x${b.height}`);
  }
}

/** Peak signal-to-noise ratio in dB over all pixels and channels; Infinity if equal. */
export function psnr(a: Rgb8Image, b: Rgb8Image): number {
  checkSameSize(a, b);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i] - b.data[i];
    sum += d * d;
  }
  const mse = sum / a.data.length;
  return 10 * Math.log10((DATA_RANGE * DATA_RANGE) / mse);
}

/** scipy.ndimage's normalized 1-D Gaussian taps for SSIM_SIGMA / SSIM_TRUNCATE. */
function gaussianTaps(): Float64Array {
  const taps = new Float64Array(2 * SSIM_RADIUS + 1);
  let total = 0;
  for (let k = -SSIM_RADIUS; k <= SSIM_RADIUS; k++) {
    taps[k + SSIM_RADIUS] = Math.exp((-0.5 * k * k) / (SSIM_SIGMA * SSIM_SIGMA));
    total += taps[k + SSIM_RADIUS];
  }
  for (let i = 0; i < taps.length; i++) taps[i] /= total;
  return taps;
}

/** scipy 'reflect' (half-sample symmetric: d c b a | a b c d | d c b a) index. */
function reflect(i: number, n: number): number {
  const period = 2 * n;
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - 1 - j;
  return j;
}

/** Indices 0..n-1 extended by SSIM_RADIUS on each side with scipy 'reflect' borders. */
function reflectedIndices(n: number): Int32Array {
  return Int32Array.from({ length: n + 2 * SSIM_RADIUS }, (_, i) => reflect(i - SSIM_RADIUS, n));
}

/** Separable Gaussian filter of a height x width plane (rows first, then columns, as scipy). */
function gaussianFilter(plane: Float64Array, width: number, height: number, taps: Float64Array): Float64Array {
  const tmp = new Float64Array(plane.length);
  const out = new Float64Array(plane.length);
  const rows = reflectedIndices(height);
  const cols = reflectedIndices(width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = 0; k < taps.length; k++) s += taps[k] * plane[rows[y + k] * width + x];
      tmp[y * width + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = 0; k < taps.length; k++) s += taps[k] * tmp[row + cols[x + k]];
      out[row + x] = s;
    }
  }
  return out;
}

/** Mean structural similarity (see the header); images need sides of at least SSIM_MIN_SIDE. */
export function ssim(a: Rgb8Image, b: Rgb8Image): number {
  checkSameSize(a, b);
  const { width, height } = a;
  if (width < SSIM_MIN_SIDE || height < SSIM_MIN_SIDE) {
    throw new Error(`SSIM needs images of at least ${SSIM_MIN_SIDE}x${SSIM_MIN_SIDE}, got ${width}x${height}`);
  }
  const taps = gaussianTaps();
  const c1 = (0.01 * DATA_RANGE) ** 2;
  const c2 = (0.03 * DATA_RANGE) ** 2;
  const n = width * height;
  let total = 0;
  for (let c = 0; c < 3; c++) {
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    for (let p = 0; p < n; p++) {
      x[p] = a.data[p * 3 + c];
      y[p] = b.data[p * 3 + c];
    }
    const product = (u: Float64Array, v: Float64Array) => u.map((value, i) => value * v[i]);
    const ux = gaussianFilter(x, width, height, taps);
    const uy = gaussianFilter(y, width, height, taps);
    const uxx = gaussianFilter(product(x, x), width, height, taps);
    const uyy = gaussianFilter(product(y, y), width, height, taps);
    const uxy = gaussianFilter(product(x, y), width, height, taps);
    let sum = 0;
    for (let row = SSIM_RADIUS; row < height - SSIM_RADIUS; row++) {
      for (let col = SSIM_RADIUS; col < width - SSIM_RADIUS; col++) {
        const p = row * width + col;
        const vx = uxx[p] - ux[p] * ux[p];
        const vy = uyy[p] - uy[p] * uy[p];
        const vxy = uxy[p] - ux[p] * uy[p];
        const numerator = (2 * ux[p] * uy[p] + c1) * (2 * vxy + c2);
        const denominator = (ux[p] * ux[p] + uy[p] * uy[p] + c1) * (vx + vy + c2);
        sum += numerator / denominator;
      }
    }
    total += sum / ((height - 2 * SSIM_RADIUS) * (width - 2 * SSIM_RADIUS));
  }
  return total / 3;
}
