// `netc synth --video` and `--kernels`: decoding through ffmpeg checked on a lossless video the
// test makes itself from frames it knows (ffv1 keeps RGB exactly), the GOPRO average of those
// frames computed here from its definition, kernels' invariants, interruption, bad input.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { blurImage, randomKernel, trajectory } from '../src/runtime/data/kernels.js';
import { Rng } from '../src/runtime/data/rng.js';
import { decodeFrames, probeVideo } from '../src/runtime/data/video.js';
import { encodePng, fromUint8, readImage, toUint8 } from '../src/runtime/image.js';
import { runCli } from './helpers/cli.js';
import { ROOT } from './helpers/spawn-cli.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'netc-video-'));
const W = 64;
const H = 48;

/** Frame i: a diagonal gradient moving right by 3 px per frame, channels offset. */
function frame(i: number, w = W, h = H): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) {
    rgb[(y * w + x) * 3 + c] = (((x - 3 * i) * 4 + y * 2 + c * 60) % 256 + 256) % 256;
  }
  return rgb;
}

/** A lossless (ffv1, RGB) video of `count` known frames at 30 fps. */
function makeVideo(dir: string, count: number, name = 'clip.mkv', w = W, h = H): string {
  const file = path.join(dir, name);
  const raw = Buffer.concat(Array.from({ length: count }, (_, i) => Buffer.from(frame(i, w, h))));
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${w}x${h}`, '-r', '30', '-i', '-', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', file], { input: raw });
  return file;
}

describe('video decoding (ffmpeg)', () => {
  let dir: string;
  let video: string;
  beforeAll(() => {
    dir = tmp();
    video = makeVideo(dir, 12);
  });

  it('probes size, rate and frame count', async () => {
    const info = await probeVideo(video);
    expect([info.width, info.height, info.frames, info.fps]).toEqual([W, H, 12, 30]);
  });

  it('decodes every frame exactly, and --range picks frames first..last', async () => {
    const info = await probeVideo(video);
    const all: Uint8Array[] = [];
    for await (const f of decodeFrames(info)) all.push(f);
    expect(all.length).toBe(12);
    all.forEach((f, i) => expect(Buffer.from(f).equals(Buffer.from(frame(i))), `frame ${i}`).toBe(true));
    const some: Uint8Array[] = [];
    for await (const f of decodeFrames(info, { range: [4, 6] })) some.push(f);
    expect(some.map((f) => all.findIndex((g) => Buffer.from(g).equals(Buffer.from(f))))).toEqual([3, 4, 5]);
  });

  it('synth --video: blur_gamma is the linear-light mean of the window, sharp its middle frame', async () => {
    const out = tmp();
    const r = await runCli(['synth', '--video', video, '--out', out, '--window', '3', '--stride', '4', '--license', 'test']);
    expect(r.code, r.stderr).toBe(0);
    const seq = path.join(out, 'train', 'clip');
    // windows 1-3, 5-7, 9-11 (stride 4): sharp frames 2, 6, 10 (1-based)
    expect(readdirSync(path.join(seq, 'sharp'))).toEqual(['clip_00002.png', 'clip_00006.png', 'clip_00010.png']);
    const sharp = toUint8(await readImage(path.join(seq, 'sharp', 'clip_00006.png')));
    expect(Buffer.from(sharp).equals(Buffer.from(frame(5)))).toBe(true);
    const blur = toUint8(await readImage(path.join(seq, 'blur_gamma', 'clip_00006.png')));
    const [a, b, c] = [frame(4), frame(5), frame(6)];
    let worst = 0;
    for (let i = 0; i < blur.length; i++) {
      const linear = ((a[i] / 255) ** 2.2 + (b[i] / 255) ** 2.2 + (c[i] / 255) ** 2.2) / 3;
      worst = Math.max(worst, Math.abs(blur[i] - 255 * linear ** (1 / 2.2)));
    }
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-9);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.counts).toEqual({ train: 3 });
    expect(manifest.sequences['train/clip']).toMatchObject({ kind: 'video', license: 'test', pairs: 3, settings: { window: 3, stride: 4 } });
  });

  it('--exposure sets the window from the frame rate: 100 ms at 30 fps = 3 frames', async () => {
    const out = tmp();
    const r = await runCli(['synth', '--video', video, '--out', out, '--exposure', '100']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote 4 pairs .*window 3 frames/);
  });

  it('refuses to put a training clip in the test split (held-out clips are whole)', async () => {
    const out = tmp();
    expect((await runCli(['synth', '--video', video, '--out', out, '--window', '3'])).code).toBe(0);
    const r = await runCli(['synth', '--video', video, '--out', out, '--window', '3', '--split', 'test', '--seq', 'other']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/clip\.mkv already feeds the train split .*whole clips/);
    expect(existsSync(path.join(out, 'test'))).toBe(false);
  });

  it('a val split is held out the same way: from the test split, and from it', async () => {
    const out = tmp();
    expect((await runCli(['synth', '--video', video, '--out', out, '--window', '3', '--split', 'test'])).code).toBe(0);
    const intoVal = await runCli(['synth', '--video', video, '--out', out, '--window', '3', '--split', 'val', '--seq', 'other']);
    expect(intoVal.code).toBe(1);
    expect(intoVal.stderr).toMatch(/clip\.mkv already feeds the test split .*whole clips/);
    expect(existsSync(path.join(out, 'val'))).toBe(false);

    const valOnly = tmp();
    const made = await runCli(['synth', '--video', video, '--out', valOnly, '--window', '3', '--split', 'val']);
    expect(made.code, made.stderr).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(path.join(valOnly, 'manifest.json'), 'utf8')).counts)).toEqual(['val']);
    expect(readdirSync(path.join(valOnly, 'val'))).toEqual(['clip']);
    const intoTrain = await runCli(['synth', '--video', video, '--out', valOnly, '--window', '3', '--seq', 'other']);
    expect(intoTrain.code).toBe(1);
    expect(intoTrain.stderr).toMatch(/clip\.mkv already feeds the val split/);
  });
});

describe('camera-shake kernels', () => {
  it('sum to 1, are the same for the same seed and differ for another', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const k = randomKernel(new Rng(seed), { minLength: 3, maxLength: 32 });
      expect(Math.abs(k.weights.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
      expect(k.weights.every((w) => w >= 0)).toBe(true);
      expect(k.size % 2).toBe(1);
      const again = randomKernel(new Rng(seed), { minLength: 3, maxLength: 32 });
      expect(Buffer.from(again.weights.buffer).equals(Buffer.from(k.weights.buffer))).toBe(true);
      const other = randomKernel(new Rng(seed + 1000), { minLength: 3, maxLength: 32 });
      expect(Buffer.from(other.weights.buffer).equals(Buffer.from(k.weights.buffer))).toBe(false);
    }
  });

  it('have a path length within the bounds and fit in a square of that side', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const k = randomKernel(new Rng(seed), { minLength: 5, maxLength: 20 });
      expect(k.params.length).toBeGreaterThanOrEqual(5);
      expect(k.params.length).toBeLessThanOrEqual(20);
      // a path of length L stays within L of its centre of mass: side <= 2 ceil(L) + 3
      expect(k.size).toBeLessThanOrEqual(2 * Math.ceil(k.params.length) + 3);
    }
    // the trajectory moves at constant speed: its length is what was asked for
    const p = { length: 10, exposure: 1, centripetal: 0.3, gaussianShake: 5, bigShake: 0.001 };
    const path2 = trajectory(new Rng(3), 10, 500, p);
    let length = 0;
    for (let t = 1; t < 500; t++) length += Math.hypot(path2[2 * t] - path2[2 * t - 2], path2[2 * t + 1] - path2[2 * t - 1]);
    expect(length).toBeCloseTo(10, 6);
  });

  it('blur with a one-tap kernel keeps the image (valid region), with a box averages it', () => {
    const rgb = frame(0);
    const delta = { size: 3, weights: Float64Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0]), params: { length: 0, exposure: 1, centripetal: 0, gaussianShake: 0, bigShake: 0 } };
    const none = { gain: 0, read: 0 };
    const same = blurImage(rgb, W, H, delta, 2.2, none, new Rng(1));
    expect([same.width, same.height]).toEqual([W - 2, H - 2]);
    for (let y = 0; y < H - 2; y++) for (let x = 0; x < W - 2; x++) for (let c = 0; c < 3; c++) {
      expect(same.blur[(y * (W - 2) + x) * 3 + c]).toBe(rgb[((y + 1) * W + x + 1) * 3 + c]);
    }
    expect(Buffer.from(same.sharp).equals(Buffer.from(same.blur))).toBe(true);
    const box = { ...delta, weights: Float64Array.from([0, 0, 0, 1 / 3, 1 / 3, 1 / 3, 0, 0, 0]) };
    const avg = blurImage(rgb, W, H, box, 2.2, none, new Rng(1));
    const at = (x: number, y: number, c: number) => rgb[(y * W + x) * 3 + c];
    for (const [x, y] of [[0, 0], [10, 7], [61, 45]]) for (let c = 0; c < 3; c++) {
      const expected = (at(x, y + 1, c) + at(x + 1, y + 1, c) + at(x + 2, y + 1, c)) / 3;
      expect(Math.abs(avg.blur[(y * (W - 2) + x) * 3 + c] - expected)).toBeLessThanOrEqual(0.5 + 1e-9);
    }
  });

  it('synth --kernels writes pairs with their kernels, the same for the same seed', async () => {
    const images = tmp();
    writeFileSync(path.join(images, 'a.png'), encodePng(fromUint8(96, 80, frame(0, 96, 80))));
    const [one, two] = [tmp(), tmp()];
    for (const out of [one, two]) {
      const r = await runCli(['synth', '--kernels', '--images', images, '--out', out, '--count', '2', '--seed', '7', '--length', '3:12']);
      expect(r.code, r.stderr).toBe(0);
    }
    const seq = (root: string) => path.join(root, 'train', path.basename(images));
    expect(readdirSync(seq(one)).sort()).toEqual(['blur', 'blur_gamma', 'kernel', 'kernels.json', 'sharp']);
    expect(readdirSync(path.join(seq(one), 'blur_gamma'))).toEqual(['a_k0.png', 'a_k1.png']);
    const bytes = (root: string) => readFileSync(path.join(seq(root), 'blur_gamma', 'a_k1.png'));
    expect(bytes(one).equals(bytes(two))).toBe(true);
  });
});

describe('synth: interruption and bad input', () => {
  it('SIGTERM during synth --video or --kernels keeps only whole pairs, and no temp folder', async () => {
    const dir = tmp();
    const video = makeVideo(dir, 90, 'long.mkv', 320, 240);
    for (const args of [['--video', video, '--window', '3', '--stride', '1'], ['--kernels', '--video', video, '--count', '3']]) {
      const out = path.join(tmp(), 'data');
      const child = spawn(process.execPath, [path.join(ROOT, 'bin/netc.js'), 'synth', ...args, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // wait until pairs are being written into the hidden temp folder, then stop
      const split = path.join(out, 'train');
      for (let i = 0; i < 600 && !(existsSync(split) && readdirSync(split).some((n) => n.startsWith('.') && existsSync(path.join(split, n, 'sharp')) && readdirSync(path.join(split, n, 'sharp')).length > 1)); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code, stderr).toBe(143);
      const kept = Number(/stopped after (\d+) pairs/.exec(stderr)?.[1]);
      expect(kept).toBeGreaterThan(1);
      expect(readdirSync(split)).toEqual(['long']); // the sequence, no temp folder
      for (const sub of ['blur', 'blur_gamma', 'sharp']) {
        const files = readdirSync(path.join(split, 'long', sub));
        expect(files.length, sub).toBe(kept);
        for (const f of files) expect((await readImage(path.join(split, 'long', sub, f))).width).toBeGreaterThan(0);
      }
      const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
      expect(manifest.sequences['train/long']).toMatchObject({ pairs: kept, settings: { stopped: true } });
    }
  });

  it('a file ffmpeg cannot decode, an empty range, a grayscale photo: one clear message each', async () => {
    const dir = tmp();
    const bogus = path.join(dir, 'notes.mp4');
    writeFileSync(bogus, 'this is not a video\n'.repeat(10));
    let r = await runCli(['synth', '--video', bogus, '--out', path.join(dir, 'out'), '--window', '3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/notes\.mp4: ffmpeg cannot read it as a video/);
    const video = makeVideo(dir, 12);
    r = await runCli(['synth', '--video', video, '--out', path.join(dir, 'out'), '--range', '9:4']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--range 9:4: empty/);
    r = await runCli(['synth', '--video', video, '--out', path.join(dir, 'out'), '--range', '10:40']);
    expect(r.stderr).toMatch(/--range 10:40: .*has frames 1\.\.12/);
    const gray = path.join(dir, 'gray');
    mkdirSync(gray);
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x64', '-frames:v', '1', '-pix_fmt', 'gray', path.join(gray, 'g.png')]);
    r = await runCli(['synth', '--kernels', '--images', gray, '--out', path.join(dir, 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/g\.png: .*grayscale/);
    const split = path.join(dir, 'out', 'train');
    expect(existsSync(split) ? readdirSync(split) : []).toEqual([]); // no sequence, no temp folder
  });

  it('without ffmpeg on the PATH, the message names the Debian package', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'v.mp4'), 'x');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/netc.js'), 'synth', '--video', path.join(dir, 'v.mp4'), '--out', path.join(dir, 'out')], {
      encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ffmpeg is not installed.*apt-get install ffmpeg/);
  });
});
