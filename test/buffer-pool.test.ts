// Recycled output buffers (src/runtime/backends/buffer-pool.ts): reused only when no tensor
// and no caller can still see them.
import { beforeAll, describe, expect, it } from 'vitest';
import { BufferPool } from '../src/runtime/backends/buffer-pool.js';
import { ONEDNN_BACKEND, registerOneDnnBackend } from '../src/runtime/backends/onednn.js';
import { tf } from '../src/runtime/tf.js';

describe('BufferPool', () => {
  it('hands a released buffer to the next take of the same size, and only then', () => {
    const pool = new BufferPool(1 << 20);
    const a = pool.take(256);
    pool.adopt(a);
    expect(pool.take(256).buffer).not.toBe(a.buffer); // a is still viewed
    pool.release(a);
    expect(pool.idleBytes).toBe(1024);
    expect(pool.take(128).buffer).not.toBe(a.buffer); // other size
    expect(pool.take(256).buffer).toBe(a.buffer);
    expect(pool.idleBytes).toBe(0);
  });

  it('waits for every view of a buffer to go', () => {
    const pool = new BufferPool(1 << 20);
    const a = pool.take(256);
    pool.adopt(a);
    const view = a.subarray(10, 20);
    pool.adopt(view);
    pool.release(a);
    expect(pool.idleBytes).toBe(0);
    pool.release(view);
    expect(pool.idleBytes).toBe(1024);
  });

  it('never recycles a buffer that escaped, nor one it did not make', () => {
    const pool = new BufferPool(2048);
    const escaped = pool.take(256);
    pool.adopt(escaped);
    pool.escape(escaped);
    pool.release(escaped);
    const foreign = new Float32Array(256);
    pool.adopt(foreign);
    pool.release(foreign);
    expect(pool.idleBytes).toBe(0);
  });

  it('keeps at most its limit idle, dropping the longest-idle buffers first', () => {
    const pool = new BufferPool(4096);
    const [a, b, c] = [pool.take(256), pool.take(512), pool.take(256)]; // 1, 2 and 1 KiB
    for (const t of [a, b, c]) pool.adopt(t);
    for (const t of [a, b, c]) pool.release(t);
    expect(pool.idleBytes).toBe(4096);
    const d = pool.take(768); // 3 KiB more: a and b (the oldest) go
    pool.adopt(d);
    pool.release(d);
    expect(pool.idleBytes).toBe(4096);
    expect(pool.take(768).buffer).toBe(d.buffer);
    expect(pool.take(256).buffer).toBe(c.buffer);
    expect(pool.take(256).buffer).not.toBe(a.buffer);
    expect(pool.take(512).buffer).not.toBe(b.buffer);
    const huge = pool.take(2048); // larger than the whole limit: never kept
    pool.adopt(huge);
    pool.release(huge);
    expect(pool.idleBytes).toBe(0);
  });
});

describe('the onednn backend recycles outputs', () => {
  beforeAll(async () => {
    expect(registerOneDnnBackend()).toEqual({ ok: true });
    await tf.setBackend(ONEDNN_BACKEND);
  });

  const buffer = (t: tf.Tensor) => (tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(t.dataId).values.buffer;
  const n = 1 << 16;
  const ones = () => tf.ones([n]);

  it('reuses a disposed output for the next output of its size', () => {
    const x = ones();
    const first = tf.add(x, x);
    const used = buffer(first);
    first.dispose();
    const second = tf.mul(x, x);
    expect(buffer(second)).toBe(used);
    tf.dispose([x, second]);
  });

  it('keeps what dataSync returned intact after the tensor is disposed', () => {
    const x = ones();
    const sum = tf.add(x, x);
    const values = sum.dataSync();
    sum.dispose();
    const others = Array.from({ length: 4 }, () => tf.mul(x, tf.scalar(7)));
    expect(values.every((v) => v === 2)).toBe(true);
    tf.dispose([x, ...others]);
  });

  it('keeps a slice that views a disposed output intact', () => {
    const x = ones();
    const sum = tf.add(x, x);
    // tfjs-cpu's simple stridedSlice returns a subarray of its input's buffer.
    const half = tf.stridedSlice(sum, [0], [n / 2], [1]);
    expect(buffer(half)).toBe(buffer(sum));
    sum.dispose();
    const others = Array.from({ length: 4 }, () => tf.mul(x, tf.scalar(7)));
    expect(half.dataSync().every((v) => v === 2)).toBe(true);
    tf.dispose([x, half, ...others]);
  });
});
