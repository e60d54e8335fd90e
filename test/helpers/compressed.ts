// Bombs for tests: many zeros, compressed while streaming (never held uncompressed).
import { createDeflate, createDeflateRaw } from 'node:zlib';

/** `bytes` zeros, deflated: 'raw' (a zip entry's data) or 'zlib' (a PNG's IDAT data). */
export async function compressedZeros(bytes: number, format: 'raw' | 'zlib'): Promise<Buffer> {
  const z = format === 'raw' ? createDeflateRaw({ level: 1 }) : createDeflate({ level: 9 });
  const chunks: Buffer[] = [];
  z.on('data', (c: Buffer) => chunks.push(c));
  const zero = Buffer.alloc(64 * 2 ** 20);
  for (let left = bytes; left > 0; left -= zero.length) {
    if (!z.write(left >= zero.length ? zero : zero.subarray(0, left))) await new Promise((r) => z.once('drain', r));
  }
  await new Promise((r) => z.end(r));
  return Buffer.concat(chunks);
}
