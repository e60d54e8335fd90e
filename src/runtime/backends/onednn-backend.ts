// The 'onednn' backend's base: tfjs-backend-cpu whose data store tells the buffer pool when
// a tensor's buffer lives and dies, and the helpers every oneDNN kernel uses (float32 data
// of a tensor, recycled output arrays, falling back to the plain CPU kernel).
import type * as tfjsCpu from '@tensorflow/tfjs-backend-cpu';
import type { BackendValues, DataId, DataType, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { BufferPool } from './buffer-pool.js';
import { nativeAddon } from './onednn-addon.js';

export type CpuBackend = tfjsCpu.MathBackendCPU;
export type RecyclingCpuBackend = CpuBackend & { readonly pool: BufferPool };
export type KernelArgs = Parameters<KernelFunc>[0];

/** Free output buffers kept for reuse at most (a 1280x720x64 activation is 236 MB). */
const POOL_MAX_FREE_BYTES = 1 << 30;

/** Outputs from one 2 MiB huge page up are mapped by the addon onto huge pages (fewer TLB
 *  misses in the convolutions that stream through them: native/src/huge-pages.cc); smaller
 *  ones come from Node's allocator. */
const HUGE_PAGE_BYTES = 2 << 20;
const allocateOutput = (bytes: number): ArrayBuffer =>
  bytes >= HUGE_PAGE_BYTES ? (nativeAddon().hugePageFloats(bytes / 4).buffer as ArrayBuffer) : Buffer.allocUnsafeSlow(bytes).buffer;

/** tfjs-backend-cpu whose data store tells the pool when a tensor views, hands out or stops
 *  viewing a buffer (the hooks buffer-pool.ts needs). */
export function recyclingBackendClass(Base: typeof tfjsCpu.MathBackendCPU) {
  return class RecyclingBackend extends Base {
    readonly pool = new BufferPool(POOL_MAX_FREE_BYTES, allocateOutput);
    override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
      const dataId = super.write(values, shape, dtype);
      this.pool.adopt(values);
      return dataId;
    }
    override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
      super.move(dataId, values, shape, dtype, refCount);
      this.pool.adopt(values);
    }
    override disposeData(dataId: DataId, force = false): boolean {
      const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
      const disposed = super.disposeData(dataId, force);
      if (values !== undefined && !this.data.has(dataId)) this.pool.release(values);
      return disposed;
    }
    override readSync(dataId: DataId): BackendValues {
      if (this.data.has(dataId)) this.pool.escape(this.data.get(dataId).values);
      return super.readSync(dataId);
    }
    override dispose(): void {
      this.pool.clear();
      super.dispose();
    }
  };
}

/** The Float32Array behind a tensor, or undefined when it is not plain float32 data. */
export function floats(backend: CpuBackend, t: TensorInfo): Float32Array | undefined {
  if (t.dtype !== 'float32') return undefined;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : undefined;
}

/** A Float32Array for a kernel's result, recycled (buffer-pool.ts) and not zero-filled:
 *  every kernel here writes all of its output, and zeroing costs about as much as an
 *  elementwise op. */
export function outputArray(backend: CpuBackend, length: number): Float32Array {
  return (backend as RecyclingCpuBackend).pool.take(length);
}

export function output(backend: CpuBackend, shape: number[], values: Float32Array): TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', values);
}

export const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Wraps an addon kernel so that it runs the plain CPU kernel when it returns undefined. */
export function withFallback(kernelName: string, fast: (args: KernelArgs) => TensorInfo | TensorInfo[] | undefined): KernelFunc {
  const plain = tf.getKernel(kernelName, 'cpu');
  if (!plain) throw new Error(`tfjs-backend-cpu has no '${kernelName}' kernel`);
  return (args) => fast(args) ?? plain.kernelFunc(args);
}
