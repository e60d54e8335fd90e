// Building torch.save-like archives for tests and the .pt fuzzer: a zip writer that can
// also lie in its headers (declared sizes, entry data), a reader of real archives (yauzl)
// to take them apart, and a pickle writer for small state dicts with chosen shapes,
// strides, offsets and storage sizes.
import { crc32, deflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';

export interface ZipEntrySpec {
  name: string;
  data: Uint8Array;
  /** Deflate the data (default: stored, as torch.save does). */
  deflate?: boolean;
  /** Already deflated bytes to store as the entry's data (with deflate: true). */
  raw?: Uint8Array;
  /** Uncompressed size written in the headers (default: the true one). */
  declaredSize?: number;
}

/** A zip archive of the entries, written in order (no zip64, no extra fields). */
export function buildZip(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const body = e.raw ?? (e.deflate ? deflateRawSync(e.data) : e.data);
    const size = e.declaredSize ?? e.data.length;
    const compressed = e.deflate ? body.length : (e.declaredSize ?? body.length);
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(compressed >>> 0, 18);
    local.writeUInt32LE(size >>> 0, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(e.deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(compressed >>> 0, 20);
    central.writeUInt32LE(size >>> 0, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, Buffer.from(body));
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** Every entry of a real archive, in order, inflated. */
export async function readZipEntries(file: string): Promise<{ name: string; data: Buffer }[]> {
  const zip = await yauzl.openPromise(file, { autoClose: false });
  const entries: { name: string; data: Buffer }[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      const chunks: Buffer[] = [];
      for await (const chunk of (await zip.openReadStreamPromise(entry)) as AsyncIterable<Buffer>) chunks.push(chunk);
      entries.push({ name: entry.fileName, data: Buffer.concat(chunks) });
    }
  } finally {
    zip.close();
  }
  return entries;
}

/** A tensor of a crafted state dict. */
export interface TensorSpec {
  name: string;
  /** Storage key (default: the tensor's index). */
  key?: string;
  /** Elements the storage declares (default: the dense size of shape). */
  numel?: number;
  shape: number[];
  stride?: number[];
  offset?: number;
  storageType?: string;
}

const op = (code: number) => [code];
const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const str = (s: string) => {
  const bytes = Buffer.from(s, 'utf8');
  return [0x58, ...u32(bytes.length), ...bytes]; // BINUNICODE
};
const int = (n: number) => [0x4a, ...u32(n)]; // BININT (signed 32-bit)
const global = (module: string, name: string) => [0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1')];
const tuple = (...items: number[][]) => [0x28, ...items.flat(), 0x74]; // MARK ... TUPLE

function denseStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/** The pickle torch.save writes for {'G': OrderedDict(name: tensor, ...)} (protocol 2). */
export function statePickle(tensors: TensorSpec[]): Buffer {
  const items = tensors.map((t, i) => {
    const numel = t.numel ?? t.shape.reduce((a, b) => a * b, 1);
    const storage = tuple(str('storage'), global('torch', t.storageType ?? 'FloatStorage'), str(t.key ?? String(i)), str('cpu'), int(numel));
    const args = tuple([...storage, 0x51], int(t.offset ?? 0), tuple(...t.shape.map(int)), tuple(...(t.stride ?? denseStrides(t.shape)).map(int)), op(0x89), [...global('collections', 'OrderedDict'), 0x29, 0x52]);
    return [...str(t.name), ...global('torch._utils', '_rebuild_tensor_v2'), ...args, 0x52];
  });
  const dict = [...global('collections', 'OrderedDict'), 0x29, 0x52, 0x28, ...items.flat(), 0x75];
  return Buffer.from([0x80, 2, 0x7d, 0x28, ...str('G'), ...dict, 0x75, 0x2e]);
}

/** A torch.save-like archive: `archive/data.pkl`, `archive/byteorder`, `archive/data/<key>`. */
export function torchArchive(pickle: Uint8Array, storages: Map<string, Uint8Array>, options: { deflate?: boolean } = {}): Buffer {
  return buildZip([
    { name: 'archive/data.pkl', data: pickle, deflate: options.deflate },
    { name: 'archive/byteorder', data: Buffer.from('little') },
    ...[...storages].map(([key, data]) => ({ name: `archive/data/${key}`, data, deflate: options.deflate })),
  ]);
}

/** An archive of float32 tensors filled with 0, 1, 2, ... (storages as large as declared). */
export function tensorArchive(tensors: TensorSpec[]): Buffer {
  const storages = new Map<string, Uint8Array>();
  tensors.forEach((t, i) => {
    const numel = t.numel ?? t.shape.reduce((a, b) => a * b, 1);
    storages.set(t.key ?? String(i), Buffer.from(Float32Array.from({ length: numel }, (_, k) => k).buffer));
  });
  return torchArchive(statePickle(tensors), storages);
}
