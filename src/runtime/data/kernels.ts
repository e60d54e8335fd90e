// Camera-shake blur kernels from random trajectories (Boracchi & Foi, "Modeling the
// Performance of Image Restoration From Motion Blur", IEEE TIP 2012; the generator DeblurGAN
// trains with). A trajectory is a random walk of the camera's line of sight sampled at
// `steps` instants: constant speed, its velocity perturbed at each step by Gaussian shake,
// pulled back towards the start (centripetal term), and now and then reversed by an
// impulsive jerk. The point-spread function is the trajectory's path during the exposure,
// splatted with bilinear weights onto a pixel grid, normalized to sum 1 and centred on its
// centre of mass (so a blurred image is not shifted against its sharp one).
// Blurring happens in linear light (x^gamma), followed by Poisson-Gaussian sensor noise and
// the inverse gamma, as a camera records it. Everything is drawn from the seeded Rng.
import type { Rng } from './rng.js';

export interface KernelSettings {
  /** Path length in pixels is drawn uniformly from [minLength, maxLength]. */
  minLength: number;
  maxLength: number;
  /** Trajectory samples. */
  steps?: number;
}

export interface Kernel {
  /** Odd side length. */
  size: number;
  /** size x size weights, row-major, sum 1. */
  weights: Float64Array;
  /** The drawn parameters, to describe or redo the kernel. */
  params: { length: number; exposure: number; centripetal: number; gaussianShake: number; bigShake: number };
}

/** How strongly the shake and the centripetal pull steer the velocity per step (Boracchi &
 *  Foi's anxiety; DeblurGAN's 0.005): smooth curves, not a random walk. */
const ANXIETY = 0.005;

/** A random camera trajectory: `steps` points (x, y) in pixels, total path length `length`. */
export function trajectory(rng: Rng, length: number, steps: number, p: Kernel['params']): Float64Array {
  const points = new Float64Array(2 * steps);
  const speed = length / (steps - 1);
  const angle = 2 * Math.PI * rng.uniform();
  let vx = Math.cos(angle) * speed;
  let vy = Math.sin(angle) * speed;
  let x = 0;
  let y = 0;
  for (let t = 1; t < steps; t++) {
    let dvx = 0;
    let dvy = 0;
    if (rng.chance(p.bigShake)) {
      // an impulsive jerk: turn around, give or take half a radian
      const turn = Math.PI + (rng.uniform() - 0.5);
      dvx = 2 * (vx * Math.cos(turn) - vy * Math.sin(turn));
      dvy = 2 * (vx * Math.sin(turn) + vy * Math.cos(turn));
    }
    dvx += ANXIETY * (p.gaussianShake * rng.normal() - p.centripetal * x) * speed;
    dvy += ANXIETY * (p.gaussianShake * rng.normal() - p.centripetal * y) * speed;
    vx += dvx;
    vy += dvy;
    const norm = Math.hypot(vx, vy) || 1;
    vx = (vx / norm) * speed;
    vy = (vy / norm) * speed;
    x += vx;
    y += vy;
    points[2 * t] = x;
    points[2 * t + 1] = y;
  }
  return points;
}

/** A random motion-blur kernel (see the header). */
export function randomKernel(rng: Rng, settings: KernelSettings): Kernel {
  const steps = settings.steps ?? 1000;
  const params = {
    length: settings.minLength + (settings.maxLength - settings.minLength) * rng.uniform(),
    exposure: 0.5 + 0.5 * rng.uniform(),
    centripetal: 0.7 * rng.uniform(),
    gaussianShake: 10 * rng.uniform(),
    bigShake: (2 * rng.uniform()) / steps, // 0 to 2 jerks per path, on average
  };
  // The path is drawn at full length, the exposure records part of it (as Boracchi & Foi).
  const path = trajectory(rng, params.length / params.exposure, steps, params);
  const used = Math.max(2, Math.round(steps * params.exposure));
  let cx = 0;
  let cy = 0;
  for (let t = 0; t < used; t++) {
    cx += path[2 * t];
    cy += path[2 * t + 1];
  }
  cx /= used;
  cy /= used;
  let radius = 1;
  for (let t = 0; t < used; t++) radius = Math.max(radius, Math.abs(path[2 * t] - cx), Math.abs(path[2 * t + 1] - cy));
  const half = Math.ceil(radius) + 1;
  const size = 2 * half + 1;
  const weights = new Float64Array(size * size);
  for (let t = 0; t < used; t++) {
    const x = path[2 * t] - cx + half;
    const y = path[2 * t + 1] - cy + half;
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    weights[y0 * size + x0] += (1 - fx) * (1 - fy);
    weights[y0 * size + x0 + 1] += fx * (1 - fy);
    weights[(y0 + 1) * size + x0] += (1 - fx) * fy;
    weights[(y0 + 1) * size + x0 + 1] += fx * fy;
  }
  recentre(weights, size);
  const sum = weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) weights[i] /= sum;
  return { size, weights, params };
}

/** Shifts the weights by the sub-pixel offset of their centre of mass (bilinear), so that it
 *  lies exactly on the centre pixel. */
function recentre(weights: Float64Array, size: number): void {
  let sum = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const w = weights[y * size + x];
    sum += w;
    mx += w * x;
    my += w * y;
  }
  const half = (size - 1) / 2;
  const dx = mx / sum - half;
  const dy = my / sum - half;
  const copy = Float64Array.from(weights);
  weights.fill(0);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    // sample the old weights at (x + dx, y + dy)
    const sx = x + dx;
    const sy = y + dy;
    const x0 = Math.floor(sx);
    const y0 = Math.floor(sy);
    const fx = sx - x0;
    const fy = sy - y0;
    const at = (yy: number, xx: number) => (yy >= 0 && yy < size && xx >= 0 && xx < size ? copy[yy * size + xx] : 0);
    weights[y * size + x] = (1 - fx) * (1 - fy) * at(y0, x0) + fx * (1 - fy) * at(y0, x0 + 1) + (1 - fx) * fy * at(y0 + 1, x0) + fx * fy * at(y0 + 1, x0 + 1);
  }
}

export interface BlurredPair {
  width: number;
  height: number;
  /** 8-bit RGB, HWC: the blurred image in linear light (blur_gamma) and as a plain average of
   *  the stored values (blur), and the sharp image cropped to the same region. */
  blurGamma: Uint8Array;
  blur: Uint8Array;
  sharp: Uint8Array;
}

/** The largest sensor noise drawn per pair (each setting uniform in [0, this]): `netc synth
 *  --kernels`' defaults, and the `shake` augmentation's. */
export const SENSOR_NOISE: NoiseSettings = { gain: 4e-4, read: 2e-3 };

export interface NoiseSettings {
  /** Poisson part: variance = gain * linear value. */
  gain: number;
  /** Gaussian read noise (standard deviation, linear units). */
  read: number;
}

/** Blurs an 8-bit RGB image with a kernel. Only the 'valid' region, where the kernel sees
 *  real pixels, is kept, so no border rule is invented: the output is (W - size + 1) x
 *  (H - size + 1), and the sharp image is cropped to it. */
export function blurImage(rgb: Uint8Array, width: number, height: number, kernel: Kernel, gamma: number, noise: NoiseSettings, rng: Rng): BlurredPair {
  const { size, weights } = kernel;
  const half = (size - 1) / 2;
  const ow = width - size + 1;
  const oh = height - size + 1;
  if (ow < 1 || oh < 1) throw new Error(`a ${size}x${size} kernel does not fit a ${width}x${height} image`);
  const taps: { dy: number; dx: number; w: number }[] = [];
  const peak = Math.max(...weights);
  for (let v = 0; v < size; v++) for (let u = 0; u < size; u++) {
    const w = weights[v * size + u];
    // a true convolution: output (y, x) reads input (y - v, x - u), relative to the centre
    if (w > peak * 1e-4) taps.push({ dy: half - v, dx: half - u, w });
  }
  const linear = new Float64Array(256).map((_, i) => Math.pow(i / 255, gamma));
  const encode = (x: number) => Math.round(255 * Math.pow(Math.min(1, Math.max(0, x)), 1 / gamma));
  const blurGamma = new Uint8Array(ow * oh * 3);
  const blur = new Uint8Array(ow * oh * 3);
  const sharp = new Uint8Array(ow * oh * 3);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const cy = y + half;
      const cx = x + half;
      for (let c = 0; c < 3; c++) {
        let sumLinear = 0;
        let sum = 0;
        for (const t of taps) {
          const value = rgb[((cy + t.dy) * width + cx + t.dx) * 3 + c];
          sumLinear += t.w * linear[value];
          sum += t.w * value;
        }
        const o = (y * ow + x) * 3 + c;
        const sd = Math.sqrt(noise.gain * sumLinear + noise.read * noise.read);
        blurGamma[o] = encode(sumLinear + sd * rng.normal());
        blur[o] = Math.min(255, Math.max(0, Math.round(sum + 255 * sd * rng.normal())));
        sharp[o] = rgb[(cy * width + cx) * 3 + c];
      }
    }
  }
  return { width: ow, height: oh, blurGamma, blur, sharp };
}
