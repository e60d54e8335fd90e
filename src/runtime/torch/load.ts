// Reads PyTorch checkpoints written by torch.save (zip format, PyTorch >= 1.6): the pickle
// `<root>/data.pkl` through the restricted unpickler, storages from `<root>/data/<key>`.
//
// Nothing is trusted before it is checked. The pickle entry is read only up to
// MAX_PICKLE_BYTES; a tensor's shape, strides and offset must be non-negative integers that
// stay inside its storage (stateDict); storages are read lazily, only for the tensors a
// caller asks for (after it has matched their names and shapes against a model), each
// entry's declared size must equal what its storage needs, and all reads together stay
// under the budget given to readTorchCheckpoint.
import { UserError } from '../../errors.js';
import type { HostArray } from '../params.js';
import { stridedCopyInto } from '../strided.js';
import { PickleFormatError, PickleGlobalError, PyDict, parseStoragePid, unpickle, type TorchTensor } from './pickle.js';
import { ZipArchive, ZipFormatError, isZipFile } from './zip.js';

/** The pickle of a state dict of a few hundred tensors is tens of kilobytes. */
export const MAX_PICKLE_BYTES = 64 * 2 ** 20;
/** Default budget of storage bytes read from one checkpoint (the full DeepDeblur is 45 MB). */
export const DEFAULT_READ_BUDGET = 2 ** 30;
/** Most elements one tensor may have (2^31 - 1: what a Float32Array view can index). */
const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

const DTYPE_BYTES: Record<string, number> = { float64: 8, int64: 8, float32: 4, int32: 4, float16: 2, bfloat16: 2, int16: 2, int8: 1, uint8: 1, bool: 1 };

export interface TorchCheckpoint {
  file: string;
  /** The unpickled top-level object (tensors are TorchTensor records). */
  root: unknown;
  /** Copies a (checked, see stateDict) tensor's elements into a dense float32 array. */
  read(tensor: TorchTensor, name: string): Promise<HostArray>;
  /** Releases the file. */
  close(): Promise<void>;
}

export interface ReadOptions {
  /** Storage bytes all reads together may return (default DEFAULT_READ_BUDGET). */
  budget?: number;
}

function fileError(file: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  return new UserError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message}`);
}

function readableError(file: string, err: unknown): unknown {
  if (err instanceof PickleGlobalError) return new UserError(`refusing to load ${file}: ${err.message} (netc only loads state dicts)`);
  if (err instanceof PickleFormatError || err instanceof ZipFormatError) return new UserError(`${file}: not a readable torch checkpoint: ${err.message}`);
  return err;
}

export async function readTorchCheckpoint(file: string, options: ReadOptions = {}): Promise<TorchCheckpoint> {
  const isZip = await isZipFile(file).catch((err: unknown) => {
    throw fileError(file, err);
  });
  if (!isZip) {
    throw new UserError(`${file}: not a zip-based torch.save file (legacy PyTorch < 1.6 format or not a checkpoint); re-save it with torch.save(..., _use_new_zipfile_serialization=True)`);
  }
  let zip: ZipArchive | undefined;
  try {
    zip = await ZipArchive.open(file, options.budget ?? DEFAULT_READ_BUDGET);
    const pickles = [...zip.entries.keys()].filter((name) => /^([^/]+\/)?data\.pkl$/.test(name));
    if (pickles.length !== 1) throw new ZipFormatError(pickles.length ? `${pickles.length} data.pkl entries` : 'no data.pkl in the archive');
    const root = pickles[0].slice(0, pickles[0].length - 'data.pkl'.length);
    const byteorderName = `${root}byteorder`;
    const byteorder = zip.entries.has(byteorderName) ? (await zip.read(byteorderName, 16)).toString('ascii').trim() : 'little';
    if (byteorder !== 'little') throw new ZipFormatError(`byte order '${byteorder.slice(0, 16)}' is not supported`);
    const value = unpickle(await zip.read(pickles[0], MAX_PICKLE_BYTES), parseStoragePid);
    const archive = zip;
    const storages = new Map<string, Promise<Float32Array>>();
    const storage = (tensor: TorchTensor) => {
      const { key, numel } = tensor.storage;
      let bytes = storages.get(key);
      if (!bytes) {
        bytes = archive.read(`${root}data/${key}`, numel * 4, numel * 4).then((b) => new Float32Array(b.buffer, b.byteOffset, numel));
        storages.set(key, bytes);
      }
      return bytes;
    };
    return {
      file,
      root: value,
      async read(tensor, name) {
        if (tensor.storage.dtype !== 'float32') {
          throw new UserError(`${file}: tensor '${name}' is ${tensor.storage.dtype}; netc loads float32 weights only`);
        }
        checkTensor(tensor, `${file}: tensor '${name}'`);
        try {
          const data = await storage(tensor);
          return { shape: [...tensor.shape], data: stridedCopyInto(new Float32Array(elementCount(tensor.shape)), data, tensor.shape, tensor.stride, tensor.offset) };
        } catch (err) {
          throw readableError(file, err);
        }
      },
      close: () => archive.close(),
    };
  } catch (err) {
    await zip?.close();
    throw readableError(file, err);
  }
}

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Checks a tensor record against its storage before anything is allocated for it:
 *  non-negative integer sizes, strides and offset, at most MAX_TENSOR_ELEMENTS elements,
 *  every element inside the storage. Throws a UserError starting with `what`. */
export function checkTensor(tensor: TorchTensor, what: string): void {
  const { shape, stride, offset, storage } = tensor;
  if (shape.length !== stride.length) throw new UserError(`${what} has ${shape.length} sizes but ${stride.length} strides`);
  const bad = (list: number[]) => list.find((v) => !Number.isSafeInteger(v) || v < 0);
  if (bad(shape) !== undefined) throw new UserError(`${what} has an invalid size ${bad(shape)} in [${shape.join(', ')}]`);
  if (bad(stride) !== undefined) throw new UserError(`${what} has an invalid stride ${bad(stride)} in [${stride.join(', ')}] (netc reads non-negative strides only)`);
  if (!Number.isSafeInteger(offset) || offset < 0) throw new UserError(`${what} has an invalid storage offset ${offset}`);
  let count = 1;
  for (const s of shape) {
    count *= s;
    if (count > MAX_TENSOR_ELEMENTS) throw new UserError(`${what} has shape [${shape.join(', ')}], more than ${MAX_TENSOR_ELEMENTS.toLocaleString('en-US')} elements`);
  }
  if (!(storage.dtype in DTYPE_BYTES)) throw new UserError(`${what} has an unknown storage type`);
  if (count === 0) return;
  let last = offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
  if (last >= storage.numel) {
    throw new UserError(`${what} reaches element ${last} of a storage of ${storage.numel} (shape [${shape.join(', ')}], strides [${stride.join(', ')}], offset ${offset})`);
  }
}

function isTensor(value: unknown): value is TorchTensor {
  return typeof value === 'object' && value !== null && (value as TorchTensor).kind === 'tensor';
}

/** The generator's state dict: `root[key]` when the root is {'G': ..., 'D': ...}, else the
 *  root itself when it is a plain state dict. Tensors are checked (checkTensor) but not
 *  read: `checkpoint.read` loads the ones a caller needs. */
export function stateDict(checkpoint: TorchCheckpoint, key = 'G'): Map<string, TorchTensor> {
  const { root, file } = checkpoint;
  if (!(root instanceof PyDict)) throw new UserError(`${file}: expected a dict at the top level of the checkpoint`);
  const dict = root.has(key) && root.get(key) instanceof PyDict ? (root.get(key) as PyDict) : root;
  const result = new Map<string, TorchTensor>();
  for (const [name, value] of dict) {
    if (!isTensor(value)) continue;
    if (typeof name !== 'string') throw new UserError(`${file}: a tensor under '${key}' has a ${typeof name} key instead of a name`);
    checkTensor(value, `${file}: tensor '${name}'`);
    result.set(name, value);
  }
  if (result.size === 0) {
    const keys = [...root.keys()].filter((k) => typeof k === 'string').slice(0, 20).join(', ');
    throw new UserError(`${file}: no tensors under '${key}' nor at the top level (keys: ${keys})`);
  }
  return result;
}

/** Every tensor of the state dict under `key`, read (for tests and small files). */
export async function readStateDict(file: string, key = 'G', options: ReadOptions = {}): Promise<Map<string, HostArray>> {
  const checkpoint = await readTorchCheckpoint(file, options);
  try {
    const arrays = new Map<string, HostArray>();
    for (const [name, tensor] of stateDict(checkpoint, key)) arrays.set(name, await checkpoint.read(tensor, name));
    return arrays;
  } finally {
    await checkpoint.close();
  }
}
