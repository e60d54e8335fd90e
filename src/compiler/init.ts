// Parameter initialization as PyTorch's defaults for Conv2d and Linear:
//   weight: kaiming_uniform_(a = sqrt(5))  =>  U(-b, b) with b = gain * sqrt(3 / fan_in),
//           gain = sqrt(2 / (1 + a^2)) = sqrt(1/3)  =>  b = 1 / sqrt(fan_in)
//   bias:   U(-1/sqrt(fan_in), 1/sqrt(fan_in))
// fan_in = in_channels * kh * kw (conv) or in_features (dense), from the op table.
// `conv(..., init = zeros)` starts both at 0 (nn.init.zeros_ in the PyTorch export).
// The random numbers come from our own seeded generator (not tfjs's), so they are the same
// on every backend and in exported files; each parameter's stream is seeded from (seed, full
// name), so adding a layer does not change the initial values of the others. PyTorch's
// exact random values are not reproduced (its generator is not portable); the distribution is.
import type { ParamSpec } from './ir.js';

/** mulberry32: a small, fast, well-distributed 32-bit generator; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a string, mixed with the seed: the per-parameter stream seed. */
function streamSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The initial values of one parameter, `name` being its full name. */
export function initialValues(param: Pick<ParamSpec, 'name' | 'shape' | 'init'>, seed: number): Float32Array {
  const size = param.shape.reduce((a, b) => a * b, 1);
  if (param.init.kind === 'zeros') return new Float32Array(size);
  const bound = 1 / Math.sqrt(Math.max(1, param.init.fanIn));
  const random = mulberry32(streamSeed(seed, param.name));
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = (2 * random() - 1) * bound;
  return values;
}
