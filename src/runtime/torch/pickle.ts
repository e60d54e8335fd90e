// A restricted unpickler: it understands the pickle opcodes torch.save uses for state dicts
// and resolves only allow-listed globals to inert JavaScript stand-ins. It never executes
// anything named by the file: an unknown global is an error, so a malicious pickle (e.g.
// one that REDUCEs os.system) is refused before anything runs.

export class PickleGlobalError extends Error {
  constructor(readonly global: string) {
    super(`pickle global '${global}' is not allowed`);
  }
}
export class PickleFormatError extends Error {}

/** A Python dict / OrderedDict (insertion ordered, like both). */
export class PyDict extends Map<unknown, unknown> {
  /** Attributes set by BUILD (an OrderedDict's `_metadata`, for instance). */
  attributes?: unknown;
}

/** What a persistent id ('storage', StorageType, key, location, numel) resolves to. */
export interface TorchStorage {
  kind: 'storage';
  dtype: StorageDtype;
  key: string;
  numel: number;
}

export interface TorchTensor {
  kind: 'tensor';
  storage: TorchStorage;
  offset: number;
  shape: number[];
  stride: number[];
}

export type StorageDtype = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

const STORAGE_TYPES: Record<string, StorageDtype> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

interface StorageType {
  kind: 'storage_type';
  dtype: StorageDtype;
}
type Callable = { kind: 'callable'; name: string; call: (args: unknown[]) => unknown };

const MAX_DIMS = 8;

/** An integer that JavaScript numbers hold exactly (larger ones cannot be a real size). */
function asInt(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw new PickleFormatError(`${what}: expected an integer, got ${typeof value === 'bigint' || typeof value === 'number' ? String(value) : typeof value}`);
}

/** Only strings are turned into text: String() of a list that holds itself (through the
 *  memo) many times over would take exponential time. */
function asString(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  throw new PickleFormatError(`${what}: expected a string`);
}

function rebuildTensor(args: unknown[]): TorchTensor {
  const [storage, offset, size, stride] = args;
  if (!storage || (storage as TorchStorage).kind !== 'storage') throw new PickleFormatError('tensor without a storage');
  if (!Array.isArray(size) || !Array.isArray(stride)) throw new PickleFormatError('tensor without size/stride');
  if (size.length !== stride.length || size.length > MAX_DIMS) throw new PickleFormatError(`tensor with ${size.length} sizes and ${stride.length} strides`);
  return {
    kind: 'tensor',
    storage: storage as TorchStorage,
    offset: asInt(offset, 'storage offset'),
    shape: size.map((s) => asInt(s, 'size')),
    stride: stride.map((s) => asInt(s, 'stride')),
  };
}

/** The allow-list: every global a (torch) state dict pickle may name. */
function resolveGlobal(module: string, name: string): Callable | StorageType {
  const full = `${module}.${name}`;
  if (module === 'torch' && name in STORAGE_TYPES) return { kind: 'storage_type', dtype: STORAGE_TYPES[name] };
  const callable = (call: (args: unknown[]) => unknown): Callable => ({ kind: 'callable', name: full, call });
  switch (full) {
    case 'collections.OrderedDict':
      return callable(() => new PyDict());
    case 'torch._utils._rebuild_tensor_v2':
      return callable(rebuildTensor);
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      return callable((args) => args[0]);
  }
  throw new PickleGlobalError(full);
}

export type PersistentLoad = (pid: unknown) => unknown;

/** Unpickles `data`; persistent ids (torch storages) go through `persistentLoad`. */
export function unpickle(data: Uint8Array, persistentLoad: PersistentLoad): unknown {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const decoder = new TextDecoder('utf-8');
  let pos = 0;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  // Every length in the data is checked here before use: a negative or oversized one
  // (a BINSTRING of length -5 would otherwise step back and loop forever) is an error.
  const need = (n: number) => {
    if (!Number.isSafeInteger(n) || n < 0) throw new PickleFormatError(`invalid length ${n} at byte ${pos}`);
    if (pos + n > data.length) throw new PickleFormatError('pickle data is truncated');
  };
  const u8 = () => (need(1), data[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const bytes = (n: number) => (need(n), (pos += n), data.subarray(pos - n, pos));
  const text = (n: number) => decoder.decode(bytes(n));
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw new PickleFormatError('pickle data is truncated');
    const s = decoder.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) throw new PickleFormatError('pickle stack underflow');
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) throw new PickleFormatError('pickle stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = () => {
    const items = stack;
    const previous = marks.pop();
    if (!previous) throw new PickleFormatError('pickle MARK missing');
    stack = previous;
    return items;
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (!(dict instanceof Map)) throw new PickleFormatError('SETITEM on a non-dict');
    for (let i = 0; i + 1 < items.length; i += 2) dict.set(items[i], items[i + 1]);
  };
  const call = (fn: unknown, args: unknown) => {
    if (!fn || (fn as Callable).kind !== 'callable') throw new PickleFormatError('REDUCE of a non-callable');
    if (!Array.isArray(args)) throw new PickleFormatError('REDUCE arguments are not a tuple');
    return (fn as Callable).call(args);
  };
  const longBytes = (b: Uint8Array): number | bigint => {
    let value = 0n;
    for (let i = b.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(b[i]);
    if (b.length > 0 && b[b.length - 1] & 0x80) value -= 1n << BigInt(8 * b.length);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: bytes(8); break; // FRAME
      case 0x2e: return pop(); // STOP
      case 0x28: marks.push(stack); stack = []; break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x74: { const items = popMark(); stack.push(items); break; } // TUPLE
      case 0x6c: { const items = popMark(); stack.push(items); break; } // LIST
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x64: { const items = popMark(); const d = new PyDict(); setItems(d, items); stack.push(d); break; } // DICT
      case 0x61: { const v = pop(); const list = top(); if (!Array.isArray(list)) throw new PickleFormatError('APPEND to a non-list'); list.push(v); break; }
      case 0x65: { const items = popMark(); const list = top(); if (!Array.isArray(list)) throw new PickleFormatError('APPENDS to a non-list'); for (const item of items) list.push(item); break; }
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(longBytes(bytes(u8()))); break; // LONG1
      case 0x49: { const s = line(); stack.push(s === '00' ? false : s === '01' ? true : Number.parseInt(s, 10)); break; } // INT
      case 0x47: need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; // BINFLOAT
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x58: stack.push(text(u32())); break; // BINUNICODE
      case 0x8c: stack.push(text(u8())); break; // SHORT_BINUNICODE
      case 0x8d: { need(8); const n = Number(view.getBigUint64(pos, true)); pos += 8; stack.push(text(n)); break; } // BINUNICODE8
      case 0x54: stack.push(text(i32())); break; // BINSTRING
      case 0x55: stack.push(text(u8())); break; // SHORT_BINSTRING
      case 0x42: stack.push(bytes(u32())); break; // BINBYTES
      case 0x43: stack.push(bytes(u8())); break; // SHORT_BINBYTES
      case 0x63: { const module = line(); const name = line(); stack.push(resolveGlobal(module, name)); break; } // GLOBAL
      case 0x93: { const name = pop(); const module = pop(); stack.push(resolveGlobal(asString(module, 'global module'), asString(name, 'global name'))); break; } // STACK_GLOBAL
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x70: memo.set(Number.parseInt(line(), 10), top()); break; // PUT
      case 0x68: case 0x6a: case 0x67: { // BINGET, LONG_BINGET, GET
        const key = op === 0x68 ? u8() : op === 0x6a ? u32() : Number.parseInt(line(), 10);
        if (!memo.has(key)) throw new PickleFormatError(`pickle memo ${key} missing`);
        stack.push(memo.get(key));
        break;
      }
      case 0x52: { const args = pop(); const fn = pop(); stack.push(call(fn, args)); break; } // REDUCE
      case 0x81: { const args = pop(); const cls = pop(); stack.push(call(cls, args)); break; } // NEWOBJ
      case 0x62: { // BUILD: only dict-like objects accept state, kept as inert attributes
        const state = pop();
        const target = top();
        if (target instanceof PyDict) target.attributes = state;
        else throw new PickleFormatError('BUILD on an unsupported object');
        break;
      }
      case 0x51: stack.push(persistentLoad(pop())); break; // BINPERSID
      default:
        throw new PickleFormatError(`unsupported pickle opcode 0x${op.toString(16)} at byte ${pos - 1}`);
    }
  }
}

/** Resolves torch's persistent id tuple ('storage', StorageType, key, location, numel). */
export function parseStoragePid(pid: unknown): TorchStorage {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new PickleFormatError('unexpected persistent id');
  const type = pid[1] as StorageType;
  if (!type || type.kind !== 'storage_type') throw new PickleFormatError('persistent id without a storage type');
  const key = pid[2];
  if (typeof key !== 'string' || !/^[A-Za-z0-9_]{1,64}$/.test(key)) throw new PickleFormatError('persistent id with an invalid storage key');
  const numel = asInt(pid[4], 'storage size');
  if (numel < 0) throw new PickleFormatError(`storage '${key}' has a negative size ${numel}`);
  return { kind: 'storage', dtype: type.dtype, key, numel };
}
