// How large a model may get. The language unrolls loops, ranges and pyramids while it
// elaborates, and the compiler walks repeats iteration by iteration (receptive fields,
// exports, the runtime's parameter lists), so a typo such as `ResBlock x 1000000000`,
// `--set blocks=1e9` or `levels = 1e9` would otherwise run for hours or exhaust memory.
// Each limit is reported at the line and column of what exceeds it, far above any real
// network (DeepDeblur: 19 blocks, 3 levels, 385 layers, 1280x720x64 activations).
export const LIMITS = {
  /** `Stage x N`: N at most this. */
  repeat: 1_000,
  /** `pyramid(..., levels = N)`: N at most this (2^15 = 32768: beyond any image side). */
  pyramidLevels: 16,
  /** `a..b`: at most this many items (ranges unroll: loops, per-level losses). */
  range: 10_000,
  /** Layers of one model with every repeat and loop expanded. */
  layers: 100_000,
  /** Elements of one tensor (an activation, a parameter, a training batch): 2^31 - 1, what
   *  a typed array of the runtime can index; 8 GiB of float32. */
  tensorElements: 2 ** 31 - 1,
  /** Expressions evaluated while elaborating one file (a catch-all for nested loops and
   *  reductions that create no layers). */
  evaluationSteps: 1_000_000,
  /** `shake(min, max)`: path length in pixels (a kernel up to ~2x this wide, blurred per
   *  crop in JavaScript while training; `netc synth --length` allows 256 for stored pairs). */
  shakeLength: 64,
} as const;

/** Elements of a shape, or Infinity when it overflows a safe integer. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return Number.isSafeInteger(n) ? n : Infinity;
}

export const formatCount = (n: number) => n.toLocaleString('en-US');
