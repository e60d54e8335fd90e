// Schedule pass: fuse a conv with the residual add and the activation that consume it
// alone, so the lowering can run conv + bias + add + activation as one kernel.
// Unfused IR is equally valid; exporters and the cost model read either.
import type { Conv2dAttrs, Graph, Node } from './ir.js';

export function fuseGraph(graph: Graph): Graph {
  const nodes = graph.nodes.map((n) => (n.repeat ? { ...n, repeat: { ...n.repeat, body: fuseGraph(n.repeat.body) } } : { ...n }));
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of graph.outputs) uses.set(o.id, (uses.get(o.id) ?? 0) + 1);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const consumer = (id: string): Node | undefined => (uses.get(id) === 1 ? nodes.find((n) => n.inputs.includes(id)) : undefined);
  const removed = new Set<string>();
  /** Replace every use of `from` by `to` (the fused node takes over the consumer's id). */
  const absorb = (conv: Node, consumerNode: Node) => {
    removed.add(conv.id);
    consumerNode.op = 'conv2d';
    consumerNode.params = conv.params;
    consumerNode.loc = conv.loc;
    consumerNode.scope = conv.scope;
  };
  for (const node of nodes) {
    if (node.op !== 'conv2d' || removed.has(node.id)) continue;
    let conv = node;
    const attrs = { ...(conv.attrs as unknown as Conv2dAttrs) };
    let inputs = [...conv.inputs];
    const add = consumer(conv.id);
    if (add?.op === 'add' && !attrs.residual && !attrs.activation) {
      const other = add.inputs[0] === conv.id ? add.inputs[1] : add.inputs[0];
      if (other !== conv.id) {
        attrs.residual = other;
        inputs = [...inputs, other];
        absorb(conv, add);
        conv = add;
      }
    }
    const act = consumer(conv.id);
    if (act && (act.op === 'relu' || act.op === 'leaky_relu') && !attrs.activation) {
      attrs.activation = act.op;
      if (act.op === 'leaky_relu') attrs.alpha = (act.attrs as { alpha: number }).alpha;
      absorb(conv, act);
      conv = act;
    }
    conv.attrs = attrs as unknown as Record<string, unknown>;
    conv.inputs = inputs;
    byId.set(conv.id, conv);
  }
  return { ...graph, nodes: nodes.filter((n) => !removed.has(n.id)) };
}
