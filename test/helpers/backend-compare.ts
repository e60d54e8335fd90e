// The oneDNN backend against tfjs's plain CPU backend ('cpu', pure JavaScript): deterministic
// inputs, and a check that the same functions agree on both within 1e-4 relative.
import { expect } from 'vitest';
import { tf } from '../../src/runtime/tf.js';
import { ONEDNN_BACKEND, oneDnnInfo } from '../../src/runtime/backends/onednn.js';

export const PLAIN = 'cpu';
export type Pad4 = [number, number, number, number];

/** Deterministic values in [-1, 1) (a small LCG), so both backends see the same data. */
export function values(count: number, seed: number): number[] {
  let state = seed * 2654435761 + 1;
  return Array.from({ length: count }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return (state / 2147483648) * 2 - 1;
  });
}

export function tensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** Runs `f` on a backend and returns its outputs' values. */
export async function on(backend: string, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(f).map((t) => {
    const data = t.dataSync() as Float32Array;
    t.dispose();
    return data;
  });
}

export function expectClose(actual: Float32Array[], expected: Float32Array[], tolerance = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((reference, i) => {
    expect(actual[i].length).toBe(reference.length);
    let scale = 1e-6;
    let error = 0;
    reference.forEach((v, j) => {
      scale = Math.max(scale, Math.abs(v));
      error = Math.max(error, Math.abs(v - actual[i][j]));
    });
    expect(error / scale, `output ${i}`).toBeLessThanOrEqual(tolerance);
  });
}

/** Expects the two backends to agree on `f`, and that oneDNN primitives were used. */
export async function expectSameOnBoth(f: () => tf.Tensor[], usesConv = true): Promise<void> {
  const callsBefore = oneDnnInfo()!.convCalls;
  const fast = await on(ONEDNN_BACKEND, f);
  if (usesConv) expect(oneDnnInfo()!.convCalls).toBeGreaterThan(callsBefore);
  expectClose(fast, await on(PLAIN, f));
}

export interface ConvCase {
  n: number;
  h: number;
  w: number;
  c: number;
  k: [number, number];
  oc: number;
  stride: [number, number];
  pad: Pad4;
}

export const label = (c: ConvCase) =>
  `${c.n}x${c.h}x${c.w}x${c.c} k${c.k.join('x')} -> ${c.oc}, stride ${c.stride.join('x')}, pad ${c.pad.join(',')}`;

export function tfPad([top, bottom, left, right]: Pad4): [[number, number], [number, number], [number, number], [number, number]] {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

export function convInputs(c: ConvCase) {
  const x = tensor([c.n, c.h, c.w, c.c], 1) as tf.Tensor4D;
  const filter = tensor([c.k[0], c.k[1], c.c, c.oc], 2).mul(0.3) as tf.Tensor4D;
  const bias = tensor([c.oc], 3) as tf.Tensor1D;
  return { x, filter, bias };
}

/** sum(y * weights): a scalar whose gradient reaches every output element differently. */
export function weightedSum(y: tf.Tensor, seed: number): tf.Scalar {
  return tf.sum(tf.mul(y, tensor(y.shape, seed)));
}

