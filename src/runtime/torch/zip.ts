// The zip container of torch.save files, read through yauzl: it validates the central
// directory, entry names, offsets and sizes, and stops an entry's stream the moment it
// inflates past its declared size. On top of that, every read is bounded before it starts:
// by the caller's limit for that entry and by a budget for the whole archive, so neither a
// lying header nor an honest 2 GB entry can take memory the caller did not allow.
import { promises as fs } from 'node:fs';
import yauzl from 'yauzl';

export class ZipFormatError extends Error {}

/** Most entries an archive may list (a state dict of a few hundred tensors has as many). */
const MAX_ENTRIES = 100_000;
const LOCAL_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

export class ZipArchive {
  private constructor(
    private readonly zip: yauzl.ZipFile,
    readonly entries: Map<string, yauzl.Entry>,
    /** Bytes the archive may still inflate in all (see read). */
    private budget: number,
  ) {}

  /** Opens `file` and reads its central directory; `budget` caps the bytes all reads of
   *  this archive may return together. */
  static async open(file: string, budget: number): Promise<ZipArchive> {
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(file, { autoClose: false, strictFileNames: true });
    } catch (err) {
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
      throw err instanceof ZipFormatError ? err : new ZipFormatError(zipMessage(err));
    }
    return new ZipArchive(zip, entries, budget);
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

  close(): void {
    this.zip.close();
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
