// Parameters of a graph: their full names, shapes and PyTorch-default initialization.
//
// Naming (the single place that knows it): a node's ParamSpec names are full paths from the
// graph root, except inside a `repeat` body, where they are relative to the iteration:
// iteration i of a repeat with paramPrefix P owns `${P}.${i}/${name}` (nested repeats
// compose the same way).
//
// Initialization = PyTorch's defaults for Conv2d / Linear:
//   weight: kaiming_uniform_(a = sqrt(5))  =>  U(-b, b) with b = gain * sqrt(3 / fan_in),
//           gain = sqrt(2 / (1 + a^2)) = sqrt(1/3)  =>  b = 1 / sqrt(fan_in)
//   bias:   U(-1/sqrt(fan_in), 1/sqrt(fan_in))
// fan_in = in_channels * kh * kw (conv) or in_features (dense), given by the compiler.
// The random numbers come from our own seeded generator (not tfjs's), so they are the same
// on every backend; each parameter's stream is seeded from (seed, full name), so adding a
// layer does not change the initial values of the others. PyTorch's exact random values
// are not reproduced (its generator is not portable); only the distribution is.
import type { Graph, Node, ParamSpec } from '../compiler/ir.js';
import { tf } from './tf.js';

export type ParamMap = Map<string, tf.Variable>;

/** A float32 array with its shape, kept on the host (checkpoints, imports). */
export interface HostArray {
  shape: number[];
  data: Float32Array;
}

export interface ParamInfo {
  /** Full name, as used in checkpoints and in ParamMap. */
  name: string;
  shape: number[];
  init: ParamSpec['init'];
}

/** Full name of a repeat iteration's parameter. */
export function iterationParamName(paramPrefix: string, iteration: number, name: string): string {
  return `${paramPrefix}.${iteration}/${name}`;
}

/** Maps names relative to a (repeat-body) graph to full names. */
export type ParamScope = (relativeName: string) => string;
export const rootScope: ParamScope = (name) => name;

export function iterationScope(outer: ParamScope, node: Node, iteration: number): ParamScope {
  const prefix = node.repeat!.paramPrefix;
  return (name) => outer(iterationParamName(prefix, iteration, name));
}

/** Every node of the graph in execution order, repeat bodies expanded, with its scope. */
export function* walkNodes(graph: Graph, scope: ParamScope = rootScope): Generator<{ node: Node; scope: ParamScope }> {
  for (const node of graph.nodes) {
    if (node.op === 'repeat' && node.repeat) {
      for (let i = 0; i < node.repeat.count; i++) yield* walkNodes(node.repeat.body, iterationScope(scope, node, i));
    } else {
      yield { node, scope };
    }
  }
}

/** All parameters of a graph, in execution order, with full names. */
export function listParams(graph: Graph): ParamInfo[] {
  const params: ParamInfo[] = [];
  for (const { node, scope } of walkNodes(graph)) {
    for (const spec of node.params) params.push({ name: scope(spec.name), shape: spec.shape, init: spec.init });
  }
  return params;
}

/** The weight and bias of a conv2d or dense node (by init kind, falling back to order). */
export function weightAndBias(node: Node): { weight: ParamSpec; bias?: ParamSpec } {
  const weight = node.params.find((p) => p.init.kind === 'kaiming_uniform') ?? node.params[0];
  const bias = node.params.find((p) => p.init.kind === 'bias_uniform' && p !== weight);
  if (!weight) throw new Error(`node '${node.id}' (${node.op}) has no weight parameter`);
  return { weight, bias };
}

/** FNV-1a hash of a string, mixed with the seed: the per-parameter stream seed. */
function streamSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

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

/** The initial values of one parameter (see the header comment). */
export function initialValues(param: ParamInfo, seed: number): Float32Array {
  const size = param.shape.reduce((a, b) => a * b, 1);
  const bound = 1 / Math.sqrt(Math.max(1, param.init.fanIn));
  const random = mulberry32(streamSeed(seed, param.name));
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = (2 * random() - 1) * bound;
  return values;
}

function makeVariable(data: Float32Array, shape: number[]): tf.Variable {
  const initial = tf.tensor(data, shape, 'float32');
  const variable = tf.variable(initial, true);
  initial.dispose(); // the variable holds its own reference to the data
  return variable;
}

/** Fresh trainable variables for every parameter of the graph. */
export function createParams(graph: Graph, seed: number): ParamMap {
  const params: ParamMap = new Map();
  for (const info of listParams(graph)) {
    params.set(info.name, makeVariable(initialValues(info, seed), info.shape));
  }
  return params;
}

/** Variables from named arrays (e.g. a loaded checkpoint); names must already be checked. */
export function paramsFromArrays(arrays: Map<string, HostArray>): ParamMap {
  const params: ParamMap = new Map();
  for (const [name, { shape, data }] of arrays) params.set(name, makeVariable(data, shape));
  return params;
}

export function disposeParams(params: ParamMap): void {
  for (const variable of params.values()) variable.dispose();
  params.clear();
}
