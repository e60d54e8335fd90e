// Image quality metrics on 8-bit RGB, as the GOPRO/DeepDeblur evaluations compute them:
// PSNR with data range 255, and SSIM exactly as skimage 0.19
//   structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
//                         data_range=255, channel_axis=-1)
// i.e. per channel: Gaussian-weighted local statistics (sigma 1.5, truncate 3.5 -> 11 taps,
// scipy 'reflect' borders), the SSIM map cropped by 5 pixels on each side, its mean; then the
// mean over the three channels. Computed in float64 like skimage; the crop means only
// in-image pixels are ever filtered, so only the kept rows are filtered, one at a time.
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

/** Mean structural similarity (see the header); images need sides of at least SSIM_MIN_SIDE. */
export function ssim(a: Rgb8Image, b: Rgb8Image): number {
  checkSameSize(a, b);
  const { width, height } = a;
  if (width < SSIM_MIN_SIDE || height < SSIM_MIN_SIDE) {
    throw new Error(`SSIM needs images of at least ${SSIM_MIN_SIDE}x${SSIM_MIN_SIDE}, got ${width}x${height}`);
  }
  const taps = gaussianTaps();
  const x = new Float64Array(width * height);
  const y = new Float64Array(width * height);
  const rows = new GaussianRows(width);
  let total = 0;
  for (let c = 0; c < 3; c++) {
    for (let p = 0, i = c; p < x.length; p++, i += 3) {
      x[p] = a.data[i];
      y[p] = b.data[i];
    }
    total += meanSsimOfPlane(x, y, width, height, taps, rows);
  }
  return total / 3;
}

/** One row of the five column-filtered planes: x, y, x*x, y*y, x*y. */
class GaussianRows {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly xx: Float64Array;
  readonly yy: Float64Array;
  readonly xy: Float64Array;
  constructor(width: number) {
    [this.x, this.y, this.xx, this.yy, this.xy] = Array.from({ length: 5 }, () => new Float64Array(width));
  }
}

/** The mean of the cropped SSIM map of one channel. The map is cropped by the filter radius,
 *  so every filtered value it keeps reads only pixels inside the image: the borders' reflection
 *  never matters and each kept row is filtered straight from its 11 neighbouring rows (columns
 *  first, then along the row, as scipy's gaussian_filter goes axis 0 then axis 1). Each 1-D
 *  pass sums like scipy's correlate1d for a symmetric kernel: centre tap, then
 *  (in[-j] + in[+j]) * tap[j] for j = radius down to 1. */
function meanSsimOfPlane(x: Float64Array, y: Float64Array, width: number, height: number, taps: Float64Array, rows: GaussianRows): number {
  const R = SSIM_RADIUS;
  const c1 = (0.01 * DATA_RANGE) ** 2;
  const c2 = (0.03 * DATA_RANGE) ** 2;
  const centre = taps[R];
  const { x: fx, y: fy, xx: fxx, yy: fyy, xy: fxy } = rows;
  let sum = 0;
  for (let row = R; row < height - R; row++) {
    // Column pass for this row, every column.
    for (let col = 0; col < width; col++) {
      const p = row * width + col;
      const xc = x[p];
      const yc = y[p];
      let sx = xc * centre;
      let sy = yc * centre;
      let sxx = xc * xc * centre;
      let syy = yc * yc * centre;
      let sxy = xc * yc * centre;
      for (let j = R; j >= 1; j--) {
        const t = taps[R + j];
        const up = p - j * width;
        const down = p + j * width;
        const xu = x[up], xd = x[down], yu = y[up], yd = y[down];
        sx += (xd + xu) * t;
        sy += (yd + yu) * t;
        sxx += (xd * xd + xu * xu) * t;
        syy += (yd * yd + yu * yu) * t;
        sxy += (xd * yd + xu * yu) * t;
      }
      fx[col] = sx;
      fy[col] = sy;
      fxx[col] = sxx;
      fyy[col] = syy;
      fxy[col] = sxy;
    }
    // Row pass at the kept columns, then the SSIM of each pixel.
    for (let col = R; col < width - R; col++) {
      let ux = fx[col] * centre;
      let uy = fy[col] * centre;
      let uxx = fxx[col] * centre;
      let uyy = fyy[col] * centre;
      let uxy = fxy[col] * centre;
      for (let j = R; j >= 1; j--) {
        const t = taps[R + j];
        ux += (fx[col + j] + fx[col - j]) * t;
        uy += (fy[col + j] + fy[col - j]) * t;
        uxx += (fxx[col + j] + fxx[col - j]) * t;
        uyy += (fyy[col + j] + fyy[col - j]) * t;
        uxy += (fxy[col + j] + fxy[col - j]) * t;
      }
      const vx = uxx - ux * ux;
      const vy = uyy - uy * uy;
      const vxy = uxy - ux * uy;
      const numerator = (2 * ux * uy + c1) * (2 * vxy + c2);
      const denominator = (ux * ux + uy * uy + c1) * (vx + vy + c2);
      sum += numerator / denominator;
    }
  }
  return sum / ((height - 2 * SSIM_RADIUS) * (width - 2 * SSIM_RADIUS));
}
