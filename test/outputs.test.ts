// Outputs never destroy user data (src/runtime/fsutil.ts, the owned-output rule): `--out`
// of import, synth, train and deblur replaces only what netc wrote there before. And synth,
// stopped by a signal or killed while it writes, never leaves a sequence half-replaced.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PairDataset } from '../src/runtime/data/dataset.js';
import { PNG_OUTPUT } from '../src/runtime/fsutil.js';
import { runCli } from './helpers/cli.js';
import { fixturePath } from './helpers/fixtures.js';
import { OFFICIAL_MODEL } from './helpers/models.js';
import { ROOT, SHARED } from './helpers/spawn-cli.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'netc-out-'));
const PT = fixturePath('official255_r2_f8_s64', 'model.pt');
const SMALL = ['--set', 'blocks=2', '--set', 'feats=8'];
const CITY_SMALL = path.join(SHARED, 'fixtures/video/city-small');
const CITY = path.join(SHARED, 'fixtures/video/city');
const BLUR = path.resolve('test/helpers/deblur/blur_62x61.png');

/** A folder of the user's: two files and a subfolder. */
function userFolder(dir: string): string[] {
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'thesis.tex'), 'years of work');
  writeFileSync(path.join(dir, 'sub', 'data.csv'), '1,2,3');
  return ['sub', 'thesis.tex'];
}

const refusal = (target: string, what: string) => `netc: error: --out ${target}: already exists and is not ${what}; netc replaces only what it wrote itself`;

describe('netc import --out', () => {
  it('refuses an existing folder of unrelated files and leaves it as it was (deleted it without a word)', async () => {
    const out = tmp();
    const before = userFolder(out);
    const r = await runCli(['import', OFFICIAL_MODEL, PT, ...SMALL, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(refusal(out, 'a netc checkpoint'));
    expect(readdirSync(out).sort()).toEqual(before);
    expect(readFileSync(path.join(out, 'thesis.tex'), 'utf8')).toBe('years of work');
  });

  it('replaces a checkpoint it wrote, but not one a user added a file to', async () => {
    const out = path.join(tmp(), 'ckpt');
    expect((await runCli(['import', OFFICIAL_MODEL, PT, ...SMALL, '--out', out])).code).toBe(0);
    const again = await runCli(['import', PT, '--model', OFFICIAL_MODEL, ...SMALL, '--out', out]); // the older form
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['model.json', 'weights.bin']);
    writeFileSync(path.join(out, 'notes.txt'), 'mine');
    const third = await runCli(['import', OFFICIAL_MODEL, PT, ...SMALL, '--out', out]);
    expect(third.code).toBe(1);
    expect(third.stderr).toContain(refusal(out, 'a netc checkpoint'));
    expect(readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('an empty folder is fine', async () => {
    const out = tmp();
    expect((await runCli(['import', OFFICIAL_MODEL, PT, ...SMALL, '--out', out])).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['model.json', 'weights.bin']);
  });
});

describe('netc synth --out', () => {
  it('refuses a root holding other files, and a sequence folder the manifest does not list', async () => {
    const root = tmp();
    const before = userFolder(root);
    const r = await runCli(['synth', '--frames', CITY_SMALL, '--out', root, '--seq', 'city']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(refusal(root, 'a dataset written by netc (manifest.json with "netc": "dataset")'));
    expect(readdirSync(root).sort()).toEqual(before);

    const fresh = tmp();
    expect((await runCli(['synth', '--frames', CITY_SMALL, '--out', fresh, '--seq', 'city'])).code).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(fresh, 'manifest.json'), 'utf8'));
    expect(manifest.netc).toBe('dataset');
    expect(manifest.sequences['train/city']).toMatchObject({ window: 7, stride: 7, pairs: 4, range: [1, 32] });
    // a folder the user put next to netc's sequences is not netc's
    const theirs = path.join(fresh, 'train', 'mine');
    userFolder(theirs);
    const over = await runCli(['synth', '--frames', CITY_SMALL, '--out', fresh, '--seq', 'mine']);
    expect(over.code).toBe(1);
    expect(over.stderr).toContain(`--out ${theirs}: already exists and is not a sequence listed in ${path.join(fresh, 'manifest.json')}`);
    expect(readFileSync(path.join(theirs, 'thesis.tex'), 'utf8')).toBe('years of work');
  });
});

describe('netc train --out', () => {
  it('refuses a non-empty folder, and --resume of one that is not a run', async () => {
    const out = tmp();
    const before = userFolder(out);
    const fresh = await runCli(['train', OFFICIAL_MODEL, '--data', tmp(), '--out', out, '--steps', '1']);
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toContain(`${out}: already exists and is not empty (use --resume to continue that run, or another --out)`);
    const resumed = await runCli(['train', OFFICIAL_MODEL, '--data', tmp(), '--out', out, '--resume']);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain(`--resume: ${out} is not a run directory (no log.jsonl or checkpoints/)`);
    expect(readdirSync(out).sort()).toEqual(before);
  });
});

describe('netc deblur --out', () => {
  let weights: string;
  const deblur = (args: string[]) => runCli(['deblur', OFFICIAL_MODEL, ...args, ...SMALL, '--weights', weights, '--backend', 'tfjs-cpu']);

  it('replaces a PNG it wrote, refuses any other file and its own input', async () => {
    weights = path.join(tmp(), 'w');
    expect((await runCli(['import', OFFICIAL_MODEL, PT, ...SMALL, '--out', weights])).code).toBe(0);
    const dir = tmp();
    const out = path.join(dir, 'sharp.png');
    expect((await deblur([BLUR, '--out', out])).code).toBe(0);
    expect(await PNG_OUTPUT.recognize(out)).toBe(true);
    expect((await deblur([BLUR, '--out', out])).code).toBe(0); // netc's own: replaced

    const photo = path.join(dir, 'photo.png');
    copyFileSync(BLUR, photo);
    const before = readFileSync(photo);
    const r = await deblur([BLUR, '--out', photo]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(refusal(photo, 'a PNG written by netc'));
    expect(readFileSync(photo).equals(before)).toBe(true);
    const self = await deblur([photo, '--out', photo]);
    expect(self.code).toBe(1);
    expect(self.stderr).toContain(`--out ${photo}: is also an input; netc does not write over its inputs`);
    expect(readFileSync(photo).equals(before)).toBe(true);
  }, 60_000);
});

/** `netc synth` on the 720x405 clip (30 pairs, seconds each on this machine) as a child. */
function startSynth(root: string, extra: string[] = []) {
  const child = spawn(path.join(ROOT, 'bin/netc.js'), ['synth', '--frames', CITY, '--out', root, '--window', '3', '--stride', '1', '--seq', 'city', ...extra], { cwd: ROOT });
  let stderr = '';
  const progress = (n: number) => new Promise<void>((resolve) => {
    const check = () => (new RegExp(`pair ${n}/`).test(stderr) ? resolve() : undefined);
    child.stderr.on('data', (chunk) => ((stderr += String(chunk)), check()));
  });
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
  return { child, progress, done };
}

describe('netc synth stopped or killed', () => {
  it('SIGTERM keeps the pairs made so far and exits with 143', async () => {
    const root = path.join(tmp(), 'data');
    const { child, progress, done } = startSynth(root);
    await progress(2);
    child.kill('SIGTERM');
    const exit = await done;
    expect(exit.signal).toBe(null);
    expect(exit.code, exit.stderr).toBe(143);
    const m = /stopped after (\d+) of 30 pairs; wrote them to (.+)/.exec(exit.stderr);
    expect(m, exit.stderr).not.toBeNull();
    const pairs = Number(m![1]);
    expect(pairs).toBeGreaterThanOrEqual(2);
    expect(pairs).toBeLessThan(30);
    for (const sub of ['blur', 'blur_gamma', 'sharp']) expect(readdirSync(path.join(root, 'train', 'city', sub))).toHaveLength(pairs);
    expect(JSON.parse(readFileSync(path.join(root, 'manifest.json'), 'utf8')).sequences['train/city']).toMatchObject({ pairs, stoppedAfter: `${pairs} of 30 pairs` });
    expect((await PairDataset.open(root, 'train')).size).toBe(pairs);
  }, 120_000);

  it('SIGKILL while it replaces a sequence leaves the old one whole and readable', async () => {
    const root = path.join(tmp(), 'data');
    const small = await runCli(['synth', '--frames', CITY_SMALL, '--out', root, '--window', '3', '--stride', '10', '--seq', 'city']);
    expect(small.code, small.stderr).toBe(0);
    const old = readdirSync(path.join(root, 'train', 'city', 'sharp')).sort();
    expect(old).toEqual(['frame_0002.png', 'frame_0012.png', 'frame_0022.png']);
    const { child, progress, done } = startSynth(root);
    await progress(3); // pairs are being written into the temp folder beside the old sequence
    expect(readdirSync(path.join(root, 'train')).some((n) => n.startsWith('.city.'))).toBe(true);
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    expect(readdirSync(path.join(root, 'train', 'city', 'sharp')).sort()).toEqual(old);
    const dataset = await PairDataset.open(root, 'train'); // the killed run's temp folder is not a sequence
    expect(dataset.pairs.map((p) => p.id)).toEqual(old.map((n) => `city/${n}`));
    // and a later run (netc's own leftovers are no obstacle) replaces it
    const again = await runCli(['synth', '--frames', CITY_SMALL, '--out', root, '--window', '3', '--stride', '15', '--seq', 'city']);
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(path.join(root, 'train', 'city', 'sharp')).sort()).toEqual(['frame_0002.png', 'frame_0017.png']);
  }, 120_000);
});

describe('the rule itself', () => {
  it('a symbolic link is never replaced, even to a netc output', async () => {
    const dir = tmp();
    const real = path.join(dir, 'real');
    expect((await runCli(['import', OFFICIAL_MODEL, PT, ...SMALL, '--out', real])).code).toBe(0);
    const link = path.join(dir, 'link');
    symlinkSync(real, link);
    const r = await runCli(['import', OFFICIAL_MODEL, PT, ...SMALL, '--out', link]);
    expect(r.code).toBe(1);
    expect(existsSync(path.join(real, 'model.json'))).toBe(true);
  });
});
