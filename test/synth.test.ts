import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize } from '../src/runtime/data/synth.js';
import { readImage, toUint8 } from '../src/runtime/image.js';
import { psnr } from '../src/runtime/metrics.js';
import { runCli } from './helpers/cli.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const citySmall = path.join(here, '../../shared/fixtures/video/city-small');
const cityLarge = path.join(here, '../../shared/fixtures/video/city');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'netc-synth-'));
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const pixels = async (file: string) => toUint8(await readImage(file));

describe('netc synth', () => {
  let root: string;
  let cli: { code: number; stdout: string; stderr: string };
  beforeAll(async () => {
    root = tmp();
    cli = await runCli(['synth', '--frames', citySmall, '--out', root, '--split', 'test', '--seq', 'city']);
  });

  it('makes one pair per window of 7 frames (32 frames -> 4) in the GOPRO layout', () => {
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/wrote 4 pairs/);
    expect(cli.stderr).toMatch(/pair 4\/4/);
    const seq = path.join(root, 'test', 'city');
    expect(readdirSync(seq).sort()).toEqual(['blur', 'blur_gamma', 'sharp']);
    const names = ['frame_0004.png', 'frame_0011.png', 'frame_0018.png', 'frame_0025.png'];
    for (const sub of ['blur', 'blur_gamma', 'sharp']) expect(readdirSync(path.join(seq, sub)).sort()).toEqual(names);
    expect(readdirSync(path.join(root, 'test'))).toEqual(['city']); // no temp folder left
  });

  it('--range holds frames out: 22:32 with window 3, stride 3 uses frames 22..32 only', async () => {
    const out = tmp();
    const r = await runCli(['synth', '--frames', citySmall, '--out', out, '--window', '3', '--stride', '3', '--range', '22:32', '--seq', 'city']);
    expect(r.code).toBe(0);
    // windows start at frames 22, 25, 28 (31 + 3 > 32): middles 23, 26, 29
    expect(readdirSync(path.join(out, 'train', 'city', 'sharp')).sort()).toEqual(['frame_0023.png', 'frame_0026.png', 'frame_0029.png']);
    const bad = await runCli(['synth', '--frames', citySmall, '--out', out, '--range', '30:40']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--range 30:40:');
    expect(bad.stderr).toContain('has frames 1..32');
  });

  it('matches a NumPy computation of the pair of frames 8..14', async () => {
    // /usr/bin/python3 -c "
    // import numpy as np, hashlib; from PIL import Image
    // d = '../shared/fixtures/video/city-small/frame_%04d.png'
    // f = np.stack([np.asarray(Image.open(d % k).convert('RGB')) for k in range(8, 15)]).astype(np.float64)
    // print(hashlib.sha256(np.round(np.mean((f / 255) ** 2.2, 0) ** (1 / 2.2) * 255).astype(np.uint8).tobytes()).hexdigest())
    // print(hashlib.sha256(np.round(np.mean(f, 0)).astype(np.uint8).tobytes()).hexdigest())"
    const seq = path.join(root, 'test', 'city');
    expect(sha256(await pixels(path.join(seq, 'blur_gamma', 'frame_0011.png')))).toBe('b328f9985efbc0d1e24a3a4da5ffe828bd892e9fa1d798d6d4b88c1b8a29e8d3');
    expect(sha256(await pixels(path.join(seq, 'blur', 'frame_0011.png')))).toBe('55c6df408268ed1f9961adee2de620c6b4c1cfb3455aed15ef68e0e9616d12b9');
    expect(await pixels(path.join(seq, 'sharp', 'frame_0011.png'))).toEqual(await pixels(path.join(citySmall, 'frame_0011.png')));
  });

  it('blurs measurably: blurry vs sharp well below a lossless match', async () => {
    const seq = path.join(root, 'test', 'city');
    const image = async (sub: string) => ({ width: 240, height: 135, data: await pixels(path.join(seq, sub, 'frame_0018.png')) });
    const sharp = await image('sharp');
    const quality = psnr(await image('blur_gamma'), sharp);
    expect(quality).toBeLessThan(40);
    expect(quality).toBeGreaterThan(15);
    expect(psnr(await image('blur'), await image('blur_gamma'))).toBeLessThan(60); // the two blurs differ
  });

  // (what an interrupted or killed replacement leaves: test/outputs.test.ts)
  it('honours --stride and --window, and replaces a sequence it wrote before', async () => {
    const out = tmp();
    const first = await synthesize({ frames: citySmall, out, window: 7, stride: 3, seq: 's' });
    expect(first.names.length).toBe(9); // starts 0, 3, ..., 24
    const second = await synthesize({ frames: citySmall, out, window: 31, seq: 's' });
    expect(second.names).toEqual(['frame_0016.png']);
    expect(readdirSync(path.join(out, 'train', 's', 'sharp'))).toEqual(['frame_0016.png']);
  });

  it.each([
    ['a missing folder', () => ['--frames', path.join(tmp(), 'nope')], /nope: no such folder/],
    ['an empty folder', () => ['--frames', tmp()], /no PNG or JPEG frames/],
    ['a window larger than the clip', () => ['--frames', citySmall, '--window', '33'], /32 frames, fewer than --window 33/],
    ['an even window', () => ['--frames', citySmall, '--window', '8'], /--window must be odd/],
    ['a bad split', () => ['--frames', citySmall, '--split', 'validation'], /--split must be train, val or test, got validation/],
    ['frames of two sizes', () => {
      const dir = tmp();
      for (let k = 1; k <= 3; k++) copyFileSync(path.join(citySmall, `frame_000${k}.png`), path.join(dir, `f${k}.png`));
      copyFileSync(path.join(cityLarge, 'frame_0004.png'), path.join(dir, 'f4.png'));
      return ['--frames', dir, '--window', '3', '--stride', '1'];
    }, /f4\.png: 720x405, but f1\.png is 240x135/],
    ['a frame that is not an image', () => {
      const dir = tmp();
      for (let k = 1; k <= 2; k++) copyFileSync(path.join(citySmall, `frame_000${k}.png`), path.join(dir, `f${k}.png`));
      writeFileSync(path.join(dir, 'f3.png'), 'oops');
      return ['--frames', dir, '--window', '3'];
    }, /f3\.png: not a PNG or JPEG file/],
  ])('refuses %s with one clear error and writes nothing', async (_what, args, message) => {
    const out = tmp();
    const result = await runCli(['synth', ...args(), '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    mkdirSync(path.join(out, 'train'), { recursive: true });
    expect(readdirSync(path.join(out, 'train'))).toEqual([]);
  });
});
