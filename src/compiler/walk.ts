// Walking a graph with repeat nodes expanded, and the naming of their parameters: the one
// place that knows that iteration i of a repeat with paramPrefix P owns `${P}.${i}/${name}`
// (nested repeats compose the same way). The runtime executes repeats without expanding
// them but names their parameters with these functions; exporters expand them.
import type { Graph, Node, ParamSpec } from './ir.js';

/** Maps names relative to a (repeat-body) graph to full names. */
export type ParamScope = (relativeName: string) => string;
export const rootScope: ParamScope = (name) => name;

export function iterationParamName(paramPrefix: string, iteration: number, name: string): string {
  return `${paramPrefix}.${iteration}/${name}`;
}

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

export interface ParamInfo {
  /** Full name, as used in checkpoints and exports. */
  name: string;
  shape: number[];
  init: ParamSpec['init'];
}

/** All parameters of a graph, in execution order, with full names. */
export function listParams(graph: Graph): ParamInfo[] {
  const params: ParamInfo[] = [];
  for (const { node, scope } of walkNodes(graph)) {
    for (const spec of node.params) params.push({ name: scope(spec.name), shape: spec.shape, init: spec.init });
  }
  return params;
}

export interface ExpandedNode {
  node: Node;
  /** Input value names after expansion (unique across iterations). */
  inputs: string[];
  output: string;
  /** The node's parameters with full names. */
  params: ParamSpec[];
}

/** The graph as a flat list of nodes, every repeat iteration a copy with its own value
 *  names and parameters; `outputs` names the graph outputs after expansion. */
export function expandGraph(graph: Graph): { nodes: ExpandedNode[]; outputs: string[] } {
  const out: ExpandedNode[] = [];
  const walk = (g: Graph, rename: Map<string, string>, scope: ParamScope, tag: string) => {
    const name = (id: string) => rename.get(id) ?? `${tag}${id}`;
    for (const node of g.nodes) {
      if (node.repeat) {
        const { count, body } = node.repeat;
        let current = name(node.inputs[0]);
        for (let i = 0; i < count; i++) {
          const inner = new Map([[body.inputs[0].id, current]]);
          const innerTag = `${tag}${node.id}.${i}.`;
          walk(body, inner, iterationScope(scope, node, i), innerTag);
          current = inner.get(body.outputs[0].id) ?? `${innerTag}${body.outputs[0].id}`;
        }
        rename.set(node.id, current);
        continue;
      }
      const output = `${tag}${node.id}`;
      out.push({ node, inputs: node.inputs.map(name), output, params: node.params.map((p) => ({ ...p, name: scope(p.name) })) });
      rename.set(node.id, output);
    }
  };
  const rename = new Map(graph.inputs.map((i) => [i.id, i.id]));
  walk(graph, rename, rootScope, '');
  return { nodes: out, outputs: graph.outputs.map((o) => rename.get(o.id) ?? o.id) };
}
