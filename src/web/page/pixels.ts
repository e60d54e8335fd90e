// Image files in the page: the same checks and JPEG decoder as `netc deblur`
// (runtime/image-bytes.ts); PNG data through the browser's decoder with colour management
// off, so pixels are the stored values, as pngjs reads them. Output: 8-bit RGB rounded as
// the CLI rounds (toUint8), encoded by the browser as PNG.
// One difference: a canvas keeps premultiplied alpha, so the colour of partly transparent
// RGBA pixels may round differently from the CLI's (which drops alpha untouched).
import { UserError } from '../../errors.js';
import { checkImageSize, checkPngHeader, decodeJpeg, fromRgba, imageFormat, toUint8, type RgbImage } from '../../runtime/image-bytes.js';

async function decodePng(name: string, bytes: Uint8Array, file: Blob): Promise<RgbImage> {
  checkPngHeader(name, bytes);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (err) {
    throw new UserError(`${name}: corrupt PNG (${(err as Error).message})`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return fromRgba(canvas.width, canvas.height, context.getImageData(0, 0, canvas.width, canvas.height).data);
}

/** A dropped or chosen file as RGB in 0..1; UserError `name: problem` when netc cannot read it. */
export async function decodeImageFile(file: File): Promise<RgbImage> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const image = imageFormat(file.name, bytes) === 'png' ? await decodePng(file.name, bytes, file) : decodeJpeg(file.name, bytes);
  checkImageSize(file.name, image);
  return image;
}

/** The image's 8-bit values (clamped, rounded like the CLI) as opaque RGBA. */
export function toImageData(image: RgbImage): ImageData {
  const rgb = toUint8(image);
  const rgba = new Uint8ClampedArray(image.width * image.height * 4);
  for (let p = 0, q = 0; p < rgb.length; p += 3, q += 4) {
    rgba[q] = rgb[p];
    rgba[q + 1] = rgb[p + 1];
    rgba[q + 2] = rgb[p + 2];
    rgba[q + 3] = 255;
  }
  return new ImageData(rgba, image.width, image.height);
}

/** Draws the image on a canvas (resized to it). */
export function paint(canvas: HTMLCanvasElement, image: RgbImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d')!.putImageData(toImageData(image), 0, 0);
}

/** The canvas as a PNG file. */
export function pngBlob(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the browser could not encode a PNG'))), 'image/png'));
}
