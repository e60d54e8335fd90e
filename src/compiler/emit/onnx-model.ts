// The ONNX graph under construction and its serialization (ModelProto, opset 13): nodes,
// initializers, fresh value names. What each IR op becomes is in onnx.ts.
import type { Shape } from '../ir.js';
import { ProtoWriter } from './protobuf.js';

const FLOAT = 1;
const INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

export type AttrValue = number | string | number[] | { float: number };

interface OnnxNode { op: string; inputs: string[]; outputs: string[]; name: string; attrs?: Record<string, AttrValue> }
export interface Initializer { name: string; dims: number[]; data: Float32Array | BigInt64Array }

export class OnnxGraph {
  readonly nodes: OnnxNode[] = [];
  readonly inits: Initializer[] = [];
  private counter = 0;

  /** A value name not used before, `${base}_${n}`. */
  fresh(base: string): string {
    return `${base}_${this.counter++}`;
  }

  /** Adds a node writing `output`; returns `output`. */
  add(op: string, inputs: string[], output: string, attrs?: Record<string, AttrValue>): string {
    this.nodes.push({ op, inputs, outputs: [output], name: this.fresh(op), attrs });
    return output;
  }

  initializer(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    this.inits.push({ name, dims, data });
    return name;
  }

  /** A float initializer of the given dims (a scalar when dims is empty). */
  floats(base: string, values: ArrayLike<number>, dims: number[] = []): string {
    return this.initializer(this.fresh(base), dims, Float32Array.from(values));
  }

  /** A 1-d int64 initializer. */
  int64s(base: string, values: number[]): string {
    return this.initializer(this.fresh(base), [values.length], BigInt64Array.from(values.map(BigInt)));
  }
}

/** The ModelProto bytes of a finished graph. */
export function serializeModel(graph: OnnxGraph, name: string, inputs: { name: string; dims: (number | string)[] }[], outputs: { name: string; dims: (number | string)[] }[]): Uint8Array {
  const model = new ProtoWriter();
  model.int(1, 8); // ir_version
  model.string(2, 'netc');
  model.string(3, '0.1.0');
  model.message(7, (g) => {
    for (const n of graph.nodes) g.message(1, (w) => writeNode(w, n));
    g.string(2, name);
    for (const init of graph.inits) g.message(5, (w) => writeTensor(w, init));
    for (const input of inputs) g.message(11, (w) => writeValueInfo(w, input.name, input.dims));
    for (const output of outputs) g.message(12, (w) => writeValueInfo(w, output.name, output.dims));
  });
  model.message(8, (w) => w.string(1, '').int(2, 13));
  return model.finish();
}

export function toNchw(s: Shape): number[] {
  return s.length === 4 ? [s[0], s[3], s[1], s[2]] : s;
}

/** NCHW dims with symbolic batch, height and width: an image output's sides are named by
 *  their ratio to the input's ('height/2'); other dims stay fixed. */
export function symbolicNchw(s: Shape, input: Shape): (number | string)[] {
  if (s.length !== 4) return ['batch', ...s.slice(1)];
  const side = (name: string, size: number, inputSize: number) => {
    const ratio = inputSize / size;
    return ratio === 1 ? name : Number.isInteger(ratio) ? `${name}/${ratio}` : `${name}*${size / inputSize}`;
  };
  return ['batch', s[3], side('height', s[1], input[1]), side('width', s[2], input[2])];
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
