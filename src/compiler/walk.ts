// Walks a graph with repeat nodes expanded, giving each node its full parameter names.
// Exporters use it; the runtime executes repeats without expanding them.
import type { Graph, Node, ParamSpec } from './ir.js';

export interface ExpandedNode {
  node: Node;
  /** Input value names after expansion. */
  inputs: string[];
  output: string;
  params: ParamSpec[];
  /** Enclosing repeat iterations, outermost first: e.g. ['scale2/ScaleNet/ResBlock.3']. */
  iterations: string[];
}

export function expandGraph(graph: Graph): { nodes: ExpandedNode[]; outputs: string[] } {
  const out: ExpandedNode[] = [];
  const walk = (g: Graph, rename: Map<string, string>, prefix: string, iterations: string[], tag: string) => {
    const name = (id: string) => rename.get(id) ?? `${tag}${id}`;
    for (const node of g.nodes) {
      if (node.repeat) {
        const { count, body, paramPrefix } = node.repeat;
        let current = name(node.inputs[0]);
        for (let i = 0; i < count; i++) {
          const iter = `${prefix}${paramPrefix}.${i}/`;
          const inner = new Map([[body.inputs[0].id, current]]);
          const innerTag = `${tag}${node.id}.${i}.`;
          walk(body, inner, iter, [...iterations, iter.slice(0, -1)], innerTag);
          current = inner.get(body.outputs[0].id) ?? `${innerTag}${body.outputs[0].id}`;
        }
        rename.set(node.id, current);
        continue;
      }
      const output = `${tag}${node.id}`;
      out.push({ node, inputs: node.inputs.map(name), output, params: node.params.map((p) => ({ ...p, name: prefix + p.name })), iterations });
      rename.set(node.id, output);
    }
  };
  const rename = new Map(graph.inputs.map((i) => [i.id, i.id]));
  walk(graph, rename, '', [], '');
  return { nodes: out, outputs: graph.outputs.map((o) => rename.get(o.id) ?? o.id) };
}

/** Every parameter of a graph with its full name, repeats expanded. */
export function allParams(graph: Graph): ParamSpec[] {
  return expandGraph(graph).nodes.flatMap((n) => n.params);
}
