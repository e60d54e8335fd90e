import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { PairDataset } from '../src/runtime/data/dataset.js';
import { synthesize } from '../src/runtime/data/synth.js';
import { evaluate } from '../src/runtime/evaluate.js';
import type { RgbImage } from '../src/runtime/image.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const citySmall = path.join(here, '../../shared/fixtures/video/city-small');

// skimage 0.19.3 on pairs made with NumPy from the same frames (window 7, gamma 2.2):
// /usr/bin/python3 -c "
// import numpy as np; from PIL import Image
// from skimage.metrics import peak_signal_noise_ratio as P, structural_similarity as S
// d = '../shared/fixtures/video/city-small/frame_%04d.png'
// for mid in (4, 11, 18, 25):
//     f = np.stack([np.asarray(Image.open(d % k).convert('RGB')) for k in range(mid - 3, mid + 4)]).astype(np.float64)
//     blur = np.round(np.mean((f / 255) ** 2.2, 0) ** (1 / 2.2) * 255).astype(np.uint8)
//     sharp = f[3].astype(np.uint8)
//     print(mid, repr(P(sharp, blur, data_range=255)), repr(S(sharp, blur, gaussian_weights=True, sigma=1.5,
//           use_sample_covariance=False, data_range=255, channel_axis=-1)))"
const SKIMAGE = [
  ['s/frame_0004.png', 27.060541786682336, 0.9698256616420359],
  ['s/frame_0011.png', 27.2640652515682, 0.9712102250489066],
  ['s/frame_0018.png', 26.652218865049456, 0.9675141302768147],
  ['s/frame_0025.png', 26.92159651127103, 0.9681096766477739],
] as const;

describe('evaluate', () => {
  let ds: PairDataset;
  beforeAll(async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'netc-eval-'));
    await synthesize({ frames: citySmall, out: root, window: 7, split: 'test', seq: 's' });
    ds = await PairDataset.open(root, 'test', 'blur_gamma');
  });

  it('scores the do-nothing restore as the blurry baseline (skimage values)', async () => {
    const progress: number[] = [];
    const result = await evaluate(ds, async (image) => image, { onImage: (_s, done) => progress.push(done) });
    expect(progress).toEqual([1, 2, 3, 4]);
    SKIMAGE.forEach(([id, p, s], i) => {
      expect(result.images[i].id).toBe(id);
      expect(result.images[i].baselinePsnr).toBeCloseTo(p, 8);
      expect(result.images[i].baselineSsim).toBeCloseTo(s, 9);
      // the restore returned the blurry image: its score is skimage's for blurry vs sharp
      expect(result.images[i].psnr).toBeCloseTo(p, 8);
      expect(result.images[i].ssim).toBeCloseTo(s, 9);
    });
    expect(result.baselinePsnr).toBeCloseTo(SKIMAGE.reduce((a, [, p]) => a + p, 0) / 4, 8);
    expect(result.baselineSsim).toBeCloseTo(SKIMAGE.reduce((a, [, , s]) => a + s, 0) / 4, 9);
  });

  it('scores a worse restore by its 8-bit output, clamped (skimage values)', async () => {
    // skimage 0.19.3 on the same blurry images brightened by 51 levels and clipped at 255:
    //   worse = np.minimum(blur.astype(int) + 51, 255).astype(np.uint8); P(sharp, worse, ...), S(sharp, worse, ...)
    const WORSE = [[13.512166234545141, 0.8598450625276747], [13.591155678453053, 0.8622836140701065]];
    const brighten = async (image: RgbImage): Promise<RgbImage> => ({ ...image, data: image.data.map((v) => v + 0.2) });
    const result = await evaluate(ds, brighten, { limit: 2 });
    expect(result.images.length).toBe(2);
    WORSE.forEach(([p, s], i) => {
      expect(result.images[i].psnr).toBeCloseTo(p, 8);
      expect(result.images[i].ssim).toBeCloseTo(s, 9);
    });
    expect(result.psnr).toBeCloseTo((WORSE[0][0] + WORSE[1][0]) / 2, 8);
  });

  it('refuses a restore that changes the size', async () => {
    const shrink = async (image: RgbImage): Promise<RgbImage> => ({ width: 8, height: 8, data: image.data.slice(0, 192) });
    await expect(evaluate(ds, shrink)).rejects.toThrow(/restore returned 8x8 for the 240x135 image/);
  });
});
