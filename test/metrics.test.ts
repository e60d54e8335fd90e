import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readImage } from '../src/runtime/image.js';
import { psnr, ssim, toRgb8, type Rgb8Image } from '../src/runtime/metrics.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures/metrics');
const city = (k: number) => path.join(here, `../../shared/fixtures/video/city-small/frame_${String(k).padStart(4, '0')}.png`);
const load = async (file: string) => toRgb8(await readImage(file));

function crop(image: Rgb8Image, w: number, h: number): Rgb8Image {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) data.set(image.data.subarray(y * image.width * 3, (y * image.width + w) * 3), y * w * 3);
  return { width: w, height: h, data };
}

// Reference values: skimage 0.19.3 (Debian python3-skimage), printed by
//   cd test/fixtures/metrics && /usr/bin/python3 make.py
// which calls peak_signal_noise_ratio(a, b, data_range=255) and
//   structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
//                         data_range=255, channel_axis=-1)
// on uint8 RGB arrays read with PIL.
describe('PSNR and SSIM against skimage', () => {
  it('a photo crop vs its blurred, noisy copy (61x47, odd sizes)', async () => {
    const sharp = await load(path.join(fixtures, 'sharp_61x47.png'));
    const degraded = await load(path.join(fixtures, 'degraded_61x47.png'));
    expect(psnr(sharp, degraded)).toBeCloseTo(29.583984288909583, 8);
    expect(ssim(sharp, degraded)).toBeCloseTo(0.7609666612443095, 9);
  });

  it('two video frames 15 apart (240x135)', async () => {
    const a = await load(city(1));
    const b = await load(city(16));
    expect(psnr(a, b)).toBeCloseTo(13.01533509793578, 8);
    expect(ssim(a, b)).toBeCloseTo(0.3006316176051736, 9);
  });

  it('an 11x11 crop, the smallest window-sized image (borders reflect)', async () => {
    const sharp = crop(await load(path.join(fixtures, 'sharp_61x47.png')), 11, 11);
    const degraded = crop(await load(path.join(fixtures, 'degraded_61x47.png')), 11, 11);
    expect(ssim(sharp, degraded)).toBeCloseTo(0.8412124941258399, 9);
    expect(() => ssim(crop(sharp, 10, 11), crop(degraded, 10, 11))).toThrow(/at least 11x11/);
  });

  it('identical images: PSNR infinite, SSIM 1; size mismatch refused', async () => {
    const a = await load(path.join(fixtures, 'sharp_61x47.png'));
    expect(psnr(a, a)).toBe(Infinity);
    expect(ssim(a, a)).toBeCloseTo(1, 12);
    expect(() => psnr(a, crop(a, 60, 47))).toThrow(/one size/);
  });
});
