// Writing PNGs by chunks, for tests and fuzz seeds that pngjs cannot write: interlaced
// (Adam7) images, and headers that say one thing while the data holds another.
import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function pngChunk(type: string, data: Uint8Array): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  Buffer.from(data).copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

/** A PNG with this header (8-bit, color type 2 = RGB unless given) and these zlib bytes as its image data. */
export function pngFile(width: number, height: number, zlibData: Uint8Array, options: { colorType?: number; interlace?: boolean } = {}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = options.colorType ?? 2;
  ihdr[12] = options.interlace ? 1 : 0;
  return Buffer.concat([SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', zlibData), pngChunk('IEND', new Uint8Array(0))]);
}

/** An interlaced 8-bit RGB PNG of `rgb` (HWC bytes), every row unfiltered. */
export function interlacedRgbPng(width: number, height: number, rgb: Uint8Array): Buffer {
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
  const rows: number[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    if (x0 >= width || y0 >= height) continue;
    for (let y = y0; y < height; y += dy) {
      rows.push(0);
      for (let x = x0; x < width; x += dx) rows.push(rgb[(y * width + x) * 3], rgb[(y * width + x) * 3 + 1], rgb[(y * width + x) * 3 + 2]);
    }
  }
  return pngFile(width, height, deflateSync(Buffer.from(rows)), { interlace: true });
}
