// Image sizes are read from the header and checked before decoding (readImage's maxPixels,
// `--max-pixels`, default 100 megapixels). Before, a 2.6 MB PNG declaring 30000x30000 drove
// `netc deblur` to 22 GB resident; an interlaced PNG's data was inflated without a bound.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { interlacedRgbPng, pngFile } from '../fuzz/png-builder.js';
import { UserError } from '../src/errors.js';
import { DEFAULT_MAX_PIXELS, readImage, toUint8 } from '../src/runtime/image.js';
import { runCli } from './helpers/cli.js';
import { compressedZeros } from './helpers/compressed.js';
import { fixturePath } from './helpers/fixtures.js';
import { OFFICIAL_MODEL } from './helpers/models.js';
import { netcMeasured } from './helpers/spawn-cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'netc-imglimits-'));
const fixtures = path.resolve('test/fixtures/images');
const write = (name: string, bytes: Uint8Array) => {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
};

describe('image dimensions are checked before decoding', () => {
  let huge: string;
  const weights = path.join(dir, 'weights');
  beforeAll(async () => {
    const imported = await runCli(['import', OFFICIAL_MODEL, fixturePath('official255_r2_f8_s64', 'model.pt'), '--set', 'blocks=2', '--set', 'feats=8', '--out', weights]);
    expect(imported.code, imported.stderr).toBe(0);
    // 30000x30000 RGB: every row a filter byte and 90,000 zero bytes: 2.7 GB inflated, ~2.6 MB here.
    huge = write('huge.png', pngFile(30000, 30000, await compressedZeros(30000 * 90001, 'zlib')));
  }, 60_000);

  it('netc deblur refuses a 2.6 MB PNG declaring 30000x30000, in bounded time and memory', () => {
    expect(readFileSync(huge).length).toBeLessThan(4 * 2 ** 20);
    const r = netcMeasured(['deblur', OFFICIAL_MODEL, huge, '--set', 'blocks=2', '--set', 'feats=8', '--weights', weights, '--out', path.join(dir, 'out.png'), '--backend', 'tfjs-cpu'], { timeoutSeconds: 60 });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain(`netc: error: ${huge}: the image is 30000x30000 (900 megapixels), more than the limit of 100 megapixels; raise it with --max-pixels if this is intended`);
    expect(r.maxRssMiB).toBeLessThan(600);
    expect(r.seconds).toBeLessThan(20);
  }, 90_000);

  it('a JPEG whose frame header declares 60000x60000 is refused before jpeg-js sees it', async () => {
    const bytes = Buffer.from(readFileSync(path.join(fixtures, 'chelsea_48x40.jpg')));
    const sof = bytes.indexOf(Buffer.from([0xff, 0xc0]));
    bytes.writeUInt16BE(60000, sof + 5);
    bytes.writeUInt16BE(60000, sof + 7);
    const file = write('huge.jpg', bytes);
    await expect(readImage(file)).rejects.toThrow(`${file}: the image is 60000x60000 (3600 megapixels), more than the limit of 100 megapixels`);
  });

  it('an interlaced PNG whose 8x8 image data inflates to 1 GB is refused without inflating it all', async () => {
    const file = write('bomb.png', pngFile(8, 8, await compressedZeros(2 ** 30, 'zlib'), { interlace: true }));
    const before = process.memoryUsage().rss;
    const error = await readImage(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(`${file}: corrupt PNG (its image data inflates past the 207 bytes of a 8x8 image)`);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 2 ** 20);
  }, 30_000);

  it('reads an interlaced PNG exactly', async () => {
    const rgb = Uint8Array.from({ length: 13 * 19 * 3 }, (_, i) => (i * 37) % 256);
    const image = await readImage(write('interlaced.png', interlacedRgbPng(19, 13, rgb)));
    expect([image.width, image.height]).toEqual([19, 13]);
    expect(toUint8(image)).toEqual(rgb);
  });

  it('--max-pixels lowers (or raises) the limit; the default is 100 megapixels', async () => {
    expect(DEFAULT_MAX_PIXELS).toBe(100_000_000);
    const photo = path.join(fixtures, 'rgb_12x10.png');
    await expect(readImage(photo, { maxPixels: 119 })).rejects.toThrow(`${photo}: the image is 12x10 (0.00012 megapixels), more than the limit of 0.000119 megapixels`);
    expect((await readImage(photo, { maxPixels: 120 })).width).toBe(12);
    const r = await runCli(['deblur', OFFICIAL_MODEL, photo, '--set', 'blocks=2', '--set', 'feats=8', '--weights', weights, '--out', path.join(dir, 'x.png'), '--backend', 'tfjs-cpu', '--max-pixels', '100']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('more than the limit of 0.0001 megapixels');
    const bad = await runCli(['deblur', OFFICIAL_MODEL, photo, '--weights', weights, '--out', path.join(dir, 'x.png'), '--max-pixels', '1e8']);
    expect(bad.stderr).toContain('netc: error: --max-pixels 1e8: expected a whole number >= 1');
  });
});
