import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { MIN_IMAGE_SIDE, readImage, roundHalfEven, toUint8, writePng } from '../src/runtime/image.js';

const fixtures = path.resolve('test/fixtures/images');
const badInputs = path.resolve('test/helpers/deblur');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'netc-image-'));

/** The file's pixels decoded independently of image.ts (pngjs, RGBA -> RGB). */
function pngRgb(file: string): Uint8Array {
  const png = PNG.sync.read(readFileSync(file));
  const rgb = new Uint8Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = png.data[i * 4 + c];
  return rgb;
}

describe('readImage', () => {
  it('reads an 8-bit RGB PNG exactly (values / 255)', async () => {
    const image = await readImage(path.join(fixtures, 'rgb_12x10.png'));
    expect([image.width, image.height]).toEqual([12, 10]);
    // Values printed by PIL when the fixture was made (see the fixtures README).
    expect(Array.from(toUint8(image).slice(0, 3))).toEqual([168, 229, 184]);
    expect(Array.from(toUint8(image).slice(-3))).toEqual([231, 196, 204]);
    expect(image.data[0]).toBeCloseTo(168 / 255, 7);
  });

  it('drops the alpha channel of RGBA and expands palettes', async () => {
    const rgb = toUint8(await readImage(path.join(fixtures, 'rgb_12x10.png')));
    expect(toUint8(await readImage(path.join(fixtures, 'rgba_12x10.png')))).toEqual(rgb);
    const palette = toUint8(await readImage(path.join(fixtures, 'palette_12x10.png')));
    expect(palette).toEqual(pngRgb(path.join(fixtures, 'palette_12x10.pil.png')));
    expect(palette).not.toEqual(rgb);
  });

  it('reads a colour JPEG close to libjpeg (PIL) and detects the format by content', async () => {
    const dir = tmp();
    const disguised = path.join(dir, 'photo.png'); // a JPEG with a .png name
    copyFileSync(path.join(fixtures, 'chelsea_48x40.jpg'), disguised);
    const ours = toUint8(await readImage(disguised));
    const pil = pngRgb(path.join(fixtures, 'chelsea_48x40.jpg.pil.png'));
    let maxDiff = 0;
    let sumDiff = 0;
    for (let i = 0; i < ours.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(ours[i] - pil[i]));
      sumDiff += Math.abs(ours[i] - pil[i]);
    }
    // Decoders differ in IDCT and chroma upsampling; on a photo about a level.
    expect(sumDiff / ours.length).toBeLessThan(1.5); // measured 0.85
    expect(maxDiff).toBeLessThan(16); // measured 9
  });

  it.each([
    ['a missing file', 'no_such.png', /no_such\.png: no such file/],
    ['a text file', 'not_an_image.png', /not_an_image\.png: not a PNG or JPEG file/],
    ['a truncated PNG', 'truncated.png', /truncated\.png: truncated PNG \(the file ends before the image data does\)$/],
    ['a grayscale PNG', 'gray_8x8.png', /gray_8x8\.png: 8-bit grayscale PNG; netc reads 8-bit RGB/],
    ['a 16-bit PNG', 'rgb16_8x8.png', /rgb16_8x8\.png: 16-bit RGB PNG; netc reads 8-bit RGB/],
    ['a 1x1 image', 'rgb_1x1.png', new RegExp(`rgb_1x1\\.png: the image is 1x1; netc needs at least ${MIN_IMAGE_SIDE}x${MIN_IMAGE_SIDE}`)],
  ])('refuses %s with one clear UserError', async (_what, name, message) => {
    const error = await readImage(path.join(badInputs, name)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses a PNG with damaged data', async () => {
    const bytes = Buffer.from(readFileSync(path.join(fixtures, 'rgb_12x10.png')));
    bytes[bytes.indexOf('IDAT') + 20] ^= 0xff;
    const file = path.join(tmp(), 'damaged.png');
    writeFileSync(file, bytes);
    const error = await readImage(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/damaged\.png: corrupt PNG \(.+\)/);
  });

  it('refuses a grayscale JPEG and a truncated JPEG', async () => {
    await expect(readImage(path.join(fixtures, 'gray_12x10.jpg'))).rejects.toThrow(/gray_12x10\.jpg: grayscale JPEG/);
    const file = path.join(tmp(), 'cut.jpg');
    const bytes = readFileSync(path.join(fixtures, 'chelsea_48x40.jpg'));
    writeFileSync(file, bytes.subarray(0, 200));
    const error = await readImage(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/cut\.jpg: truncated or corrupt JPEG/);
  });
});

describe('writePng', () => {
  it('writes 8-bit RGB, clamped and rounded half to even, leaving no temp file', async () => {
    const dir = tmp();
    const file = path.join(dir, 'out.png');
    const data = new Float32Array([-0.5, 0, 0.5, 1, 1.5, 2.4 / 255, 3.6 / 255, NaN, 200.4 / 255]); // 0.5 * 255 = 127.5: a tie
    await writePng(file, { width: 3, height: 1, data });
    const png = PNG.sync.read(readFileSync(file));
    expect(png.colorType).toBe(2);
    expect(png.depth).toBe(8);
    expect(pngRgb(file)).toEqual(new Uint8Array([0, 0, 128, 255, 255, 2, 4, 0, 200]));
    expect(readdirSync(dir)).toEqual(['out.png']);
  });

  it('round-trips through readImage', async () => {
    const source = await readImage(path.join(fixtures, 'rgb_12x10.png'));
    const file = path.join(tmp(), 'copy.png');
    await writePng(file, source);
    expect(toUint8(await readImage(file))).toEqual(toUint8(source));
  });

  it('rounds ties to even like numpy', () => {
    expect([0.5, 1.5, 2.5, 127.5, -0.5, 3.2, 3.7].map(roundHalfEven)).toEqual([0, 2, 2, 128, -0, 3, 4]);
  });
});
