// Image bytes -> RGB pixels and back without the file system, shared by image.ts (Node) and
// the browser page, so both refuse the same files with the same words and round the same
// way. What loads and why: see image.ts. JPEG is decoded here (jpeg-js, pure JavaScript,
// identical pixels in Node and the page); PNG data is decoded by the caller (pngjs in Node,
// the browser's own decoder in the page) after checkPngHeader.
import jpeg from 'jpeg-js';
import { UserError } from '../errors.js';

/** An RGB image: HWC, values 0..1. */
export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** The smallest width or height readImage accepts. */
export const MIN_IMAGE_SIDE = 8;

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];
const PNG_COLOR_TYPES: Record<number, string> = {
  0: 'grayscale',
  2: 'RGB',
  3: 'palette',
  4: 'grayscale with alpha',
  6: 'RGBA',
};
export const SUPPORTED = 'netc reads 8-bit RGB/RGBA/palette PNG and colour JPEG';

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** Which format the bytes are, by their magic bytes (not the file name). */
export function imageFormat(file: string, bytes: Uint8Array): 'png' | 'jpeg' {
  if (startsWith(bytes, PNG_MAGIC)) return 'png';
  if (startsWith(bytes, JPEG_MAGIC)) return 'jpeg';
  throw new UserError(`${file}: not a PNG or JPEG file`);
}

/** Refuses PNGs netc does not read (grayscale, not 8-bit, no header), by the IHDR chunk. */
export function checkPngHeader(file: string, bytes: Uint8Array): void {
  // IHDR is the first chunk: length(4) type(4) width(4) height(4) depth(1) colorType(1).
  if (bytes.length < 33 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') {
    throw new UserError(`${file}: corrupt PNG (no image header)`);
  }
  const depth = bytes[24];
  const colorType = bytes[25];
  const kind = PNG_COLOR_TYPES[colorType];
  if (kind === undefined) throw new UserError(`${file}: corrupt PNG (unknown color type ${colorType})`);
  if (colorType === 0 || colorType === 4) {
    throw new UserError(`${file}: ${depth}-bit ${kind} PNG; ${SUPPORTED} (convert it to RGB first)`);
  }
  if (depth !== 8) {
    throw new UserError(`${file}: ${depth}-bit ${kind} PNG; ${SUPPORTED} (convert it to 8 bits per channel first)`);
  }
}

/** Number of colour components in a JPEG's frame header (SOFn), or undefined if none. */
function jpegComponents(bytes: Uint8Array): number | undefined {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return bytes[at + 9];
    at += 2 + ((bytes[at + 2] << 8) | bytes[at + 3]);
  }
  return undefined;
}

export function decodeJpeg(file: string, bytes: Uint8Array): RgbImage {
  if (jpegComponents(bytes) === 1) {
    throw new UserError(`${file}: grayscale JPEG; ${SUPPORTED} (convert it to RGB first)`);
  }
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UserError(`${file}: truncated or corrupt JPEG (${message})`);
  }
  return fromRgba(decoded.width, decoded.height, decoded.data);
}

/** Refuses images smaller than MIN_IMAGE_SIDE on a side. */
export function checkImageSize(file: string, image: { width: number; height: number }): void {
  if (image.width < MIN_IMAGE_SIDE || image.height < MIN_IMAGE_SIDE) {
    throw new UserError(`${file}: the image is ${image.width}x${image.height}; netc needs at least ${MIN_IMAGE_SIDE}x${MIN_IMAGE_SIDE} pixels`);
  }
}

/** RGB in 0..1 from 8-bit RGBA (alpha dropped, colours kept as stored). */
export function fromRgba(width: number, height: number, rgba: Uint8Array | Uint8ClampedArray): RgbImage {
  const data = new Float32Array(width * height * 3);
  for (let p = 0, q = 0; p < data.length; p += 3, q += 4) {
    data[p] = rgba[q] / 255;
    data[p + 1] = rgba[q + 1] / 255;
    data[p + 2] = rgba[q + 2] / 255;
  }
  return { width, height, data };
}

/** The 8-bit values of an image: clamped to [0, 1], times 255, rounded (GOPRO protocol). */
export function toUint8(image: RgbImage): Uint8Array {
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = roundHalfEven(Math.min(1, Math.max(0, image.data[i])) * 255); // NaN -> 0
  }
  return out;
}

/** Rounds to the nearest integer, ties to even, as numpy's and torch's round. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Wraps 8-bit RGB values (HWC) as an RgbImage. */
export function fromUint8(width: number, height: number, rgb: Uint8Array): RgbImage {
  const data = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) data[i] = rgb[i] / 255;
  return { width, height, data };
}
