// What a compiled program costs, as one plain object: the numbers behind `netc compile`'s
// table and --json, and the playground page's cost panel (no Node-only modules).
import { graphCost, type GraphCost } from './cost.js';
import type { Program } from './ir.js';

export interface Summary {
  model: string;
  file: string;
  input: number[];
  params: number;
  flops: number;
  convs: number;
  scales: number;
  outputs: { name: string; shape: number[] }[];
  receptiveField: Record<string, number | null>;
  peakActivationBytes: number;
  discriminator?: { model: string; params: number; flops: number; convs: number };
  constants: Record<string, number>;
  rows: GraphCost['rows'];
  train?: Program['train'];
  loss?: string[];
}

export function summarize(prog: Program): Summary {
  const g = prog.models[prog.generator];
  const cost = graphCost(g);
  const d = prog.discriminator ? prog.models[prog.discriminator] : undefined;
  const dc = d ? graphCost(d) : undefined;
  return {
    model: prog.generator,
    file: prog.file,
    input: g.inputs[0].shape,
    params: cost.params,
    flops: cost.flops,
    convs: cost.convs,
    scales: prog.constants.scales ?? g.outputs.length,
    outputs: g.outputs.map((o) => ({ name: o.name, shape: o.shape })),
    receptiveField: Object.fromEntries(Object.entries(cost.receptiveField).map(([k, v]) => [k, Number.isFinite(v) ? v : null])),
    peakActivationBytes: cost.peakActivationBytes,
    discriminator: d && dc ? { model: d.name, params: dc.params, flops: dc.flops, convs: dc.convs } : undefined,
    constants: prog.constants,
    rows: cost.rows,
    train: prog.train,
    loss: prog.loss?.terms.map((t) => t.name),
  };
}

/** Number formats of the cost table (CLI and page alike). */
export const int = (n: number) => n.toLocaleString('en-US');
export const gflop = (n: number) => (n / 1e9).toFixed(2);
export const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
export const shape = (s: number[]) => (s.length === 4 ? `${s[1]}x${s[2]}x${s[3]}` : s.slice(1).join('x'));
