// A sweep: every combination of model files and --set values trained with the same budget
// (steps, or minutes of training time), each evaluated on the test split, and compared:
//   DIR/sweep.json   one record per variant (cost, speed, held-out PSNR/SSIM and gains)
//   DIR/sweep.md     the same as a Markdown table, best gain first
//   DIR/pareto.svg   held-out PSNR gain against GFLOP at 1280x720, the Pareto front marked
//   DIR/runs/<variant>/   each variant's run directory (run.ts layout)
// An interrupted sweep resumes: finished variants are kept, a variant cut short continues
// from its last checkpoint with the budget it has left.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { graphCost } from '../../compiler/cost.js';
import type { Program } from '../../compiler/ir.js';
import { UserError } from '../../errors.js';
import { loadCheckpointFor, readCheckpoint } from '../checkpoint.js';
import { PairDataset } from '../data/dataset.js';
import { DEFAULT_OVERLAP, DEFAULT_TILE, deblurImage } from '../deblur.js';
import { evaluate } from '../evaluate.js';
import { writeFileAtomic } from '../fsutil.js';
import { disposeParams } from '../params.js';
import { paretoPlot } from './plot.js';
import { trainRun, type RunOptions } from './run.js';

export interface Variant {
  name: string;
  file: string;
  set: Record<string, number>;
}

export interface VariantResult extends Variant {
  params: number;
  /** GFLOP of one 1280x720 forward pass. */
  gflop720p: number;
  steps: number;
  trainSeconds: number;
  stepsPerSecond: number;
  psnr: number;
  ssim: number;
  baselinePsnr: number;
  baselineSsim: number;
  psnrGain: number;
  ssimGain: number;
  testImages: number;
  /** The budget this variant was trained with. */
  budget: string;
}

export interface SweepOptions {
  files: string[];
  /** Values per constant; each constant applies to the files that declare it. */
  grid: Record<string, number[]>;
  dataRoot: string;
  outDir: string;
  /** The budget: updates, or minutes of training time per variant. */
  steps?: number;
  minutes?: number;
  seed: number;
  /** Test pairs each variant is scored on (default: all). */
  evalImages?: number;
  workers?: number;
  /** Compiles a file with --set values (at an input size); the CLI's, which prints warnings. */
  compile: (file: string, set: Record<string, number>, input?: [number, number]) => Program;
  onMessage?: (line: string) => void;
  onStep?: RunOptions['onStep'];
  shouldStop?: () => boolean;
}

const setText = (set: Record<string, number>) => Object.entries(set).map(([k, v]) => `${k}=${v}`).join(' ');

/** Files x the cartesian product of the values of the constants each file declares. */
export function variants(files: string[], grid: Record<string, number[]>, constantsOf: (file: string) => string[]): Variant[] {
  const unknown = Object.keys(grid).filter((k) => !files.some((f) => constantsOf(f).includes(k)));
  if (unknown.length) throw new UserError(`--set ${unknown.join(', ')}: no model file declares ${unknown.length > 1 ? 'these constants' : 'this constant'}`);
  const out: Variant[] = [];
  for (const file of files) {
    const keys = Object.keys(grid).filter((k) => constantsOf(file).includes(k));
    let combos: Record<string, number>[] = [{}];
    for (const key of keys) combos = combos.flatMap((c) => grid[key].map((v) => ({ ...c, [key]: v })));
    for (const set of combos) {
      const stem = path.basename(file, path.extname(file));
      const name = [stem, ...Object.entries(set).map(([k, v]) => `${k}${v}`)].join('-');
      out.push({ name, file, set });
    }
  }
  const names = new Set<string>();
  for (const v of out) {
    if (names.has(v.name)) throw new UserError(`two variants are both named ${v.name}; give the model files different names`);
    names.add(v.name);
  }
  return out;
}

async function readResults(file: string): Promise<VariantResult[]> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return [];
  try {
    const json = JSON.parse(text) as { variants: VariantResult[] };
    return json.variants ?? [];
  } catch {
    throw new UserError(`${file}: not a sweep.json netc wrote (choose another --out)`);
  }
}

/** Indices of the results on the Pareto front: no other variant is at most as costly and
 *  strictly better, or cheaper and at least as good. */
export function paretoFront(points: { cost: number; value: number }[]): Set<number> {
  const front = new Set<number>();
  points.forEach((p, i) => {
    const dominated = points.some((q, j) => j !== i && q.cost <= p.cost && q.value >= p.value && (q.cost < p.cost || q.value > p.value));
    if (!dominated) front.add(i);
  });
  return front;
}

export function markdownTable(results: VariantResult[], budget: string): string {
  // budget: this run's, for records that predate per-variant budgets
  const sorted = [...results].sort((a, b) => b.psnrGain - a.psnrGain);
  const front = paretoFront(sorted.map((r) => ({ cost: r.gflop720p, value: r.psnrGain })));
  const lines = [
    `Budget per variant: ${[...new Set(results.map((r) => r.budget ?? budget))].join(', ')}. Held-out PSNR/SSIM on the test split, gains over the blurry input; * = on the Pareto front (gain vs GFLOP).`,
    '',
    '| variant | --set | budget | params | GFLOP 1280x720 | steps | steps/s | PSNR | gain | SSIM | gain |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...sorted.map((r, i) => `| ${r.name}${front.has(i) ? ' *' : ''} | ${setText(r.set) || '-'} | ${r.budget ?? budget} | ${r.params.toLocaleString('en-US')} | ${r.gflop720p.toFixed(0)} | ${r.steps} | ${r.stepsPerSecond.toFixed(2)} | ${r.psnr.toFixed(2)} | ${r.psnrGain >= 0 ? '+' : ''}${r.psnrGain.toFixed(2)} | ${r.ssim.toFixed(4)} | ${r.ssimGain >= 0 ? '+' : ''}${r.ssimGain.toFixed(4)} |`),
  ];
  return lines.join('\n') + '\n';
}

async function writeReports(options: SweepOptions, results: VariantResult[], budget: string): Promise<void> {
  await writeFileAtomic(path.join(options.outDir, 'sweep.json'), JSON.stringify({ netc: 'sweep', budget, data: options.dataRoot, variants: results }, null, 2) + '\n');
  await writeFileAtomic(path.join(options.outDir, 'sweep.md'), markdownTable(results, budget));
  const points = results.map((r) => ({ label: r.name, x: r.gflop720p, y: r.psnrGain }));
  const front = paretoFront(results.map((r) => ({ cost: r.gflop720p, value: r.psnrGain })));
  await writeFileAtomic(path.join(options.outDir, 'pareto.svg'), paretoPlot(points, front, { title: `held-out PSNR gain vs cost (${budget})`, xLabel: 'GFLOP at 1280x720', yLabel: 'PSNR gain over the blurry input (dB)' }));
}

/** Trains the variant within what is left of its budget; returns false when stopped early. */
async function trainVariant(options: SweepOptions, variant: Variant, program: Program, runDir: string): Promise<boolean> {
  const resumeFrom = await readCheckpoint(runDir).catch(() => undefined);
  const trained = ((resumeFrom?.meta.extra as { time?: number } | undefined)?.time) ?? 0;
  const started = performance.now();
  let outOfTime = false;
  const timeUp = () => options.minutes !== undefined && trained + (performance.now() - started) / 1000 >= options.minutes * 60;
  const steps = options.steps ?? program.train!.iterations;
  if ((resumeFrom && resumeFrom.meta.step >= steps) || timeUp()) return true;
  options.onMessage?.(`${variant.name}: training${resumeFrom ? ` (resuming at step ${resumeFrom.meta.step})` : ''}`);
  const result = await trainRun({
    program, dataRoot: options.dataRoot, runDir, steps, seed: options.seed, resumeFrom,
    checkpointEvery: 0, keep: 1, valEvery: 0, workers: options.workers,
    onStep: options.onStep, onMessage: options.onMessage,
    shouldStop: () => options.shouldStop?.() === true || (outOfTime = timeUp()),
  });
  return result.status === 'done' || outOfTime;
}

export async function runSweep(options: SweepOptions): Promise<VariantResult[]> {
  if ((options.steps === undefined) === (options.minutes === undefined)) throw new UserError('give the budget as --steps N or --minutes M (one of them)');
  const budget = options.steps !== undefined ? `${options.steps} steps` : `${options.minutes} min of training`;
  const list = variants(options.files, options.grid, (file) => Object.keys(options.compile(file, {}).constants));
  await fs.mkdir(options.outDir, { recursive: true });
  const resultsFile = path.join(options.outDir, 'sweep.json');
  // Records of variants this command does not list stay: a later sweep into the same
  // directory adds variants to the table (each record names its own budget).
  const results = await readResults(resultsFile);
  const test = await PairDataset.open(options.dataRoot, 'test');
  for (const variant of list) {
    if (results.some((r) => r.name === variant.name)) {
      options.onMessage?.(`${variant.name}: done in an earlier run, kept`);
      continue;
    }
    const program = options.compile(variant.file, variant.set);
    if (!program.train || !program.loss) throw new UserError(`${variant.file}: a sweep trains, so it needs loss { } and train { } sections`);
    const atPatch = options.compile(variant.file, variant.set, [program.train.patch, program.train.patch]);
    const runDir = path.join(options.outDir, 'runs', variant.name);
    if (!(await trainVariant(options, variant, atPatch, runDir))) {
      await writeReports(options, results, budget);
      throw new SweepInterrupted(variant.name);
    }
    const cost = graphCost(options.compile(variant.file, variant.set, [720, 1280]).models[program.generator]);
    const { params, checkpoint } = await loadCheckpointFor(program, runDir);
    try {
      const extra = checkpoint.meta.extra as { time?: number } | undefined;
      options.onMessage?.(`${variant.name}: evaluating step ${checkpoint.meta.step} on ${Math.min(test.size, options.evalImages ?? test.size)} test pairs`);
      const score = await evaluate(test, (image) => deblurImage(program, params, image, { tile: DEFAULT_TILE, overlap: DEFAULT_OVERLAP }), { limit: options.evalImages });
      const trainSeconds = extra?.time ?? 0;
      results.push({
        ...variant, params: cost.params, gflop720p: cost.flops / 1e9, steps: checkpoint.meta.step, trainSeconds,
        stepsPerSecond: trainSeconds > 0 ? checkpoint.meta.step / trainSeconds : 0,
        psnr: score.psnr, ssim: score.ssim, baselinePsnr: score.baselinePsnr, baselineSsim: score.baselineSsim,
        psnrGain: score.psnr - score.baselinePsnr, ssimGain: score.ssim - score.baselineSsim, testImages: score.images.length, budget,
      });
      options.onMessage?.(`${variant.name}: PSNR ${score.psnr.toFixed(2)} dB (${(score.psnr - score.baselinePsnr).toFixed(2)} over the blurry input), SSIM ${score.ssim.toFixed(4)}`);
    } finally {
      disposeParams(params);
    }
    await writeReports(options, results, budget);
  }
  await writeReports(options, results, budget);
  return results;
}

export class SweepInterrupted extends UserError {
  constructor(readonly variant: string) {
    super(`interrupted while training ${variant}; its last checkpoint is kept: run the same command again to resume`);
  }
}
