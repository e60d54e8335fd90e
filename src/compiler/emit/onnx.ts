// ONNX export (opset 13, NCHW as ONNX convs expect). Repeats are unrolled; every parameter
// becomes an initializer. netc's NHWC/HWIO tensors are transposed on the way out.
import type { Conv2dAttrs, Graph, ParamSpec, PyramidDownAttrs, Shape } from '../ir.js';
import { initialValues } from '../init.js';
import { gaussianTaps } from '../ops.js';
import { expandGraph } from '../walk.js';
import { ProtoWriter } from './protobuf.js';

const FLOAT = 1;
const INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

type AttrValue = number | string | number[] | { float: number };

interface OnnxNode { op: string; inputs: string[]; outputs: string[]; name: string; attrs?: Record<string, AttrValue> }
interface Initializer { name: string; dims: number[]; data: Float32Array | BigInt64Array }

/** Weights by full parameter name, in netc layout (HWIO convs, [in, out] dense). When a
 *  name is missing, the parameter gets PyTorch's default initialization from `seed` (the runtime's createParams gives the same values). */
export type WeightSource = (spec: ParamSpec) => Float32Array | undefined;

export interface OnnxOptions {
  /** Symbolic batch, height and width (any image size) instead of the compiled size. */
  dynamic?: boolean;
}

export function emitOnnx(graph: Graph, weights?: WeightSource, seed = 0, options: OnnxOptions = {}): Uint8Array {
  const nodes: OnnxNode[] = [];
  const inits: Initializer[] = [];
  let counter = 0;
  const fresh = (base: string) => `${base}_${counter++}`;
  const weight = (spec: ParamSpec) => weights?.(spec) ?? initialValues(spec, seed);
  const constant = (base: string, values: number[]) => {
    const name = fresh(base);
    inits.push({ name, dims: [], data: Float32Array.from(values) });
    return name;
  };
  const int64s = (base: string, values: number[]) => {
    const name = fresh(base);
    inits.push({ name, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  };
  const add = (op: string, inputs: string[], output: string, attrs?: Record<string, AttrValue>) => {
    nodes.push({ op, inputs, outputs: [output], name: fresh(op), attrs });
    return output;
  };

  const { nodes: expanded, outputs } = expandGraph(graph);
  const shapes = new Map<string, Shape>(graph.inputs.map((i) => [i.id, i.shape]));
  for (const { node, inputs, output, params } of expanded) {
    shapes.set(output, node.shape);
    const [x] = inputs;
    switch (node.op) {
      case 'conv2d': {
        const a = node.attrs as unknown as Conv2dAttrs;
        const [w, b] = params;
        const [kh, kw, ci, co] = w.shape;
        inits.push({ name: w.name, dims: [co, ci, kh, kw], data: hwioToOihw(weight(w), w.shape) });
        if (b) inits.push({ name: b.name, dims: [co], data: weight(b) });
        let y = add('Conv', b ? [x, w.name, b.name] : [x, w.name], a.residual || a.activation ? fresh('conv') : output, {
          kernel_shape: [kh, kw], strides: a.stride, pads: [a.pad[0], a.pad[2], a.pad[1], a.pad[3]],
        });
        if (a.residual) y = add('Add', [y, inputs[inputs.length - 1]], a.activation ? fresh('sum') : output);
        if (a.activation === 'relu') add('Relu', [y], output);
        if (a.activation === 'leaky_relu') add('LeakyRelu', [y], output, { alpha: { float: a.alpha ?? 0.01 } });
        break;
      }
      case 'relu': add('Relu', [x], output); break;
      case 'leaky_relu': add('LeakyRelu', [x], output, { alpha: { float: (node.attrs as { alpha: number }).alpha } }); break;
      case 'sigmoid': add('Sigmoid', [x], output); break;
      case 'add': add('Add', inputs, output); break;
      case 'concat': add('Concat', inputs, output, { axis: 1 }); break;
      case 'pixel_shuffle': add('DepthToSpace', [x], output, { blocksize: (node.attrs as { factor: number }).factor, mode: 'CRD' }); break;
      case 'affine': {
        const { scale, shift } = node.attrs as { scale: number; shift: number };
        const scaled = add('Mul', [x, constant('scale', [scale])], fresh('scaled'));
        add('Add', [scaled, constant('shift', [shift])], output);
        break;
      }
      case 'flatten': {
        // netc flattens channels-last; transpose back from NCHW first.
        const nhwc = add('Transpose', [x], fresh('nhwc'), { perm: [0, 2, 3, 1] });
        add('Flatten', [nhwc], output, { axis: 1 });
        break;
      }
      case 'dense': {
        const [w, b] = params;
        inits.push({ name: w.name, dims: w.shape, data: weight(w) });
        if (b) inits.push({ name: b.name, dims: b.shape, data: weight(b) });
        add('Gemm', b ? [x, w.name, b.name] : [x, w.name], output);
        break;
      }
      case 'pyramid_down': {
        const shape = shapes.get(x)!;
        pyramidDown(x, output, shape[3], node.attrs as unknown as PyramidDownAttrs, { add, fresh, int64s, inits });
        break;
      }
      default: throw new Error(`ONNX export: no mapping for op '${node.op}'`);
    }
  }

  // Outputs keep the file's names (L[0], ...).
  graph.outputs.forEach((o, i) => add('Identity', [outputs[i]], o.name));
  const model = new ProtoWriter();
  model.int(1, 8); // ir_version
  model.string(2, 'netc');
  model.string(3, '0.1.0');
  model.message(7, (g) => {
    for (const n of nodes) g.message(1, (w) => writeNode(w, n));
    g.string(2, graph.name);
    for (const init of inits) g.message(5, (w) => writeTensor(w, init));
    const dims = (shape: Shape) => (options.dynamic ? symbolicNchw(shape, graph.inputs[0].shape) : toNchw(shape));
    for (const input of graph.inputs) g.message(11, (w) => writeValueInfo(w, input.id, dims(input.shape)));
    graph.outputs.forEach((o) => g.message(12, (w) => writeValueInfo(w, o.name, dims(o.shape))));
  });
  model.message(8, (w) => w.string(1, '').int(2, 13));
  return model.finish();
}


function toNchw(s: Shape): number[] {
  return s.length === 4 ? [s[0], s[3], s[1], s[2]] : s;
}

/** NCHW dims with symbolic batch, height and width: an image output's sides are named by
 *  their ratio to the input's ('height/2'); other dims stay fixed. */
function symbolicNchw(s: Shape, input: Shape): (number | string)[] {
  if (s.length !== 4) return ['batch', ...s.slice(1)];
  const side = (name: string, size: number, inputSize: number) => {
    const ratio = inputSize / size;
    return ratio === 1 ? name : Number.isInteger(ratio) ? `${name}/${ratio}` : `${name}*${size / inputSize}`;
  };
  return ['batch', s[3], side('height', s[1], input[1]), side('width', s[2], input[2])];
}

function hwioToOihw(data: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
    out[((o * ci + i) * kh + y) * kw + x] = data[((y * kw + x) * ci + i) * co + o];
  }
  return out;
}

interface Builder {
  add: (op: string, inputs: string[], output: string, attrs?: Record<string, AttrValue>) => string;
  fresh: (base: string) => string;
  int64s: (base: string, values: number[]) => string;
  inits: Initializer[];
}

/** Symmetric ('reflect' in scipy) padding by slicing mirrored edges, separable Gaussian
 *  as two depthwise convs, then a 2x2 average pool. */
function pyramidDown(x: string, output: string, channels: number, a: PyramidDownAttrs, b: Builder): void {
  const r = a.radius;
  const mirror = (input: string, axis: number): string => {
    const head = b.add('Slice', [input, b.int64s('starts', [r - 1]), b.int64s('ends', [-Number.MAX_SAFE_INTEGER]), b.int64s('axes', [axis]), b.int64s('steps', [-1])], b.fresh('head'));
    const tail = b.add('Slice', [input, b.int64s('starts', [-1]), b.int64s('ends', [-(r + 1)]), b.int64s('axes', [axis]), b.int64s('steps', [-1])], b.fresh('tail'));
    return b.add('Concat', [head, input, tail], b.fresh('padded'), { axis });
  };
  const taps = gaussianTaps(a.sigma, r);
  const kernel = (dims: number[]) => {
    const name = b.fresh('gaussian');
    const data = new Float32Array(channels * taps.length);
    for (let c = 0; c < channels; c++) data.set(taps, c * taps.length);
    b.inits.push({ name, dims, data });
    return name;
  };
  const padded = mirror(mirror(x, 2), 3);
  const vertical = b.add('Conv', [padded, kernel([channels, 1, 2 * r + 1, 1])], b.fresh('blur_v'), { group: channels, kernel_shape: [2 * r + 1, 1] });
  const blurred = b.add('Conv', [vertical, kernel([channels, 1, 1, 2 * r + 1])], b.fresh('blur'), { group: channels, kernel_shape: [1, 2 * r + 1] });
  b.add('AveragePool', [blurred], output, { kernel_shape: [2, 2], strides: [2, 2] });
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.op);
  for (const [name, value] of Object.entries(n.attrs ?? {})) {
    w.message(5, (a) => {
      a.string(1, name);
      if (typeof value === 'number') a.int(3, value).int(20, ATTR.INT);
      else if (typeof value === 'string') a.bytes(4, new TextEncoder().encode(value)).int(20, ATTR.STRING);
      else if (Array.isArray(value)) { for (const v of value) a.int(8, v); a.int(20, ATTR.INTS); }
      else a.float(2, value.float).int(20, ATTR.FLOAT);
    });
  }
}

function writeTensor(w: ProtoWriter, t: Initializer): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.data instanceof BigInt64Array ? INT64 : FLOAT);
  w.string(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function writeValueInfo(w: ProtoWriter, name: string, shape: (number | string)[]): void {
  w.string(1, name);
  w.message(2, (type) => type.message(1, (tensor) => {
    tensor.int(1, FLOAT);
    // TensorShapeProto.Dimension: dim_value (1) or dim_param (2, a symbol)
    tensor.message(2, (s) => { for (const d of shape) s.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d))); });
  }));
}
