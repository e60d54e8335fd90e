// Parameters of a graph as tfjs variables. Their names and initial values are the
// compiler's (src/compiler/walk.ts: repeat naming; src/compiler/init.ts: PyTorch-default
// initialization from a seeded per-name stream), so checkpoints, imports and exports agree.
import type { Graph, Node, ParamSpec } from '../compiler/ir.js';
import { initialValues } from '../compiler/init.js';
import { listParams } from '../compiler/walk.js';
import { tf } from './tf.js';

export { initialValues, mulberry32 } from '../compiler/init.js';
export { iterationParamName, iterationScope, listParams, rootScope, walkNodes, type ParamInfo, type ParamScope } from '../compiler/walk.js';

export type ParamMap = Map<string, tf.Variable>;

/** A float32 array with its shape, kept on the host (checkpoints, imports). */
export interface HostArray {
  shape: number[];
  data: Float32Array;
}

/** The weight and bias of a conv2d or dense node (ops.ts's 'weight' and 'bias', here under
 *  their full names, e.g. 'ResBlock.0/ResBlock/conv1.weight'). */
export function weightAndBias(node: Node): { weight: ParamSpec; bias?: ParamSpec } {
  const named = (suffix: string) => node.params.find((p) => p.name.endsWith(`.${suffix}`));
  const weight = named('weight');
  const bias = named('bias');
  if (!weight) throw new Error(`node '${node.id}' (${node.op}) has no weight parameter`);
  return { weight, bias };
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
