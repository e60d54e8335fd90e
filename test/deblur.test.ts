import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph, Program } from '../src/compiler/ir.js';
import { initBackend, type BackendName } from '../src/runtime/backends/index.js';
import { deblurImage, maxTilePixels, sizeMultiple, tileStarts, type RgbPixels } from '../src/runtime/deblur.js';
import { runGraph } from '../src/runtime/execute.js';
import { createParams, disposeParams } from '../src/runtime/params.js';
import { tf } from '../src/runtime/tf.js';
import { TFJS_BACKEND } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { fixturePath } from './helpers/fixtures.js';
import { OFFICIAL_MODEL, compileModel } from './helpers/models.js';

const assets = path.resolve('test/helpers/deblur');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'netc-deblur-'));

function readPng(file: string): { width: number; height: number; data: Uint8Array } {
  const png = PNG.sync.read(readFileSync(file));
  const rgb = new Uint8Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = png.data[i * 4 + c];
  return { width: png.width, height: png.height, data: rgb };
}

/** A generator that returns its input unchanged (after two pyramid levels, so sizes must be
 *  multiples of 4): deblurring with it exposes any padding, tiling or blending error. */
function identityProgram(): Program {
  const loc = { file: 't', line: 1, column: 1, endLine: 1, endColumn: 1, offset: 0, length: 0 };
  const node = (id: string, op: 'affine' | 'pyramid_down', input: string, attrs: Record<string, unknown>) => ({ id, op, inputs: [input], attrs, params: [], shape: [], scope: id, loc });
  const graph: Graph = {
    name: 'Identity',
    inputs: [{ name: 'blur', id: 'blur', shape: [1, 8, 8, 3] }],
    nodes: [
      node('same', 'affine', 'blur', { scale: 1, shift: 0 }),
      node('half', 'pyramid_down', 'blur', { sigma: 2 / 3, radius: 3 }),
      node('quarter', 'pyramid_down', 'half', { sigma: 2 / 3, radius: 3 }),
    ],
    outputs: [{ name: 'L[0]', id: 'same', shape: [] }, { name: 'L[1]', id: 'half', shape: [] }, { name: 'L[2]', id: 'quarter', shape: [] }],
  };
  return { file: 't', sourceHash: '', constants: {}, overrides: {}, inputSize: [8, 8], models: { Identity: graph }, generator: 'Identity' };
}

function randomImage(height: number, width: number): RgbPixels {
  const data = new Float32Array(height * width * 3);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 256) / 255;
  return { width, height, data };
}

beforeAll(async () => {
  await initBackend('tfjs-cpu');
});

describe('deblurImage', () => {
  it('needs sizes that are multiples of 2^(scales-1)', () => {
    const program = compileModel(OFFICIAL_MODEL, { blocks: 1, feats: 4 }, [32, 32]);
    expect(sizeMultiple(program.models[program.generator])).toBe(4);
    expect(sizeMultiple(identityProgram().models.Identity)).toBe(4);
  });

  it('places tiles to cover the image with the requested overlap', () => {
    expect(tileStarts(100, 128, 16)).toEqual([0]);
    expect(tileStarts(100, 40, 8)).toEqual([0, 32, 60]);
    expect(tileStarts(64, 32, 0)).toEqual([0, 32]);
  });

  it.each([
    [30, 33, 0, 0],
    [30, 33, 16, 8],
    [61, 45, 20, 12],
    [8, 8, 4, 2],
  ])('reproduces the input exactly through padding and tiles (%ix%i, tile %i overlap %i)', async (h, w, tile, overlap) => {
    const image = randomImage(h, w);
    const progress: number[] = [];
    const out = await deblurImage(identityProgram(), new Map(), image, { tile, overlap, onProgress: (done) => progress.push(done) });
    expect([out.height, out.width]).toEqual([h, w]);
    let max = 0;
    for (let i = 0; i < image.data.length; i++) max = Math.max(max, Math.abs(out.data[i] - image.data[i]));
    expect(max).toBeLessThan(1e-6);
    expect(progress[0]).toBe(0);
    expect(progress.length).toBeGreaterThan(tile === 0 ? 1 : 2);
  });
});

describe('deblurImage on WebGL', () => {
  // A small maximum texture size makes the tiny model hit the same wall as the full model
  // at 1280x720 (an im2row texture over 16384x16384).
  const program = compileModel(OFFICIAL_MODEL, { blocks: 1, feats: 8 }, [96, 96]);
  const graph = program.models[program.generator];
  const image = randomImage(96, 96);

  it('shrinks tiles to what the largest texture allows, with the same result as CPU tiles', async () => {
    await initBackend('webgl');
    const params = createParams(graph, 3);
    const maxTextureSize = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
    try {
      tf.env().set('WEBGL_MAX_TEXTURE_SIZE', 512);
      // 5x5 convs over 8 channels: 0.95 * 4 * 512^2 / 200 texels -> 4,980 pixels per tile.
      expect(Math.floor(maxTilePixels(graph))).toBe(4980);
      const whole = tf.zeros([1, 96, 96, 3]);
      expect(() => tf.tidy(() => runGraph(graph, [whole], params))).toThrow(/texture size/);
      whole.dispose();
      let tiles = 0;
      const ours = await deblurImage(program, params, image, { tile: 0, overlap: 16, onProgress: (_, total) => (tiles = total) });
      expect(tiles).toBe(4); // 68x68 tiles (the largest multiple of 4 under sqrt(4980))
      tf.env().set('WEBGL_MAX_TEXTURE_SIZE', maxTextureSize);
      await initBackend('tfjs-cpu');
      expect(maxTilePixels(graph)).toBe(Infinity);
      const cpuParams = createParams(graph, 3);
      const reference = await deblurImage(program, cpuParams, image, { tile: 68, overlap: 16 });
      disposeParams(cpuParams);
      let max = 0;
      for (let i = 0; i < ours.data.length; i++) max = Math.max(max, Math.abs(ours.data[i] - reference.data[i]));
      expect(max).toBeLessThan(1e-4);
    } finally {
      tf.env().set('WEBGL_MAX_TEXTURE_SIZE', maxTextureSize);
      disposeParams(params);
      await initBackend('tfjs-cpu');
    }
  }, 120_000);
});

describe('netc deblur', () => {
  let weights: string;
  beforeAll(async () => {
    weights = path.join(tmp(), 'ckpt');
    const result = await runCli(['import', fixturePath('official255_r2_f8_s64', 'model.pt'), '--model', OFFICIAL_MODEL, '--set', 'blocks=2', '--set', 'feats=8', '--out', weights]);
    expect(result.code).toBe(0);
  });
  const deblur = (args: string[]) => runCli(['deblur', ...args, '--model', OFFICIAL_MODEL, '--set', 'blocks=2', '--set', 'feats=8', '--weights', weights]);

  it.each<BackendName>(['tfjs-cpu', 'webgl', 'cpu'])('matches PyTorch within 1 level on 8-bit output (odd size, %s)', async (backend) => {
    const out = path.join(tmp(), 'sharp.png');
    const result = await deblur([path.join(assets, 'blur_62x61.png'), '--out', out, '--backend', backend]);
    expect(result.code, result.stderr).toBe(0);
    expect(tf.getBackend()).toBe(TFJS_BACKEND[backend]); // the CLI ran in this process: what it ran on
    await initBackend('tfjs-cpu');
    const ours = readPng(out);
    const reference = readPng(path.join(assets, 'pytorch_deblurred_62x61.png'));
    expect([ours.width, ours.height]).toEqual([61, 62]);
    let max = 0;
    for (let i = 0; i < ours.data.length; i++) max = Math.max(max, Math.abs(ours.data[i] - reference.data[i]));
    expect(max).toBeLessThanOrEqual(1);
  }, 60_000);

  it('writes one PNG per input into a directory for several inputs', async () => {
    const dir = path.join(tmp(), 'outs');
    const first = path.join(assets, 'blur_62x61.png');
    const second = path.join(tmp(), 'copy.png');
    copyFileSync(first, second);
    const result = await deblur([first, second, '--out', dir, '--backend', 'tfjs-cpu', '--tile', '32', '--overlap', '8']);
    expect(result.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['blur_62x61.png', 'copy.png']);
  }, 60_000);

  const bad: [string, string, RegExp][] = [
    ['a missing file', '/nonexistent/photo.png', /^netc: error: \/nonexistent\/photo\.png: no such file$/],
    ['a text file', 'not_an_image.png', /not_an_image\.png: /],
    ['a truncated PNG', 'truncated.png', /truncated\.png: /],
    ['a grayscale PNG', 'gray_8x8.png', /gray_8x8\.png: /],
    ['a 16-bit PNG', 'rgb16_8x8.png', /rgb16_8x8\.png: /],
    ['a 1x1 image', 'rgb_1x1.png', /rgb_1x1\.png: /],
  ];
  const messages: string[] = [];
  afterAll(() => console.log(messages.join('\n')));
  it.each(bad)('rejects %s with one clear error, exit 1, nothing written', async (_what, file, message) => {
    const dir = tmp();
    const input = file.startsWith('/') ? file : path.join(assets, file);
    const result = await deblur([input, '--out', path.join(dir, 'out.png'), '--backend', 'tfjs-cpu']);
    expect(result.code).toBe(1);
    const errors = result.stderr.split('\n').filter((l) => l.startsWith('netc: error:'));
    expect(errors.length).toBe(1);
    expect(errors[0]).toMatch(message);
    messages.push(errors[0]);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects a checkpoint of another variant, naming the mismatches', async () => {
    const dir = tmp();
    const result = await runCli(['deblur', path.join(assets, 'blur_62x61.png'), '--model', OFFICIAL_MODEL, '--set', 'blocks=3', '--weights', weights, '--out', path.join(dir, 'o.png'), '--backend', 'tfjs-cpu']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`netc: error: ${weights}: checkpoint (saved from ${OFFICIAL_MODEL} with --set blocks=2 feats=8) does not fit`);
    expect(result.stderr).toContain('wrong shape: scale2/ScaleNet/conv0.weight: expected [5, 5, 3, 64], found [5, 5, 3, 8]');
    expect(result.stderr).toContain('missing: scale2/ScaleNet/ResBlock.2/ResBlock/conv0.weight [5, 5, 64, 64]');
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(path.join(dir, 'o.png'))).toBe(false);
  });
});
