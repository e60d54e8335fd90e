// Minimal zip reader for torch.save archives: central directory, stored or deflated entries.
import { inflateRawSync } from 'node:zlib';

export class ZipFormatError extends Error {}

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();

  constructor(private readonly data: Buffer) {
    const eocd = this.findEndOfCentralDirectory();
    let count = data.readUInt16LE(eocd + 10);
    let offset = data.readUInt32LE(eocd + 16);
    if (offset === 0xffffffff || count === 0xffff) ({ count, offset } = this.readZip64End(eocd));
    for (let i = 0; i < count; i++) {
      if (offset + 46 > data.length || data.readUInt32LE(offset) !== CENTRAL_SIGNATURE) {
        throw new ZipFormatError('corrupt zip central directory');
      }
      const nameLength = data.readUInt16LE(offset + 28);
      const extraLength = data.readUInt16LE(offset + 30);
      const commentLength = data.readUInt16LE(offset + 32);
      const name = data.toString('utf8', offset + 46, offset + 46 + nameLength);
      const entry: ZipEntry = {
        name,
        method: data.readUInt16LE(offset + 10),
        compressedSize: data.readUInt32LE(offset + 20),
        size: data.readUInt32LE(offset + 24),
        localHeaderOffset: data.readUInt32LE(offset + 42),
      };
      this.applyZip64Extra(entry, data.subarray(offset + 46 + nameLength, offset + 46 + nameLength + extraLength));
      this.entries.set(name, entry);
      offset += 46 + nameLength + extraLength + commentLength;
    }
  }

  private findEndOfCentralDirectory(): number {
    const min = Math.max(0, this.data.length - 22 - 0xffff);
    for (let i = this.data.length - 22; i >= min; i--) {
      if (this.data.readUInt32LE(i) === EOCD_SIGNATURE) return i;
    }
    throw new ZipFormatError('not a zip archive (no end of central directory)');
  }

  private readZip64End(eocd: number): { count: number; offset: number } {
    const locator = eocd - 20;
    if (locator < 0 || this.data.readUInt32LE(locator) !== ZIP64_LOCATOR_SIGNATURE) throw new ZipFormatError('corrupt zip64 archive');
    const end = Number(this.data.readBigUInt64LE(locator + 8));
    if (this.data.readUInt32LE(end) !== ZIP64_EOCD_SIGNATURE) throw new ZipFormatError('corrupt zip64 archive');
    return { count: Number(this.data.readBigUInt64LE(end + 32)), offset: Number(this.data.readBigUInt64LE(end + 48)) };
  }

  /** Zip64 extended information: 64-bit sizes/offset for the fields that read 0xffffffff. */
  private applyZip64Extra(entry: ZipEntry, extra: Buffer): void {
    for (let p = 0; p + 4 <= extra.length; ) {
      const id = extra.readUInt16LE(p);
      const size = extra.readUInt16LE(p + 2);
      if (id === 0x0001) {
        let q = p + 4;
        const next = () => {
          const value = Number(extra.readBigUInt64LE(q));
          q += 8;
          return value;
        };
        if (entry.size === 0xffffffff) entry.size = next();
        if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
        if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next();
      }
      p += 4 + size;
    }
  }

  read(name: string): Buffer {
    const entry = this.entries.get(name);
    if (!entry) throw new ZipFormatError(`missing entry '${name}'`);
    const local = entry.localHeaderOffset;
    if (local + 30 > this.data.length || this.data.readUInt32LE(local) !== LOCAL_SIGNATURE) {
      throw new ZipFormatError(`corrupt local header of '${name}'`);
    }
    // The local header's extra field may differ from the central one (torch pads it to align).
    const start = local + 30 + this.data.readUInt16LE(local + 26) + this.data.readUInt16LE(local + 28);
    const end = start + entry.compressedSize;
    if (end > this.data.length) throw new ZipFormatError(`entry '${name}' is truncated`);
    const raw = this.data.subarray(start, end);
    if (entry.method === 0) return raw;
    if (entry.method === 8) return inflateRawSync(raw);
    throw new ZipFormatError(`entry '${name}' uses unsupported compression method ${entry.method}`);
  }
}

export function isZip(data: Buffer): boolean {
  return data.length >= 4 && data.readUInt32LE(0) === LOCAL_SIGNATURE;
}
