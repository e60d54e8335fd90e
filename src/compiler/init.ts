// Parameter initialization as PyTorch's defaults for Conv2d and Linear: weights
// kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases the same bound.
// Pure and seeded, so the exporter and the runtime make identical weights from one seed.
import type { ParamSpec } from './ir.js';

/** mulberry32: a small, fast, seedable generator of uniform floats in [0, 1). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function initParam(spec: ParamSpec, random: () => number): Float32Array {
  const size = spec.shape.reduce((p, d) => p * d, 1);
  const bound = 1 / Math.sqrt(spec.init.fanIn);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (random() * 2 - 1) * bound;
  return out;
}
