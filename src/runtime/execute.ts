// Runs an IR graph on tensors. Each intermediate value is freed as soon as its last consumer
// has run (so inference memory is a few activations, not the whole graph); under a gradient
// tape tfjs keeps its own copies of what the backward pass needs, so this is also safe for
// training. The caller owns the returned tensors; inputs and params are never disposed.
import type { Graph, Node } from '../compiler/ir.js';
import { lowerNode } from './lower.js';
import { iterationScope, rootScope, type ParamMap, type ParamScope } from './params.js';
import { tf } from './tf.js';
import { executionTracer, type ExecutionTracer } from './trace.js';

/** Anything that maps full parameter names to tensors (a ParamMap of variables works). */
export type ParamSource = Pick<ParamMap, 'get'> | Map<string, tf.Tensor>;

function lookup(params: ParamSource, scope: ParamScope, node: Node) {
  return (relativeName: string): tf.Tensor => {
    const name = scope(relativeName);
    const value = params.get(name);
    if (!value) throw new Error(`parameter '${name}' of node '${node.id}' (${node.scope}) is not loaded`);
    return value;
  };
}

function runRepeat(node: Node, input: tf.Tensor, params: ParamSource, scope: ParamScope, tracer: ExecutionTracer | undefined): tf.Tensor {
  const { count, body } = node.repeat!;
  let value = input;
  for (let i = 0; i < count; i++) {
    const [next] = runScoped(body, [value], params, iterationScope(scope, node, i), tracer);
    if (value !== input) value.dispose();
    value = next;
  }
  return value === input ? input.clone() : value;
}

function runScoped(graph: Graph, inputs: tf.Tensor[], params: ParamSource, scope: ParamScope, tracer: ExecutionTracer | undefined): tf.Tensor[] {
  if (inputs.length !== graph.inputs.length) {
    throw new Error(`graph '${graph.name}' takes ${graph.inputs.length} inputs, got ${inputs.length}`);
  }
  const values = new Map<string, tf.Tensor>();
  const borrowed = new Set<tf.Tensor>(inputs);
  graph.inputs.forEach((input, i) => values.set(input.id, inputs[i]));

  // Remaining uses of each value: by later nodes and by the graph outputs.
  const uses = new Map<string, number>();
  const use = (id: string) => uses.set(id, (uses.get(id) ?? 0) + 1);
  for (const node of graph.nodes) node.inputs.forEach(use);
  graph.outputs.forEach((output) => use(output.id));

  const release = (id: string) => {
    const left = (uses.get(id) ?? 0) - 1;
    uses.set(id, left);
    const value = values.get(id);
    if (left === 0 && value && !borrowed.has(value)) {
      value.dispose();
      values.delete(id);
    }
  };

  for (const node of graph.nodes) {
    const args = node.inputs.map((id) => {
      const value = values.get(id);
      if (!value) throw new Error(`node '${node.id}' reads '${id}', which has no value (graph '${graph.name}')`);
      return value;
    });
    const lower = () => tf.tidy(() => lowerNode(node, args, lookup(params, scope, node)));
    const output =
      node.op === 'repeat'
        ? runRepeat(node, args[0], params, scope, tracer)
        : tracer ? tracer.node(node, args, lower) : lower();
    values.set(node.id, output);
    if ((uses.get(node.id) ?? 0) === 0) release(node.id); // dead value: free now
    node.inputs.forEach(release);
  }

  const results = graph.outputs.map((output) => {
    const value = values.get(output.id)!;
    const left = (uses.get(output.id) ?? 0) - 1;
    uses.set(output.id, left);
    // Hand over our own tensor once; inputs and repeated outputs are returned as clones.
    if (left === 0 && !borrowed.has(value)) return value;
    return value.clone();
  });
  return results;
}

/** Runs `graph` on `inputs` (in graph.inputs order) with full-named params; returns the
 *  outputs in graph.outputs order. NETC_DEBUG=3 traces every node (trace.ts). */
export function runGraph(graph: Graph, inputs: tf.Tensor[], params: ParamSource): tf.Tensor[] {
  return runScoped(graph, inputs, params, rootScope, executionTracer());
}
