// `netc sweep` end to end on two tiny variants and a tiny synthesized dataset: each variant
// trained with the same budget, scored on the test split exactly as `netc eval` scores its
// run (eval itself is checked against skimage in metrics.test.ts / eval-cli.test.ts), costed
// as `netc compile` costs it at 1280x720, and an interrupted sweep resumed without retraining.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { OFFICIAL_MODEL } from './helpers/models.js';
import { useTrainingData } from './helpers/train-data.js';

const dirs = useTrainingData('netc-sweep-');
const GRID = ['--set', 'feats=2,4', '--set', 'blocks=1', '--set', 'scales=2', '--set', 'patch=16', '--set', 'batch=2'];
const NAMES = ['deepdeblur-pytorch-feats2-blocks1-scales2-patch16-batch2', 'deepdeblur-pytorch-feats4-blocks1-scales2-patch16-batch2'];

interface Record { name: string; set: { [k: string]: number }; steps: number; params: number; gflop720p: number; psnr: number; ssim: number; baselinePsnr: number; psnrGain: number; testImages: number; budget: string }
const readSweep = async (out: string) => JSON.parse(await fs.readFile(path.join(out, 'sweep.json'), 'utf8')) as { budget: string; variants: Record[] };

describe('netc sweep', () => {
  it('trains two variants with one budget, scores and costs each, and resumes without retraining', async () => {
    const out = path.join(dirs.tmp, 'sweep');
    const sweep = () => runCli(['sweep', OFFICIAL_MODEL, '--data', dirs.data, ...GRID, '--steps', '3', '--out', out, '--backend', 'cpu']);
    const first = await sweep();
    expect(first.code, first.stderr).toBe(0);
    const { variants } = await readSweep(out);
    expect(variants.map((v) => v.name).sort()).toEqual(NAMES);

    for (const v of variants) {
      expect(v.steps).toBe(3);
      expect(v.budget).toBe('3 steps');
      const set = Object.entries(v.set).flatMap(([k, value]) => ['--set', `${k}=${value}`]);
      // the score: what netc eval says of the variant's run on the test split
      const evaluated = await runCli(['eval', OFFICIAL_MODEL, '--weights', path.join(out, 'runs', v.name), '--data', dirs.data, '--json', '--backend', 'cpu']);
      expect(evaluated.code, evaluated.stderr).toBe(0);
      const e = JSON.parse(evaluated.stdout);
      expect(v.testImages).toBe(3);
      expect(v.psnr).toBeCloseTo(e.psnr, 6);
      expect(v.ssim).toBeCloseTo(e.ssim, 6);
      expect(v.psnrGain).toBeCloseTo(e.psnr - e.baselinePsnr, 6);
      // the cost: what netc compile reports at 1280x720
      const compiled = await runCli(['compile', OFFICIAL_MODEL, ...set, '--input', '720x1280', '--json']);
      const summary = JSON.parse(compiled.stdout);
      expect(v.params).toBe(summary.params);
      expect(v.gflop720p * 1e9).toBeCloseTo(summary.flops, -3);
    }
    expect(variants[0].params).not.toBe(variants[1].params);

    const table = await fs.readFile(path.join(out, 'sweep.md'), 'utf8');
    for (const name of NAMES) expect(table).toMatch(new RegExp(`\\| ${name}( \\*)? \\|`));
    const svg = await fs.readFile(path.join(out, 'pareto.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    for (const name of NAMES) expect(svg).toContain(name);

    // Interrupted after training the second variant, before scoring it: the rerun scores it
    // from its checkpoint (no training) and keeps the first.
    const kept = variants.find((v) => v.name === NAMES[0])!;
    await fs.writeFile(path.join(out, 'sweep.json'), JSON.stringify({ netc: 'sweep', budget: '3 steps', data: dirs.data, variants: [kept] }));
    const again = await sweep();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`${NAMES[0]}: done in an earlier run, kept`);
    expect(again.stderr).not.toMatch(new RegExp(`${NAMES[1]}: training`));
    expect(again.stderr).toContain(`${NAMES[1]}: evaluating step 3`);
    const resumed = await readSweep(out);
    expect(resumed.variants.map((v) => v.name).sort()).toEqual(NAMES);
    expect(resumed.variants.find((v) => v.name === NAMES[1])!.psnr).toBeCloseTo(variants.find((v) => v.name === NAMES[1])!.psnr, 9);
  }, 240_000);

  it('needs one budget, and a constant some file declares', async () => {
    const out = path.join(dirs.tmp, 'bad');
    const none = await runCli(['sweep', OFFICIAL_MODEL, '--data', dirs.data, '--out', out]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('give the budget as --steps N or --minutes M (one of them)');
    const unknown = await runCli(['sweep', OFFICIAL_MODEL, '--data', dirs.data, '--set', 'widht=2,4', '--steps', '1', '--out', out]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('--set widht: no model file declares this constant');
  });
});
