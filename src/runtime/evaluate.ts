// Evaluation on a set of pairs: each blurry image is restored by the caller's `restore`, the
// result clamped and rounded to 8 bits (GOPRO protocol) and compared with the sharp image
// (PSNR, SSIM as skimage; see metrics.ts), next to the do-nothing baseline (blurry vs sharp).
// Means are plain averages over images, as the GOPRO benchmark tables report them.
import type { PairDataset } from './data/dataset.js';
import { fromUint8, type RgbImage } from './image.js';
import { psnr, ssim, toRgb8 } from './metrics.js';

export interface ImageScore {
  /** `<SEQ>/<file name>` */
  id: string;
  psnr: number;
  ssim: number;
  baselinePsnr: number;
  baselineSsim: number;
  /** Time spent in `restore`. */
  seconds: number;
}

export interface EvalResult {
  psnr: number;
  ssim: number;
  baselinePsnr: number;
  baselineSsim: number;
  images: ImageScore[];
}

export interface EvaluateOptions {
  /** Evaluate only the first `limit` pairs. */
  limit?: number;
  onImage?: (score: ImageScore, done: number, total: number) => void;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

export async function evaluate(dataset: PairDataset, restore: (image: RgbImage) => Promise<RgbImage>, options: EvaluateOptions = {}): Promise<EvalResult> {
  const total = Math.min(dataset.size, options.limit ?? dataset.size);
  const images: ImageScore[] = [];
  for (let i = 0; i < total; i++) {
    const pair = await dataset.load(i);
    const started = performance.now();
    const restored = await restore(fromUint8(pair.blur.width, pair.blur.height, pair.blur.data));
    const seconds = (performance.now() - started) / 1000;
    if (restored.width !== pair.blur.width || restored.height !== pair.blur.height) {
      throw new Error(`restore returned ${restored.width}x${restored.height} for the ${pair.blur.width}x${pair.blur.height} image ${pair.entry.blur}`);
    }
    const output = toRgb8(restored);
    const score: ImageScore = {
      id: pair.entry.id,
      psnr: psnr(output, pair.sharp),
      ssim: ssim(output, pair.sharp),
      baselinePsnr: psnr(pair.blur, pair.sharp),
      baselineSsim: ssim(pair.blur, pair.sharp),
      seconds,
    };
    images.push(score);
    options.onImage?.(score, i + 1, total);
  }
  return {
    psnr: mean(images.map((s) => s.psnr)),
    ssim: mean(images.map((s) => s.ssim)),
    baselinePsnr: mean(images.map((s) => s.baselinePsnr)),
    baselineSsim: mean(images.map((s) => s.baselineSsim)),
    images,
  };
}
