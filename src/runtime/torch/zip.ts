// The zip container of torch.save files, read through yauzl: it validates the central
// directory, entry names, offsets and sizes, and stops an entry's stream the moment it
// inflates past its declared size. On top of that, every read is bounded before it starts:
// by the caller's limit for that entry and by a budget for the whole archive, so neither a
// lying header nor an honest 2 GB entry can take memory the caller did not allow.
// yauzl reads the file through FileReader below, which refuses positions outside the file:
// yauzl's own fd reader passes a zip64 record's offset (any 64-bit number) to fs.read,
// which throws outside any callback and ends the process (found by the .pt fuzzer).
import { promises as fs, read } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import yauzl from 'yauzl';

class FileReader extends yauzl.RandomAccessReader {
  constructor(private readonly fd: number, private readonly size: number) {
    super();
  }

  private outside(start: number, end: number): Error | undefined {
    if (Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end <= this.size) return undefined;
    return new Error(`a read of bytes ${start}..${end} reaches outside the ${this.size}-byte file`);
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const problem = this.outside(start, end);
    if (problem) {
      const failed = new PassThrough();
      setImmediate(() => failed.destroy(problem));
      return failed;
    }
    // fs.createReadStream closes a borrowed fd when it ends, whatever autoClose says
    let position = start;
    const stream: Readable = new Readable({
      read: (size) => {
        const length = Math.min(size, end - position);
        if (length <= 0) return void stream.push(null);
        const chunk = Buffer.allocUnsafe(length);
        read(this.fd, chunk, 0, length, position, (err, bytesRead) => {
          if (err) return void stream.destroy(err);
          if (bytesRead === 0) return void stream.destroy(new Error('the file ends early'));
          position += bytesRead;
          stream.push(chunk.subarray(0, bytesRead));
        });
      },
    });
    return stream;
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    const problem = this.outside(position, position + length);
    if (problem) return void setImmediate(() => callback(problem));
    read(this.fd, buffer, offset, length, position, (err, bytesRead) => callback(err, bytesRead));
  }

  override close(callback: (err: Error | null) => void): void {
    callback(null); // the fd is ZipArchive's to close
  }
}

export class ZipFormatError extends Error {}

/** Most entries an archive may list (a state dict of a few hundred tensors has as many). */
const MAX_ENTRIES = 100_000;
const LOCAL_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

export class ZipArchive {
  private constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly file: fs.FileHandle,
    readonly entries: Map<string, yauzl.Entry>,
    /** Bytes the archive may still inflate in all (see read). */
    private budget: number,
  ) {}

  /** Opens `file` and reads its central directory; `budget` caps the bytes all reads of
   *  this archive may return together. */
  static async open(file: string, budget: number): Promise<ZipArchive> {
    const handle = await fs.open(file, 'r');
    let zip: yauzl.ZipFile;
    try {
      const { size } = await handle.stat();
      zip = await yauzl.fromRandomAccessReaderPromise(new FileReader(handle.fd, size), size, { autoClose: false, strictFileNames: true });
    } catch (err) {
      await handle.close();
      throw new ZipFormatError(zipMessage(err));
    }
    const entries = new Map<string, yauzl.Entry>();
    try {
      for await (const entry of zip.eachEntry()) {
        if (entries.size >= MAX_ENTRIES) throw new ZipFormatError(`more than ${MAX_ENTRIES.toLocaleString('en-US')} entries`);
        if (entries.has(entry.fileName)) throw new ZipFormatError(`entry '${entry.fileName}' appears twice`);
        entries.set(entry.fileName, entry);
      }
    } catch (err) {
      zip.close();
      await handle.close();
      throw err instanceof ZipFormatError ? err : new ZipFormatError(zipMessage(err));
    }
    return new ZipArchive(zip, handle, entries, budget);
  }

  /** The entry's bytes. Refused before anything is inflated when its declared size is over
   *  `limit` (or `exactSize` is given and differs) or over what is left of the budget. */
  async read(name: string, limit: number, exactSize?: number): Promise<Buffer> {
    const entry = this.entries.get(name);
    if (!entry) throw new ZipFormatError(`missing entry '${name}'`);
    const size = entry.uncompressedSize;
    if (exactSize !== undefined && size !== exactSize) {
      throw new ZipFormatError(`entry '${name}' holds ${size.toLocaleString('en-US')} bytes, but its storage needs ${exactSize.toLocaleString('en-US')}`);
    }
    if (size > limit) throw new ZipFormatError(`entry '${name}' declares ${size.toLocaleString('en-US')} bytes, more than the ${limit.toLocaleString('en-US')} allowed`);
    if (size > this.budget) {
      throw new ZipFormatError(`entry '${name}' (${size.toLocaleString('en-US')} bytes) would take the archive past its limit of bytes read`);
    }
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      throw new ZipFormatError(`entry '${name}' uses unsupported compression method ${entry.compressionMethod}`);
    }
    this.budget -= size;
    const out = Buffer.alloc(size);
    let filled = 0;
    try {
      const stream = await this.zip.openReadStreamPromise(entry);
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        // yauzl stops a stream that inflates past the declared size; this never trusts it to.
        if (filled + chunk.length > size) {
          stream.destroy();
          throw new ZipFormatError(`entry '${name}' inflates past its declared ${size.toLocaleString('en-US')} bytes`);
        }
        chunk.copy(out, filled);
        filled += chunk.length;
      }
    } catch (err) {
      throw err instanceof ZipFormatError ? err : new ZipFormatError(`entry '${name}': ${zipMessage(err)}`);
    }
    if (filled !== size) throw new ZipFormatError(`entry '${name}' is truncated (${filled} of ${size} bytes)`);
    return out;
  }

  async close(): Promise<void> {
    this.zip.close();
    await this.file.close();
  }
}

/** yauzl's and zlib's messages, in lower case as the rest of netc's. */
function zipMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.charAt(0).toLowerCase() + message.slice(1);
}

/** Whether the file starts like a zip archive (torch.save's format since PyTorch 1.6). */
export async function isZipFile(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.equals(LOCAL_SIGNATURE);
  } finally {
    await handle.close();
  }
}
