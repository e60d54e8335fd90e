// `netc train` in-process on a tiny variant and a tiny synthesized dataset: exact resume on
// both CPU backends, NaN handling, the adversarial path (with its resume), the run files.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpointFor, readCheckpoint } from '../src/runtime/checkpoint.js';
import { disposeParams } from '../src/runtime/params.js';
import { tf } from '../src/runtime/tf.js';
import { TFJS_BACKEND } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { compileModel, OFFICIAL_MODEL, PAPER_MODEL } from './helpers/models.js';
import { useTrainingData } from './helpers/train-data.js';

const TINY = ['--set', 'blocks=1', '--set', 'feats=4', '--set', 'scales=2', '--set', 'patch=16', '--set', 'batch=2'];
const dirs = useTrainingData('netc-train-');

interface LogLine { step: number; loss: number; lr: number; time: number; [k: string]: number }
async function readLog(runDir: string): Promise<LogLine[]> {
  return (await fs.readFile(path.join(runDir, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as LogLine);
}

async function train(model: string, runDir: string, extra: string[]) {
  const result = await runCli(['train', model, '--data', dirs.data, '--out', runDir, '--validate-every', '0', ...extra]);
  if (result.code !== 0 && !extra.includes('lr=1e30')) throw new Error(`netc train failed (${result.code}): ${result.stderr}`);
  return result;
}

describe.each(['tfjs-cpu', 'cpu'] as const)('resume on %s', (backend) => {
  it('continues exactly: the resumed losses equal an unbroken run', async () => {
    const common = [...TINY, '--backend', backend];
    const unbroken = path.join(dirs.tmp, `unbroken-${backend}`);
    await train(OFFICIAL_MODEL, unbroken, [...common, '--steps', '8', '--checkpoint-every', '4']);

    // A run that checkpoints at 3 and ends at 5; its step-5 checkpoint is lost (as in a crash
    // after step 5's log line), so it resumes from step 3 with log lines 4-5 to drop.
    const broken = path.join(dirs.tmp, `broken-${backend}`);
    await train(OFFICIAL_MODEL, broken, [...common, '--steps', '5', '--checkpoint-every', '3']);
    await fs.rm(path.join(broken, 'checkpoints', 'step-0000005'), { recursive: true });
    const resumed = await train(OFFICIAL_MODEL, broken, ['--backend', backend, '--steps', '8', '--checkpoint-every', '3', '--resume']);
    expect(resumed.stderr).toContain('resuming');
    expect(tf.getBackend()).toBe(TFJS_BACKEND[backend]); // in-process: the backend that trained

    const a = await readLog(unbroken);
    const b = await readLog(broken);
    expect(b.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (let i = 0; i < 8; i++) {
      expect(Math.abs(b[i].loss - a[i].loss)).toBeLessThanOrEqual(1e-6);
      expect(b[i].lr).toBe(a[i].lr);
    }
    expect(a[7].loss).not.toBe(a[0].loss);
    // the time column goes on from the checkpoint's training time
    expect(b[3].time).toBeGreaterThan(b[2].time);

    const checkpoint = await readCheckpoint(broken);
    expect(checkpoint.meta.step).toBe(8);
    expect(checkpoint.meta.set).toEqual({ blocks: 1, feats: 4, scales: 2, patch: 16, batch: 2 });
    expect([...checkpoint.slots.keys()].some((k) => k.startsWith('adam/m/'))).toBe(true);
    expect(await fs.readFile(path.join(broken, 'loss.svg'), 'utf8')).toContain('</svg>');
  });
});

describe('netc train', () => {
  it('keeps the newest K checkpoints and refuses to reuse a run directory without --resume', async () => {
    const runDir = path.join(dirs.tmp, 'keep');
    const first = await train(OFFICIAL_MODEL, runDir, [...TINY, '--backend', 'cpu', '--steps', '5', '--checkpoint-every', '1', '--keep', '2']);
    expect(first.stdout).toContain('trained to step 5');
    expect((await fs.readdir(path.join(runDir, 'checkpoints'))).sort()).toEqual(['step-0000004', 'step-0000005']);
    const again = await runCli(['train', OFFICIAL_MODEL, '--data', dirs.data, '--out', runDir, ...TINY, '--steps', '2']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists and is not empty');
    const wrongSet = await runCli(['train', OFFICIAL_MODEL, '--data', dirs.data, '--out', runDir, '--set', 'feats=8', '--resume']);
    expect(wrongSet.code).toBe(1);
    expect(wrongSet.stderr).toContain('--resume: the run was started with --set');
  });

  it('stops at a non-finite loss with the step and term, exit 1, keeping the last good checkpoint', async () => {
    const runDir = path.join(dirs.tmp, 'nan');
    const result = await train(OFFICIAL_MODEL, runDir, [...TINY, '--set', 'lr=1e30', '--backend', 'tfjs-cpu', '--steps', '20', '--checkpoint-every', '1']);
    expect(result.code).toBe(1);
    const log = await readLog(runDir);
    const lastGood = log.at(-1)!.step;
    const m = /step (\d+): the loss term 'total' is (NaN|Infinity|-Infinity) .*the last good checkpoint is (\S+)/.exec(result.stderr);
    expect(m, result.stderr).not.toBeNull();
    expect(Number(m![1])).toBe(lastGood + 1);
    expect(m![3]).toBe(path.join(runDir, 'checkpoints', `step-${String(lastGood).padStart(7, '0')}`));
    expect(result.stderr).not.toContain('internal error');
    const program = compileModel(OFFICIAL_MODEL, { blocks: 1, feats: 4, scales: 2, patch: 16, batch: 2 }, [16, 16]);
    const { checkpoint, params } = await loadCheckpointFor(program, runDir);
    expect(checkpoint.meta.step).toBe(lastGood);
    for (const p of params.values()) expect(Array.from(p.dataSync()).every(Number.isFinite)).toBe(true);
    disposeParams(params);
  });

  it('trains the adversarial loss: D and G losses logged, objective = content + w * adversarial, exact resume with the discriminator', async () => {
    // the paper's file with a small discriminator (the real one has 27M parameters)
    const source = (await fs.readFile(PAPER_MODEL, 'utf8'))
      .replace(/for \(c, s\) in \[[^\]]*\]/s, 'for (c, s) in [(8, 2), (8, 2)]')
      .replace('dense(1024)', 'dense(16)');
    expect(source).toContain('[(8, 2), (8, 2)]');
    const model = path.join(dirs.tmp, 'paper-small-d.net');
    await fs.writeFile(model, source);
    const common = [...TINY, '--set', 'gan_weight=0.5', '--backend', 'tfjs-cpu', '--checkpoint-every', '2'];

    const unbroken = path.join(dirs.tmp, 'gan');
    await train(model, unbroken, [...common, '--steps', '4']);
    const log = await readLog(unbroken);
    for (const r of log) {
      expect(Number.isFinite(r.discriminator)).toBe(true);
      expect(r.adversarial).toBeGreaterThan(0);
      expect(r.loss).toBeCloseTo(r.content + 0.5 * r.adversarial, 6);
    }
    expect(log[0].discriminator).toBeCloseTo(2 * Math.LN2, 1); // an untrained D: ~ -2 log(1/2)
    const checkpoint = await readCheckpoint(unbroken);
    expect(checkpoint.slots.has('discriminator/conv0.weight')).toBe(true);
    expect(checkpoint.slots.has('discriminator-adam/m/conv0.weight')).toBe(true);

    const broken = path.join(dirs.tmp, 'gan-broken');
    await train(model, broken, [...common, '--steps', '2']);
    await train(model, broken, ['--backend', 'tfjs-cpu', '--steps', '4', '--checkpoint-every', '2', '--resume']);
    const resumed = await readLog(broken);
    resumed.forEach((r, i) => {
      expect(Math.abs(r.loss - log[i].loss)).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(r.discriminator - log[i].discriminator)).toBeLessThanOrEqual(1e-6);
    });
  });

  it('--validate-every is the file\'s validate_every (--val-every, the older name, still works)', async () => {
    for (const flag of ['--validate-every', '--val-every']) {
      const runDir = path.join(dirs.tmp, `validate${flag}`);
      const r = await runCli(['train', OFFICIAL_MODEL, '--data', dirs.data, '--out', runDir, ...TINY, '--backend', 'tfjs-cpu', '--steps', '2', flag, '1', '--val-images', '1']);
      expect(r.code, r.stderr).toBe(0);
      const val = (await fs.readFile(path.join(runDir, 'val.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).step);
      expect(val).toEqual([1, 2]);
      expect(r.stderr).toMatch(/validating on the test split \(.* has no val split\)/);
    }
  });

  it('validates on the val split when the data has one (all of it by default), and keeps the best validation\'s weights in RUNDIR/best', async () => {
    const root = path.join(dirs.tmp, 'with-val');
    await fs.mkdir(path.join(root, 'val'), { recursive: true });
    await fs.symlink(path.join(dirs.data, 'train'), path.join(root, 'train'));
    await fs.symlink(path.join(dirs.data, 'train', 'city'), path.join(root, 'val', 'city-val')); // 10 pairs: more than a test split's default 4
    const runDir = path.join(dirs.tmp, 'best-run');
    const r = await runCli(['train', OFFICIAL_MODEL, '--data', root, '--out', runDir, ...TINY, '--set', 'lr=3e-3', '--backend', 'tfjs-cpu',
      '--steps', '4', '--validate-every', '1', '--checkpoint-every', '1', '--keep', '4']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/validating on the test split/);
    const val = (await fs.readFile(path.join(runDir, 'val.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { step: number; psnr: number; split: string; images: number });
    expect(val.map((v) => [v.step, v.split, v.images])).toEqual([[1, 'val', 10], [2, 'val', 10], [3, 'val', 10], [4, 'val', 10]]);
    const top = val.reduce((b, v) => (v.psnr > b.psnr ? v : b));
    expect(r.stdout).toContain(`best validation: ${top.psnr.toFixed(2)} dB at step ${top.step}`);
    const best = await readCheckpoint(path.join(runDir, 'best'));
    expect(best.meta.step).toBe(top.step);
    expect(best.slots.size).toBe(0); // weights only: what to ship, not to resume
    const same = await readCheckpoint(path.join(runDir, 'checkpoints', `step-${String(top.step).padStart(7, '0')}`));
    expect([...best.params.keys()]).toEqual([...same.params.keys()]);
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    for (const [name, p] of best.params) expect(bytes(p.data).equals(bytes(same.params.get(name)!.data)), name).toBe(true);
  });

  it('a relative data: path is relative to the .net file, not to where netc runs', async () => {
    const dir = path.join(dirs.tmp, 'models-elsewhere');
    await fs.mkdir(dir);
    const model = path.join(dir, 'small.net');
    const relative = path.relative(dir, dirs.data);
    await fs.writeFile(model, (await fs.readFile(OFFICIAL_MODEL, 'utf8')).replace('gopro("../data/GOPRO_Large")', `gopro("${relative}")`));
    const runDir = path.join(dirs.tmp, 'relative-data');
    const r = await runCli(['train', model, '--out', runDir, ...TINY, '--backend', 'tfjs-cpu', '--steps', '1', '--validate-every', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('trained to step 1');
  });

  it('--set values saved in a checkpoint are checked like --set: blocks=1e9 is the repeat limit, said to come from the checkpoint', async () => {
    const runDir = path.join(dirs.tmp, 'huge-set');
    expect((await train(OFFICIAL_MODEL, runDir, [...TINY, '--backend', 'tfjs-cpu', '--steps', '1'])).code).toBe(0);
    const checkpoint = path.join(runDir, 'checkpoints', 'step-0000001');
    const file = path.join(checkpoint, 'model.json');
    const json = JSON.parse(await fs.readFile(file, 'utf8'));
    json.netc.set.blocks = 1e9;
    await fs.writeFile(file, JSON.stringify(json));
    const started = performance.now();
    const r = await runCli(['eval', OFFICIAL_MODEL, '--weights', runDir, '--data', dirs.data, '--backend', 'tfjs-cpu']);
    expect(r.code).toBe(1);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(r.stderr).toContain(`netc: compiling ${OFFICIAL_MODEL} with the --set values saved in ${file}: blocks=1000000000 feats=4 scales=2 patch=16 batch=2`);
    expect(r.stderr).toContain(`${OFFICIAL_MODEL}:18:37: error: a repeat count must be at most 1,000, got 1,000,000,000`);
    const resumed = await runCli(['train', OFFICIAL_MODEL, '--data', dirs.data, '--out', runDir, '--resume', '--steps', '2']);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain('a repeat count must be at most 1,000');
  });
  it('--init starts a new run from trained weights: the run\'s weights begin at them, with a fresh optimizer at step 1; a different generator or --resume with it is refused', async () => {
    const source = path.join(dirs.tmp, 'init-source');
    await train(OFFICIAL_MODEL, source, [...TINY, '--backend', 'cpu', '--steps', '3']);
    // lr 1e-12: Adam moves each weight by about lr per step, so after 2 steps the weights are
    // still the source's within 1e-9, and far from a fresh random initialization.
    const tuned = path.join(dirs.tmp, 'init-tuned');
    const r = await train(OFFICIAL_MODEL, tuned, [...TINY, '--set', 'lr=1e-12', '--backend', 'cpu', '--steps', '2', '--init', source, '--seed', '7']);
    expect(r.stderr).toContain('starting from the weights of');
    const before = await readCheckpoint(source);
    const after = await readCheckpoint(tuned);
    expect(after.meta.step).toBe(2);
    const log = await readLog(tuned);
    expect(log.map((l) => l.step)).toEqual([1, 2]);
    // each update's wait for its batch is logged, a part of its time
    for (const line of log) expect(line.wait >= 0 && line.wait <= line.seconds).toBe(true);
    let largest = 0;
    for (const [name, { data }] of before.params) {
      const tunedData = after.params.get(name)!.data;
      for (let i = 0; i < data.length; i++) largest = Math.max(largest, Math.abs(tunedData[i] - data[i]));
    }
    expect(largest).toBeLessThan(1e-9);
    const random = path.join(dirs.tmp, 'init-random');
    await train(OFFICIAL_MODEL, random, [...TINY, '--set', 'lr=1e-12', '--backend', 'cpu', '--steps', '2', '--seed', '7']);
    const [name, { data }] = [...before.params][0];
    const randomData = (await readCheckpoint(random)).params.get(name)!.data;
    expect(Math.max(...data.map((v, i) => Math.abs(v - randomData[i])))).toBeGreaterThan(1e-3);

    const wider = await runCli(['train', OFFICIAL_MODEL, '--data', dirs.data, '--out', path.join(dirs.tmp, 'init-wider'), ...TINY, '--set', 'feats=8', '--steps', '1', '--init', source]);
    expect(wider.code).toBe(1);
    expect(wider.stderr).toContain('does not fit');
    const both = await runCli(['train', OFFICIAL_MODEL, '--data', dirs.data, '--out', tuned, '--resume', '--init', source]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('--init starts a new run and --resume continues one');
  });

  it('--init grows a model: a deeper generator takes the shallower one\'s weights by name, and its new blocks start as a fresh run of it does; a shallower one is refused', async () => {
    const tiny = (blocks: number) => [...TINY.slice(2), '--set', `blocks=${blocks}`, '--backend', 'cpu'];
    const source = path.join(dirs.tmp, 'grow-source');
    await train(OFFICIAL_MODEL, source, [...tiny(1), '--steps', '3']);
    const grown = path.join(dirs.tmp, 'grow-deeper');
    const r = await train(OFFICIAL_MODEL, grown, [...tiny(2), '--set', 'lr=1e-12', '--steps', '1', '--init', source, '--seed', '7']);
    expect(r.stderr).toMatch(/netc: \d+ of \d+ parameters are not in it and start from the model's initialization/);
    const fresh = path.join(dirs.tmp, 'grow-fresh');
    await train(OFFICIAL_MODEL, fresh, [...tiny(2), '--set', 'lr=1e-12', '--steps', '1', '--seed', '7']);
    const [before, after, reference] = await Promise.all([source, grown, fresh].map((dir) => readCheckpoint(dir)));
    let copied = 0, added = 0;
    for (const [name, { data }] of after.params) {
      const expected = before.params.get(name) ?? reference.params.get(name)!;
      if (before.params.has(name)) copied++;
      else added++;
      expect(Math.max(...data.map((v, i) => Math.abs(v - expected.data[i]))), name).toBeLessThan(1e-9);
    }
    expect(copied).toBe(before.params.size);
    expect(added).toBeGreaterThan(0);

    const shallower = await runCli(['train', OFFICIAL_MODEL, '--data', dirs.data, '--out', path.join(dirs.tmp, 'grow-shallower'), ...tiny(1), '--steps', '1', '--init', grown]);
    expect(shallower.code).toBe(1);
    expect(shallower.stderr).toContain('does not fit');
    expect(shallower.stderr).toContain('unexpected: ');
  });
});
