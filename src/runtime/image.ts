// Reading and writing RGB images (PNG and JPEG in, PNG out).
//
// What loads: 8-bit RGB and RGBA PNGs, palette PNGs, and colour JPEGs, detected by their
// magic bytes (not the file name). An alpha channel is dropped (the pixels keep their
// stored colour; nothing is composited). Grayscale images, 16-bit PNGs and images smaller
// than MIN_IMAGE_SIDE on a side are refused with a message saying what was found: the
// networks are trained on 8-bit RGB, and silently converting would hide a mistake.
// Pixels are float RGB in 0..1, HWC. Output PNGs are 8-bit RGB, values clamped to [0, 1]
// and rounded (value * 255), as in the GOPRO evaluation protocol.
import { promises as fs } from 'node:fs';
import { crc32, inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError } from '../errors.js';
import { PNG_MARKER, PNG_OUTPUT, writeFileAtomic } from './fsutil.js';
import { MIN_IMAGE_SIDE, SUPPORTED, checkPngHeader, fromRgba, imageFormat, toUint8, type RgbImage } from './image-bytes.js';

// The image type and the value rules are shared with the browser page (image-bytes.ts).
export { MIN_IMAGE_SIDE, fromUint8, roundHalfEven, toUint8, type RgbImage } from './image-bytes.js';

/** Images larger than this many pixels are refused before decoding (--max-pixels). */
export const DEFAULT_MAX_PIXELS = 100_000_000;

export interface ReadImageOptions {
  /** Largest image accepted, in pixels (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
}

/** Reads a PNG or JPEG file as RGB in 0..1; throws UserError `file: problem` otherwise.
 *  Width and height come from the file's header and are checked (at least MIN_IMAGE_SIDE,
 *  at most `maxPixels` pixels) before anything is decoded: a 2 MB file declaring
 *  30000x30000 is refused, not decoded into 22 GB. */
export async function readImage(file: string, options: ReadImageOptions = {}): Promise<RgbImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  let bytes: Buffer;
  try {
    const stat = await fs.stat(file);
    if (stat.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    // No PNG or JPEG of maxPixels pixels is this large (8-bit RGBA stored uncompressed: 4 bytes a pixel).
    const maxBytes = maxPixels * 5 + 16 * 2 ** 20;
    if (stat.size > maxBytes) throw new UserError(`${file}: ${stat.size.toLocaleString('en-US')} bytes, more than an image of at most ${megapixels(maxPixels)} can take (--max-pixels)`);
    bytes = await fs.readFile(file);
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${file}: no such file`);
    if (code === 'EISDIR') throw new UserError(`${file}: is a directory, not an image`);
    throw new UserError(`${file}: cannot read (${(err as Error).message})`);
  }
  const checkSize = (width: number, height: number) => {
    if (width < MIN_IMAGE_SIDE || height < MIN_IMAGE_SIDE) {
      throw new UserError(`${file}: the image is ${width}x${height}; netc needs at least ${MIN_IMAGE_SIDE}x${MIN_IMAGE_SIDE} pixels`);
    }
    if (width * height > maxPixels) {
      throw new UserError(`${file}: the image is ${width}x${height} (${megapixels(width * height)}), more than the limit of ${megapixels(maxPixels)}; raise it with --max-pixels if this is intended`);
    }
  };
  return imageFormat(file, bytes) === 'png' ? decodePng(file, bytes, checkSize) : decodeJpeg(file, bytes, checkSize, maxPixels);
}

const megapixels = (n: number) => `${Number((n / 1e6).toPrecision(4))} megapixels`;

/** Adam7: [x start, y start, x step, y step] of the seven passes. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/** The concatenated IDAT data of a PNG (chunks walked by their lengths). */
function idatData(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') parts.push(bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length)));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  return Buffer.concat(parts);
}

function decodePng(file: string, bytes: Buffer, checkSize: (width: number, height: number) => void): RgbImage {
  checkPngHeader(file, bytes); // IHDR: 8-bit colour, or a clear message
  // IHDR: length(4) type(4) width(4) height(4) depth(1) colorType(1) compression(1) filter(1) interlace(1)
  const colorType = bytes[25];
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  checkSize(width, height);
  if (bytes[28] === 1) {
    // pngjs inflates interlaced data without a bound: inflate it here first, bounded by
    // what the seven passes of a width x height image hold.
    const channels = colorType === 2 ? 3 : colorType === 6 ? 4 : 1;
    let expected = 0;
    for (const [x0, y0, dx, dy] of ADAM7) {
      const w = Math.ceil((width - x0) / dx);
      const h = Math.ceil((height - y0) / dy);
      if (w > 0 && h > 0) expected += h * (w * channels + 1);
    }
    try {
      inflateSync(idatData(bytes), { maxOutputLength: expected });
    } catch (err) {
      throw new UserError(`${file}: corrupt PNG (its image data ${(err as Error).name === 'RangeError' ? `inflates past the ${expected.toLocaleString('en-US')} bytes of a ${width}x${height} image` : `does not inflate: ${(err as Error).message}`})`);
    }
  }
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
  if (png.width !== width || png.height !== height) throw new UserError(`${file}: corrupt PNG (decoded ${png.width}x${png.height}, the header says ${width}x${height})`);
  return fromRgba(png.width, png.height, png.data);
}

/** The first frame header (SOFn) of a JPEG: components, width, height; undefined when the
 *  markers before the scan hold none. */
function jpegFrame(bytes: Buffer): { components: number; width: number; height: number } | undefined {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2; // markers without a length
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // the scan (or the end) before any frame
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (at + 10 > bytes.length) return undefined;
      return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7), components: bytes[at + 9] };
    }
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  return undefined;
}

function decodeJpeg(file: string, bytes: Buffer, checkSize: (width: number, height: number) => void, maxPixels: number): RgbImage {
  const frame = jpegFrame(bytes);
  if (!frame) throw new UserError(`${file}: truncated or corrupt JPEG (no frame header before the image data)`);
  if (frame.components === 1) {
    throw new UserError(`${file}: grayscale JPEG; ${SUPPORTED} (convert it to RGB first)`);
  }
  checkSize(frame.width, frame.height);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    // jpeg-js's own limits, set to ours: its buffers take about 8 bytes a pixel.
    decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxPixels / 1e6, maxMemoryUsageInMB: Math.ceil((maxPixels * 8) / 2 ** 20) + 64 });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UserError(`${file}: truncated or corrupt JPEG (${message})`);
  }
  if (decoded.width !== frame.width || decoded.height !== frame.height) {
    throw new UserError(`${file}: corrupt JPEG (decoded ${decoded.width}x${decoded.height}, the header says ${frame.width}x${frame.height})`);
  }
  return fromRgba(decoded.width, decoded.height, decoded.data);
}

/** Encodes an image as an 8-bit RGB PNG (clamped, rounded) carrying netc's marker. */
export function encodePng(image: RgbImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height, colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8 });
  png.data = Buffer.from(toUint8(image).buffer);
  // Paeth on every row (filterType 4) instead of pngjs's default of trying all five per row:
  // on photos it is the filter the search picks anyway (same bytes for a 1280x720 deblurred
  // frame), at less than half the time (212 -> 95 ms).
  const bytes = PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8, filterType: 4 });
  const chunk = Buffer.alloc(12 + PNG_MARKER.length);
  chunk.writeUInt32BE(PNG_MARKER.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  PNG_MARKER.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + PNG_MARKER.length)), 8 + PNG_MARKER.length);
  return Buffer.concat([bytes.subarray(0, 33), chunk, bytes.subarray(33)]); // signature + IHDR are 33 bytes
}

/** Writes an image as an 8-bit RGB PNG, atomically; replaces only a PNG netc wrote
 *  (fsutil.ts: the owned-output rule). */
export async function writePng(file: string, image: RgbImage): Promise<void> {
  await writeFileAtomic(file, encodePng(image), PNG_OUTPUT);
}
