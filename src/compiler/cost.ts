// Cost model: parameters, FLOPs, peak activation memory and receptive fields, read from
// the op table (ops.ts) for every node, repeat bodies counted `count` times.
import type { Graph, Node, Shape } from './ir.js';
import { opDef } from './ops.js';

export interface CostRow {
  /** Human scope, e.g. 'scale 2 / ScaleNet / ResBlock x 19'. */
  scope: string;
  depth: number;
  params: number;
  flops: number;
  convs: number;
}

export interface GraphCost {
  params: number;
  flops: number;
  convs: number;
  /** Peak bytes of simultaneously live float32 activations, sequential inference, batch 1. */
  peakActivationBytes: number;
  /** Receptive field (input pixels, one side) of each output; Infinity = the whole image. */
  receptiveField: Record<string, number>;
  rows: CostRow[];
}

const BYTES = 4;
const elements = (s: Shape) => s.reduce((p, d) => p * d, 1);

function nodeInputShapes(graph: Graph, node: Node): Shape[] {
  return node.inputs.map((id) => graph.nodes.find((n) => n.id === id)?.shape ?? graph.inputs.find((i) => i.id === id)!.shape);
}

interface Totals { params: number; flops: number; convs: number }

function nodeTotals(graph: Graph, node: Node): Totals {
  if (node.repeat) {
    const body = graphTotals(node.repeat.body);
    return { params: body.params * node.repeat.count, flops: body.flops * node.repeat.count, convs: body.convs * node.repeat.count };
  }
  const def = opDef(node.op);
  const inputs = nodeInputShapes(graph, node);
  return {
    params: node.params.reduce((sum, p) => sum + elements(p.shape), 0),
    flops: def.flops(inputs, node.shape, node.attrs as never),
    convs: node.op === 'conv2d' ? 1 : 0,
  };
}

function graphTotals(graph: Graph): Totals {
  const t: Totals = { params: 0, flops: 0, convs: 0 };
  for (const n of graph.nodes) {
    const x = nodeTotals(graph, n);
    t.params += x.params;
    t.flops += x.flops;
    t.convs += x.convs;
  }
  return t;
}

/** Peak live bytes while running the graph node by node (inputs live throughout). */
function peakBytes(graph: Graph): number {
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((id) => lastUse.set(id, i)));
  for (const o of graph.outputs) lastUse.set(o.id, Infinity);
  const live = new Map<string, number>(graph.inputs.map((i) => [i.id, elements(i.shape) * BYTES]));
  let current = [...live.values()].reduce((a, b) => a + b, 0);
  let peak = current;
  graph.nodes.forEach((n, i) => {
    const out = elements(n.shape) * BYTES;
    // A repeat holds its input, its body's working set and its output at once.
    const working = n.repeat ? peakBytes(n.repeat.body) - elements(n.repeat.body.inputs[0].shape) * BYTES : 0;
    peak = Math.max(peak, current + out + working);
    live.set(n.id, out);
    current += out;
    for (const id of n.inputs) {
      if (lastUse.get(id) === i && live.has(id) && !graph.inputs.some((x) => x.id === id)) {
        current -= live.get(id)!;
        live.delete(id);
      }
    }
  });
  return peak;
}

interface Field { rf: number; jump: number }

/** Receptive field of every node, in pixels of the graph input, starting from `inputs`. */
function fields(graph: Graph, inputs: Map<string, Field>): Map<string, Field> {
  const out = new Map(inputs);
  for (const n of graph.nodes) {
    const ins = n.inputs.map((id) => out.get(id) ?? { rf: 1, jump: 1 });
    const widest = ins.reduce((a, b) => (b.rf > a.rf ? b : a), ins[0] ?? { rf: 1, jump: 1 });
    if (n.repeat) {
      let f = widest;
      const bodyInput = n.repeat.body.inputs[0].id;
      const bodyOutput = n.repeat.body.outputs[0].id;
      for (let i = 0; i < n.repeat.count; i++) f = fields(n.repeat.body, new Map([[bodyInput, f]])).get(bodyOutput)!;
      out.set(n.id, f);
      continue;
    }
    const { kernel, stride } = opDef(n.op).field(n.attrs as never);
    out.set(n.id, { rf: widest.rf + (kernel - 1) * widest.jump, jump: widest.jump * stride });
  }
  return out;
}

export function graphCost(graph: Graph): GraphCost {
  const totals = graphTotals(graph);
  const f = fields(graph, new Map(graph.inputs.map((i) => [i.id, { rf: 1, jump: 1 }])));
  const receptiveField = Object.fromEntries(graph.outputs.map((o) => [o.name, f.get(o.id)!.rf]));
  const rows = new Map<string, CostRow>();
  for (const n of graph.nodes) {
    const t = nodeTotals(graph, n);
    const parts = n.scope.split(' / ').slice(1);
    for (let depth = 1; depth <= Math.min(parts.length, 3); depth++) {
      const scope = parts.slice(0, depth).join(' / ');
      const row = rows.get(scope) ?? { scope, depth, params: 0, flops: 0, convs: 0 };
      row.params += t.params;
      row.flops += t.flops;
      row.convs += t.convs;
      rows.set(scope, row);
    }
  }
  return { ...totals, peakActivationBytes: peakBytes(graph), receptiveField, rows: [...rows.values()] };
}

/** FLOPs of one training step of the graph, counted as PyTorch's peer counts them
 *  (../shared/peer/bench.py, msresnet_train_flops): every op's forward, once more for the
 *  gradient of each parameter-owning op's weights, and once more for the gradient of each
 *  op's input where that input depends on a parameter (the first conv, which sees only the
 *  image, needs none). Loss and optimizer arithmetic are not counted. */
export function trainingFlops(graph: Graph): number {
  return trainingTotals(graph, new Set()).flops;
}

function trainingTotals(graph: Graph, carryingInputs: Set<string>): { flops: number; carries: boolean } {
  const carries = new Set(graph.inputs.filter((i) => carryingInputs.has(i.id)).map((i) => i.id));
  let flops = 0;
  for (const n of graph.nodes) {
    const inputCarries = n.inputs.some((id) => carries.has(id));
    if (n.repeat) {
      // The first iteration sees the repeat's input; every later one sees the previous
      // iteration's output, which carries a gradient once any iteration did.
      const { body, count } = n.repeat;
      if (count === 0) continue;
      const carrying = (yes: boolean) => new Set(yes ? body.inputs.map((x) => x.id) : []);
      const first = trainingTotals(body, carrying(inputCarries));
      const later = inputCarries || !first.carries ? first : trainingTotals(body, carrying(true));
      flops += first.flops + later.flops * (count - 1);
      if (inputCarries || first.carries) carries.add(n.id);
      continue;
    }
    const forward = nodeTotals(graph, n).flops;
    const owns = n.params.length > 0;
    flops += forward + (owns ? forward : 0) + (inputCarries ? forward : 0);
    if (owns || inputCarries) carries.add(n.id);
  }
  return { flops, carries: graph.outputs.some((o) => carries.has(o.id)) };
}
