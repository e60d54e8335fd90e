// ONNX export (opset 13, NCHW as ONNX convs expect). Repeats are unrolled; every parameter
// becomes an initializer. netc's NHWC/HWIO tensors are transposed on the way out. One
// emitter per op in ONNX_EMITTERS (a Record over the ops: a new op is a type error here
// until it is exported).
import type { AffineAttrs, AvgPoolAttrs, Conv2dAttrs, Graph, LeakyReluAttrs, ParamSpec, PixelShuffleAttrs, PrimitiveOp, PyramidDownAttrs, Shape, UpsampleAttrs } from '../ir.js';
import { initialValues } from '../init.js';
import { PYRAMID_FACTOR, gaussianTaps } from '../ops.js';
import { expandGraph, type ExpandedNode } from '../walk.js';
import { OnnxGraph, serializeModel, symbolicNchw, toNchw } from './onnx-model.js';

/** Weights by full parameter name, in netc layout (HWIO convs, [in, out] dense). When a
 *  name is missing, the parameter gets PyTorch's default initialization from `seed` (the runtime's createParams gives the same values). */
export type WeightSource = (spec: ParamSpec) => Float32Array | undefined;

export interface OnnxOptions {
  /** Symbolic batch, height and width (any image size) instead of the compiled size. */
  dynamic?: boolean;
}

interface EmitContext extends ExpandedNode {
  onnx: OnnxGraph;
  /** The node's first input. */
  x: string;
  /** Shapes (NHWC) of the values emitted so far. */
  shapes: Map<string, Shape>;
  /** A parameter's values in netc layout. */
  weight: (spec: ParamSpec) => Float32Array;
}

const attrsOf = <T>(c: EmitContext) => c.node.attrs as unknown as T;

const ONNX_EMITTERS: Record<PrimitiveOp, (c: EmitContext) => void> = {
  conv2d(c) {
    const { onnx, inputs, output, params } = c;
    const a = attrsOf<Conv2dAttrs>(c);
    const [w, b] = params;
    const [kh, kw, ci, co] = w.shape;
    onnx.initializer(w.name, [co, ci, kh, kw], hwioToOihw(c.weight(w), w.shape));
    if (b) onnx.initializer(b.name, [co], c.weight(b));
    let y = onnx.add('Conv', b ? [c.x, w.name, b.name] : [c.x, w.name], a.residual || a.activation ? onnx.fresh('conv') : output, {
      kernel_shape: [kh, kw], strides: a.stride, pads: [a.pad[0], a.pad[2], a.pad[1], a.pad[3]],
    });
    if (a.residual) y = onnx.add('Add', [y, inputs[inputs.length - 1]], a.activation ? onnx.fresh('sum') : output);
    if (a.activation === 'relu') onnx.add('Relu', [y], output);
    if (a.activation === 'leaky_relu') onnx.add('LeakyRelu', [y], output, { alpha: { float: a.alpha ?? 0.01 } });
  },
  relu: (c) => c.onnx.add('Relu', [c.x], c.output),
  leaky_relu: (c) => c.onnx.add('LeakyRelu', [c.x], c.output, { alpha: { float: attrsOf<LeakyReluAttrs>(c).alpha } }),
  sigmoid: (c) => c.onnx.add('Sigmoid', [c.x], c.output),
  add: (c) => c.onnx.add('Add', c.inputs, c.output),
  concat: (c) => c.onnx.add('Concat', c.inputs, c.output, { axis: 1 }), // channels: NHWC axis 3
  pixel_shuffle: (c) => c.onnx.add('DepthToSpace', [c.x], c.output, { blocksize: attrsOf<PixelShuffleAttrs>(c).factor, mode: 'CRD' }),
  affine(c) {
    const { onnx } = c;
    const { scale, shift } = attrsOf<AffineAttrs>(c);
    const scaled = onnx.add('Mul', [c.x, onnx.floats('scale', [scale])], onnx.fresh('scaled'));
    onnx.add('Add', [scaled, onnx.floats('shift', [shift])], c.output);
  },
  flatten(c) {
    // netc flattens channels-last; transpose back from NCHW first.
    const nhwc = c.onnx.add('Transpose', [c.x], c.onnx.fresh('nhwc'), { perm: [0, 2, 3, 1] });
    c.onnx.add('Flatten', [nhwc], c.output, { axis: 1 });
  },
  dense(c) {
    const { onnx, params } = c;
    const [w, b] = params;
    onnx.initializer(w.name, w.shape, c.weight(w));
    if (b) onnx.initializer(b.name, b.shape, c.weight(b));
    onnx.add('Gemm', b ? [c.x, w.name, b.name] : [c.x, w.name], c.output);
  },
  upsample(c) {
    const { factor, mode } = attrsOf<UpsampleAttrs>(c);
    // The same sampling as ops.ts's upsampleTaps: nearest reads floor(i / factor); linear
    // with PyTorch's half-pixel rule (source clamped at 0), i.e. align_corners=False.
    const scales = c.onnx.floats('scales', [1, 1, factor, factor], [4]);
    c.onnx.add('Resize', [c.x, '', scales], c.output, mode === 'nearest'
      ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
      : { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' });
  },
  avg_pool(c) {
    const { kernel, stride } = attrsOf<AvgPoolAttrs>(c);
    c.onnx.add('AveragePool', [c.x], c.output, { kernel_shape: [kernel, kernel], strides: [stride, stride] });
  },
  pyramid_down: (c) => pyramidDown(c.onnx, c.x, c.output, c.shapes.get(c.x)![3], attrsOf<PyramidDownAttrs>(c)),
};

export function emitOnnx(graph: Graph, weights?: WeightSource, seed = 0, options: OnnxOptions = {}): Uint8Array {
  const onnx = new OnnxGraph();
  const weight = (spec: ParamSpec) => weights?.(spec) ?? initialValues(spec, seed);
  const { nodes: expanded, outputs } = expandGraph(graph);
  const shapes = new Map<string, Shape>(graph.inputs.map((i) => [i.id, i.shape]));
  for (const expandedNode of expanded) {
    shapes.set(expandedNode.output, expandedNode.node.shape);
    ONNX_EMITTERS[expandedNode.node.op as PrimitiveOp]({ ...expandedNode, onnx, x: expandedNode.inputs[0], shapes, weight });
  }
  // Outputs keep the file's names (L[0], ...).
  graph.outputs.forEach((o, i) => onnx.add('Identity', [outputs[i]], o.name));
  const dims = (shape: Shape) => (options.dynamic ? symbolicNchw(shape, graph.inputs[0].shape) : toNchw(shape));
  return serializeModel(onnx, graph.name,
    graph.inputs.map((input) => ({ name: input.id, dims: dims(input.shape) })),
    graph.outputs.map((o) => ({ name: o.name, dims: dims(o.shape) })));
}

function hwioToOihw(data: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
    out[((o * ci + i) * kh + y) * kw + x] = data[((y * kw + x) * ci + i) * co + o];
  }
  return out;
}

/** Symmetric ('reflect' in scipy) padding by slicing mirrored edges, separable Gaussian
 *  as two depthwise convs, then a 2x2 average pool (exact: ops.ts's pyramid rule admits only
 *  sides that halve, so the pool's floor never drops a row; --dynamic inputs must be
 *  multiples of the model's size multiple). */
function pyramidDown(onnx: OnnxGraph, x: string, output: string, channels: number, a: PyramidDownAttrs): void {
  const r = a.radius;
  const mirror = (input: string, axis: number): string => {
    const head = onnx.add('Slice', [input, onnx.int64s('starts', [r - 1]), onnx.int64s('ends', [-Number.MAX_SAFE_INTEGER]), onnx.int64s('axes', [axis]), onnx.int64s('steps', [-1])], onnx.fresh('head'));
    const tail = onnx.add('Slice', [input, onnx.int64s('starts', [-1]), onnx.int64s('ends', [-(r + 1)]), onnx.int64s('axes', [axis]), onnx.int64s('steps', [-1])], onnx.fresh('tail'));
    return onnx.add('Concat', [head, input, tail], onnx.fresh('padded'), { axis });
  };
  const taps = gaussianTaps(a.sigma, r);
  const kernel = (dims: number[]) => {
    const data = new Float32Array(channels * taps.length);
    for (let c = 0; c < channels; c++) data.set(taps, c * taps.length);
    return onnx.initializer(onnx.fresh('gaussian'), dims, data);
  };
  const padded = mirror(mirror(x, 2), 3);
  const vertical = onnx.add('Conv', [padded, kernel([channels, 1, 2 * r + 1, 1])], onnx.fresh('blur_v'), { group: channels, kernel_shape: [2 * r + 1, 1] });
  const blurred = onnx.add('Conv', [vertical, kernel([channels, 1, 1, 2 * r + 1])], onnx.fresh('blur'), { group: channels, kernel_shape: [1, 2 * r + 1] });
  onnx.add('AveragePool', [blurred], output, { kernel_shape: [PYRAMID_FACTOR, PYRAMID_FACTOR], strides: [PYRAMID_FACTOR, PYRAMID_FACTOR] });
}
