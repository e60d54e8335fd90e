// Reads PyTorch checkpoints written by torch.save (zip format, PyTorch >= 1.6): the pickle
// `<root>/data.pkl` through the restricted unpickler, storages from `<root>/data/<key>`.
import { promises as fs } from 'node:fs';
import { UserError } from '../../errors.js';
import type { HostArray } from '../params.js';
import { stridedCopyInto } from '../strided.js';
import { PickleFormatError, PickleGlobalError, PyDict, parseStoragePid, unpickle, type TorchTensor } from './pickle.js';
import { ZipArchive, ZipFormatError, isZip } from './zip.js';

export interface TorchCheckpoint {
  file: string;
  /** The unpickled top-level object (tensors are TorchTensor records). */
  root: unknown;
  /** Copies a tensor's elements (any strides / offset) into a dense float32 array. */
  toArray(tensor: TorchTensor, name: string): HostArray;
}

export async function readTorchCheckpoint(file: string): Promise<TorchCheckpoint> {
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message}`);
  }
  if (!isZip(data)) {
    throw new UserError(`${file}: not a zip-based torch.save file (legacy PyTorch < 1.6 format or not a checkpoint); re-save it with torch.save(..., _use_new_zipfile_serialization=True)`);
  }
  try {
    const zip = new ZipArchive(data);
    const pickleName = [...zip.entries.keys()].find((name) => name.endsWith('/data.pkl') || name === 'data.pkl');
    if (!pickleName) throw new ZipFormatError('no data.pkl in the archive');
    const root = pickleName.slice(0, pickleName.length - 'data.pkl'.length);
    const byteorder = zip.entries.has(`${root}byteorder`) ? zip.read(`${root}byteorder`).toString('ascii').trim() : 'little';
    if (byteorder !== 'little') throw new ZipFormatError(`byte order '${byteorder}' is not supported`);
    const storages = new Map<string, Buffer>();
    const storageBytes = (key: string) => {
      let bytes = storages.get(key);
      if (!bytes) storages.set(key, (bytes = zip.read(`${root}data/${key}`)));
      return bytes;
    };
    const value = unpickle(zip.read(pickleName), parseStoragePid);
    return {
      file,
      root: value,
      toArray(tensor, name) {
        if (tensor.storage.dtype !== 'float32') {
          throw new UserError(`${file}: tensor '${name}' is ${tensor.storage.dtype}; netc loads float32 weights only`);
        }
        const bytes = storageBytes(tensor.storage.key);
        const storage = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
        return { shape: tensor.shape, data: gatherStrided(storage, tensor, `${file}: tensor '${name}'`) };
      },
    };
  } catch (err) {
    if (err instanceof PickleGlobalError) throw new UserError(`refusing to load ${file}: ${err.message} (netc only loads state dicts)`);
    if (err instanceof PickleFormatError || err instanceof ZipFormatError) throw new UserError(`${file}: not a readable torch checkpoint: ${err.message}`);
    throw err;
  }
}

/** Dense row-major copy of a strided view into `storage`. */
function gatherStrided(storage: Float32Array, tensor: TorchTensor, what: string): Float32Array {
  const { shape, stride, offset } = tensor;
  const size = shape.reduce((a, b) => a * b, 1);
  let last = offset;
  for (let d = 0; d < shape.length; d++) if (shape[d] > 0) last += (shape[d] - 1) * stride[d];
  if (size > 0 && (offset < 0 || last >= storage.length)) throw new UserError(`${what} reaches outside its storage`);
  return stridedCopyInto(new Float32Array(size), storage, shape, stride, offset);
}

function isTensor(value: unknown): value is TorchTensor {
  return typeof value === 'object' && value !== null && (value as TorchTensor).kind === 'tensor';
}

/** The generator's state dict: `root[key]` when the root is {'G': ..., 'D': ...}, else the
 *  root itself when it is a plain state dict. Values are float32 host arrays. */
export function stateDict(checkpoint: TorchCheckpoint, key = 'G'): Map<string, HostArray> {
  const { root, file } = checkpoint;
  if (!(root instanceof PyDict)) throw new UserError(`${file}: expected a dict at the top level of the checkpoint`);
  const dict = root.has(key) && root.get(key) instanceof PyDict ? (root.get(key) as PyDict) : root;
  const result = new Map<string, HostArray>();
  for (const [name, value] of dict) {
    if (isTensor(value)) result.set(String(name), checkpoint.toArray(value, String(name)));
  }
  if (result.size === 0) {
    const keys = [...root.keys()].map(String).join(', ');
    throw new UserError(`${file}: no tensors under '${key}' nor at the top level (keys: ${keys})`);
  }
  return result;
}
