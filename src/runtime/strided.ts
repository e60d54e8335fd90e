// Copies of strided views into dense row-major arrays: slices and transposes on the oneDNN
// backend, and the views a torch checkpoint stores its tensors as.

/** Row-major strides of `shape`. */
export function stridesOf(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis];
  }
  return strides;
}

/** Fills `out` (shape `outShape`, row-major) with out[i] = values[offset + i . strides],
 *  run by run along the last axis. (tfjs-backend-cpu computes every element's index
 *  separately: a channel split of a 128x128x6 image took ~90 ms.) */
export function stridedCopyInto(out: Float32Array, values: Float32Array, outShape: number[], strides: number[], offset: number): Float32Array {
  const rank = outShape.length;
  if (out.length === 0) return out;
  if (rank === 0) {
    out[0] = values[offset];
    return out;
  }
  const run = outShape[rank - 1];
  const step = strides[rank - 1];
  const index = new Array<number>(rank).fill(0);
  let from = offset;
  for (let to = 0; to < out.length; to += run) {
    if (step === 1 && run > 64) out.set(values.subarray(from, from + run), to);
    else for (let i = 0; i < run; i++) out[to + i] = values[from + i * step];
    // Odometer over the outer axes.
    for (let axis = rank - 2; axis >= 0; axis--) {
      index[axis]++;
      from += strides[axis];
      if (index[axis] < outShape[axis]) break;
      from -= strides[axis] * outShape[axis];
      index[axis] = 0;
    }
  }
  return out;
}
