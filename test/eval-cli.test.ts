// `netc eval` on a tiny trained run: the JSON report's fields, its baseline against skimage
// (values computed with /usr/bin/python3 on the synthesized test pairs: peak_signal_noise_ratio
// and structural_similarity(gaussian_weights, sigma 1.5, use_sample_covariance=False)), and
// the model's scores against deblurImage + metrics.ts run here directly.
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpointFor } from '../src/runtime/checkpoint.js';
import { DEFAULT_OVERLAP, DEFAULT_TILE, deblurImage } from '../src/runtime/deblur.js';
import { readImage } from '../src/runtime/image.js';
import { psnr, ssim, toRgb8 } from '../src/runtime/metrics.js';
import { disposeParams } from '../src/runtime/params.js';
import { runCli } from './helpers/cli.js';
import { compileModel, OFFICIAL_MODEL } from './helpers/models.js';
import { useTrainingData } from './helpers/train-data.js';

const SET = { blocks: 1, feats: 4, scales: 2, patch: 16, batch: 2 };
const SET_ARGS = Object.entries(SET).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
// skimage 0.19 on test/city/{blur_gamma,sharp}/frame_00{23,26,29}.png
const BASELINE = [
  { id: 'city/frame_0023.png', psnr: 36.4587610986722, ssim: 0.996206921695335 },
  { id: 'city/frame_0026.png', psnr: 37.80527092147631, ssim: 0.9974328928040638 },
  { id: 'city/frame_0029.png', psnr: 36.537530357282606, ssim: 0.9963346380329489 },
];

const dirs = useTrainingData('netc-eval-');
let runDir: string;

beforeAll(async () => {
  runDir = path.join(dirs.tmp, 'run');
  const trained = await runCli(['train', OFFICIAL_MODEL, '--data', dirs.data, '--out', runDir, ...SET_ARGS, '--steps', '3', '--val-every', '0', '--backend', 'tfjs-cpu']);
  if (trained.code !== 0) throw new Error(trained.stderr);
});

describe('netc eval', () => {
  it('--json: means and per-image PSNR/SSIM, the baseline as skimage, the model as metrics.ts', async () => {
    // no --set: the checkpoint's own --set values are used
    const result = await runCli(['eval', '--model', OFFICIAL_MODEL, '--weights', runDir, '--data', dirs.data, '--json', '--backend', 'tfjs-cpu']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.step).toBe(3);
    expect(report.images.map((i: { id: string }) => i.id)).toEqual(BASELINE.map((b) => b.id));
    BASELINE.forEach((b, i) => {
      expect(report.images[i].baselinePsnr).toBeCloseTo(b.psnr, 6);
      expect(report.images[i].baselineSsim).toBeCloseTo(b.ssim, 6);
    });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(report.baselinePsnr).toBeCloseTo(mean(BASELINE.map((b) => b.psnr)), 6);
    expect(report.baselineSsim).toBeCloseTo(mean(BASELINE.map((b) => b.ssim)), 6);

    const program = compileModel(OFFICIAL_MODEL, SET, [16, 16]);
    const { params } = await loadCheckpointFor(program, runDir);
    try {
      const scores = [];
      for (const name of ['frame_0023', 'frame_0026', 'frame_0029']) {
        const blur = await readImage(path.join(dirs.data, 'test/city/blur_gamma', `${name}.png`));
        const sharp = toRgb8(await readImage(path.join(dirs.data, 'test/city/sharp', `${name}.png`)));
        const out = toRgb8(await deblurImage(program, params, blur, { tile: DEFAULT_TILE, overlap: DEFAULT_OVERLAP }));
        scores.push({ psnr: psnr(out, sharp), ssim: ssim(out, sharp) });
      }
      scores.forEach((s, i) => {
        expect(report.images[i].psnr).toBeCloseTo(s.psnr, 9);
        expect(report.images[i].ssim).toBeCloseTo(s.ssim, 9);
      });
      expect(report.psnr).toBeCloseTo(mean(scores.map((s) => s.psnr)), 9);
      expect(report.ssim).toBeCloseTo(mean(scores.map((s) => s.ssim)), 9);
    } finally {
      disposeParams(params);
    }
  });

  it('prints a table with the mean and the gain; --limit; a wrong --set names the mismatch', async () => {
    const checkpoint = path.join(runDir, 'checkpoints', 'step-0000003');
    const table = await runCli(['eval', '--model', OFFICIAL_MODEL, '--weights', checkpoint, '--data', dirs.data, '--limit', '1', '--backend', 'tfjs-cpu']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('city/frame_0023.png');
    expect(table.stdout).not.toContain('city/frame_0026.png');
    expect(table.stdout).toMatch(/mean of 1 .*\n.*dB over the blurry input/);
    const wrong = await runCli(['eval', '--model', OFFICIAL_MODEL, '--weights', runDir, '--data', dirs.data, '--set', 'feats=8', '--backend', 'tfjs-cpu']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('does not fit model');
  });
});
