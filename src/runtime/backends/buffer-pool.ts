// Recycled float buffers for the 'onednn' backend's kernel outputs.
//
// Why: a 128x128 training step of DeepDeblur writes ~1,400 outputs, 0.8 GB (profile-step).
// As fresh ArrayBuffers they are V8 "external memory", so V8 ran a GC every few tens of MB
// (about 60 pauses, ~120 ms per step, measured) and the memory came back only when those GCs
// freed it. tfjs says exactly when a tensor's data dies (the backend's disposeData), so
// outputs go back to a free list there and the next output of the same size takes them: no
// new external memory, no GC, and the buffer is often still in cache.
//
// Safety: only buffers made by take() are recycled, and only when no tensor views them any
// more. Every tensor whose values lie in a pooled buffer is counted (tfjs-cpu kernels return
// subarray views of their input for simple slices); a buffer whose values are handed out of
// tfjs (dataSync, data, bufferSync) is never recycled, since the caller may keep the array.

export class BufferPool {
  /** Free buffers by byte length, most recently freed last (the likeliest to be cached). */
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** The same buffers in the order they were freed, oldest first: the first to be dropped
   *  when the limit is reached (e.g. the sizes of a validation pass, once training resumes). */
  private readonly age = new Set<ArrayBuffer>();
  /** Live tensors viewing each pooled buffer. */
  private readonly views = new WeakMap<ArrayBuffer, number>();
  private freeBytes = 0;
  /** Takes served from the free list and freshly allocated, and bytes taken, since construction. */
  readonly stats = { reused: 0, allocated: 0, allocatedBytes: 0, takenBytes: 0 };

  /** @param maxFreeBytes free buffers kept at most; past it the longest-idle ones are left to
   *  the garbage collector.
   *  @param allocate makes a new buffer of `bytes` (not zeroed) when none is free. */
  constructor(
    private readonly maxFreeBytes: number,
    private readonly allocate: (bytes: number) => ArrayBuffer = (bytes) => Buffer.allocUnsafeSlow(bytes).buffer,
  ) {}

  /** A float array of `length` elements, not zeroed (kernels write all of their output). */
  take(length: number): Float32Array {
    const bytes = length * 4;
    this.stats.takenBytes += bytes;
    const buffer = this.free.get(bytes)?.pop();
    if (buffer) {
      this.age.delete(buffer);
      this.freeBytes -= bytes;
      this.stats.reused++;
    } else {
      this.stats.allocated++;
      this.stats.allocatedBytes += bytes;
    }
    const array = new Float32Array(buffer ?? this.allocate(bytes), 0, length);
    this.views.set(array.buffer, 0);
    return array;
  }

  /** A tensor now views `values`. */
  adopt(values: unknown): void {
    const buffer = pooledBuffer(values);
    const count = buffer && this.views.get(buffer);
    if (count !== undefined) this.views.set(buffer!, count + 1);
  }

  /** A tensor viewing `values` is gone; the last one returns the buffer to the free list. */
  release(values: unknown): void {
    const buffer = pooledBuffer(values);
    const count = buffer && this.views.get(buffer);
    if (count === undefined) return;
    if (count > 1) {
      this.views.set(buffer!, count - 1);
      return;
    }
    this.views.delete(buffer!);
    const bytes = buffer!.byteLength;
    if (bytes > this.maxFreeBytes) return;
    while (this.freeBytes + bytes > this.maxFreeBytes) this.dropOldest();
    const list = this.free.get(bytes) ?? [];
    list.push(buffer!);
    this.free.set(bytes, list);
    this.age.add(buffer!);
    this.freeBytes += bytes;
  }

  /** Leaves the longest-idle free buffer to the garbage collector. */
  private dropOldest(): void {
    const oldest: ArrayBuffer = this.age.values().next().value!;
    this.age.delete(oldest);
    const list = this.free.get(oldest.byteLength)!;
    list.splice(list.indexOf(oldest), 1);
    this.freeBytes -= oldest.byteLength;
  }

  /** Whether `values` are a whole pooled buffer that exactly one tensor views and that never
   *  left tfjs: the one place its values live, so a kernel may write over them. */
  soleView(values: unknown): boolean {
    const buffer = pooledBuffer(values);
    return buffer !== undefined && this.views.get(buffer) === 1 && (values as Float32Array).byteOffset === 0 && (values as Float32Array).byteLength === buffer.byteLength;
  }

  /** `values` leave tfjs's control: their buffer is never recycled. */
  escape(values: unknown): void {
    const buffer = pooledBuffer(values);
    if (buffer) this.views.delete(buffer);
  }

  /** Bytes held in free buffers. */
  get idleBytes(): number {
    return this.freeBytes;
  }

  /** Drops every free buffer (the garbage collector frees them). */
  clear(): void {
    this.free.clear();
    this.age.clear();
    this.freeBytes = 0;
  }
}

function pooledBuffer(values: unknown): ArrayBuffer | undefined {
  return values instanceof Float32Array && values.buffer instanceof ArrayBuffer ? values.buffer : undefined;
}
