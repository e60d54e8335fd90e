// Reading and writing RGB images (PNG and JPEG in, PNG out).
//
// What loads: 8-bit RGB and RGBA PNGs, palette PNGs, and colour JPEGs, detected by their
// magic bytes (not the file name). An alpha channel is dropped (the pixels keep their
// stored colour; nothing is composited). Grayscale images, 16-bit PNGs and images smaller
// than MIN_IMAGE_SIDE on a side are refused with a message saying what was found: the
// networks are trained on 8-bit RGB, and silently converting would hide a mistake.
// Pixels are float RGB in 0..1, HWC. Output PNGs are 8-bit RGB, values clamped to [0, 1]
// and rounded (value * 255), as in the GOPRO evaluation protocol.
// The checks, JPEG decoding and rounding live in image-bytes.ts (shared with the browser
// page); this module adds files and PNG coding (pngjs).
import { promises as fs } from 'node:fs';
import { PNG } from 'pngjs';
import { UserError } from '../errors.js';
import { writeFileAtomic } from './fsutil.js';
import { checkImageSize, checkPngHeader, decodeJpeg, fromRgba, imageFormat, toUint8, type RgbImage } from './image-bytes.js';

export { MIN_IMAGE_SIDE, fromUint8, roundHalfEven, toUint8, type RgbImage } from './image-bytes.js';

/** Reads a PNG or JPEG file as RGB in 0..1; throws UserError `file: problem` otherwise. */
export async function readImage(file: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${file}: no such file`);
    if (code === 'EISDIR') throw new UserError(`${file}: is a directory, not an image`);
    throw new UserError(`${file}: cannot read (${(err as Error).message})`);
  }
  const image = imageFormat(file, bytes) === 'png' ? decodePng(file, bytes) : decodeJpeg(file, bytes);
  checkImageSize(file, image);
  return image;
}

function decodePng(file: string, bytes: Buffer): RgbImage {
  checkPngHeader(file, bytes);
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (err) {
    const message = (err as Error).message;
    // pngjs's words for "the data stopped early"
    if (/read requests waitng on finished stream|unexpected end/i.test(message)) {
      throw new UserError(`${file}: truncated PNG (the file ends before the image data does)`);
    }
    throw new UserError(`${file}: corrupt PNG (${message})`);
  }
  return fromRgba(png.width, png.height, png.data);
}

/** Encodes an image as an 8-bit RGB PNG (clamped, rounded). */
export function encodePng(image: RgbImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height, colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8 });
  png.data = Buffer.from(toUint8(image).buffer);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8 });
}

/** Writes an image as an 8-bit RGB PNG, atomically. */
export async function writePng(file: string, image: RgbImage): Promise<void> {
  await writeFileAtomic(file, encodePng(image));
}
